import { credentialCheckFailure, requireBoth, withDeadline } from '../../../shared/connections/credentials';
import { newWebhookSigningSecret, webhookUrl } from '../../../shared/connections/webhook-policy';
import { ConnectorBugError, RetryableUpstreamError, UpstreamUnavailableError, UserActionRequiredError } from '../../../shared/domain/errors';
import { SequenceCredentialsRejectedError, SequenceNotFoundError } from '../../../shared/sequence';
import { verifySignature, signatureHeader } from '../../../shared/webhooks/signature';

const seqCtx = { baseUrl: 'https://eu.sequencehq.com/api', environment: 'production' as const };
const sphCtx = { baseUrl: 'https://server.getsphere.com' };

describe('credentialCheckFailure', () => {
  it('401 from Sequence → sequence_credentials_rejected naming the environment pairing', () => {
    const e = credentialCheckFailure('sequence', new SequenceCredentialsRejectedError('x', { upstream: { service: 'sequence', status: 401 } }), seqCtx);
    expect(e).toBeInstanceOf(UserActionRequiredError);
    expect(e.code).toBe('sequence_credentials_rejected');
    expect(e.message).toBe('Sequence (production, https://eu.sequencehq.com/api) rejected the API client id/secret (HTTP 401)');
    expect(e.fix).toMatch(/a sandbox key does not work against production/);
    expect(e.upstream).toEqual({ service: 'sequence' });
  });

  it('401 from Sphere → sphere_credentials_rejected', () => {
    const e = credentialCheckFailure('sphere', new UserActionRequiredError('sphere_credentials_rejected', 'no', { fix: 'f', upstream: { service: 'sphere', status: 403 } }), sphCtx);
    expect(e.code).toBe('sphere_credentials_rejected');
    expect(e.message).toContain('HTTP 403');
  });

  it.each([
    ['refused', new UpstreamUnavailableError('upstream_unreachable', 'sequence could not be reached for GET /x: fetch failed')],
    ['timeout', new UpstreamUnavailableError('upstream_timeout', 'slow')],
    ['our deadline', new RetryableUpstreamError('upstream_timeout', 'Sequence did not answer within 10 ms')],
  ])('%s → <side>_unreachable, a user error (422)', (_label, error) => {
    const e = credentialCheckFailure('sequence', error, seqCtx);
    expect(e.kind).toBe('user');
    expect(e.code).toBe('sequence_unreachable');
    expect(e.fix).toMatch(/base URL/);
  });

  it('5xx/429 after retries → <side>_unavailable, retryable (503) and keeps Retry-After', () => {
    const e = credentialCheckFailure('sphere', new RetryableUpstreamError('rate_limited', 'slow down', { retryAfterMs: 3000 }), sphCtx);
    expect(e.kind).toBe('retryable');
    expect(e.code).toBe('sphere_unavailable');
    expect(e.retryAfterMs).toBe(3000);
  });

  it.each([
    ['404', new SequenceNotFoundError('nope', { upstream: { service: 'sequence', status: 404 } })],
    ['malformed body', new ConnectorBugError('upstream_malformed_response', 'html')],
  ])('%s → sequence_unexpected_response (check the base URL)', (_label, error) => {
    const e = credentialCheckFailure('sequence', error, seqCtx);
    expect(e.code).toBe('sequence_unexpected_response');
    expect(e.fix).toMatch(/ending in \/api/);
  });
});

describe('requireBoth', () => {
  const ok = { ok: true as const, value: { sequenceAccountId: 'acc', companyName: 'Acme' } };
  const sphereOk = { ok: true as const, value: undefined };
  const rejected = (side: 'sequence' | 'sphere') => ({ ok: false as const, error: new UserActionRequiredError(`${side}_credentials_rejected`, `${side} said no`, { fix: 'fix it' }) });
  const down = { ok: false as const, error: new RetryableUpstreamError('sequence_unavailable', 'down') };

  it('returns the Sequence account when both pass', () => {
    expect(requireBoth({ sequence: ok, sphere: sphereOk })).toEqual(ok.value);
  });

  it('throws the failing side', () => {
    expect(() => requireBoth({ sequence: ok, sphere: rejected('sphere') })).toThrow(expect.objectContaining({ code: 'sphere_credentials_rejected' }));
  });

  it('prefers the actionable (user) failure and mentions the other', () => {
    let thrown: unknown;
    try {
      requireBoth({ sequence: down, sphere: rejected('sphere') });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UserActionRequiredError);
    expect(thrown).toMatchObject({ code: 'sphere_credentials_rejected', message: 'sphere said no; also down (sequence_unavailable)', fix: 'fix it' });
  });
});

describe('withDeadline', () => {
  it('passes the result through', async () => {
    await expect(withDeadline(Promise.resolve(5), 1000, 'sphere')).resolves.toBe(5);
  });

  it('rejects with upstream_timeout when the work is slower', async () => {
    const slow = new Promise((r) => setTimeout(r, 200));
    await expect(withDeadline(slow, 10, 'sphere')).rejects.toMatchObject({ code: 'upstream_timeout', kind: 'retryable' });
    await slow;
  });
});

describe('webhook policy helpers', () => {
  it('the signing secret is whsec_ + 32 random bytes (base64url), different every time, and signs/verifies', () => {
    const a = newWebhookSigningSecret();
    const b = newWebhookSigningSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.slice(6), 'base64url')).toHaveLength(32);
    expect(a).not.toBe(b);
    const body = Buffer.from('{"notificationType":"CUSTOMER_CREATED"}');
    expect(verifySignature(signatureHeader(a, body), body, [a])).toMatchObject({ ok: true });
  });

  it('the webhook URL is the public URL + /webhooks/sequence/{id}', () => {
    expect(webhookUrl('https://api.example.com/', 'conn_1')).toBe('https://api.example.com/webhooks/sequence/conn_1');
  });
});
