/**
 * The webhook-signature judgement of `sphere-connector verify` on deliveries a differently-signing
 * Sequence would send (the simulator only signs the way the connector assumes).
 */
import { signatureFinding } from '../../../shared/assumptions/checks';
import { type ReceivedWebhook } from '../../../shared/assumptions/verify-session';
import { computeSignature } from '../../../shared/webhooks/signature';

const SECRET = 'whsec_verify_unit';
const BODY = Buffer.from('{"notificationType":"CUSTOMER_UPDATED","sequenceAccountId":"acc","resourceId":"c1"}');
const NOW = 1_796_000_000_000;

const delivery = (header: string | undefined): ReceivedWebhook => ({
  headers: header === undefined ? { 'content-type': 'application/json' } : { 'sequence-signature': header },
  rawBody: BODY,
  receivedAtMs: NOW,
  answeredStatus: 200,
});

describe('signatureFinding', () => {
  it('confirms t=<unix ms>,s=<hex HMAC of "t.body"> keyed with the secret as given', () => {
    const t = NOW - 40;
    expect(signatureFinding(delivery(`t=${t},s=${computeSignature(SECRET, t, BODY)}`), SECRET)).toEqual({
      verdict: 'confirmed',
      evidence: expect.stringContaining(`t=${t} is unix milliseconds (40 ms before receipt)`),
    });
  });

  it('refutes a timestamp in seconds', () => {
    const t = Math.floor(NOW / 1000);
    expect(signatureFinding(delivery(`t=${t},s=${computeSignature(SECRET, t, BODY)}`), SECRET)).toEqual({ verdict: 'refuted', evidence: `the HMAC matches but t=${t} is unix seconds, not milliseconds` });
  });

  it('refutes an HMAC keyed differently (the secret without its whsec_ prefix)', () => {
    const t = NOW;
    const finding = signatureFinding(delivery(`t=${t},s=${computeSignature(SECRET.replace(/^whsec_/, ''), t, BODY)}`), SECRET);
    expect(finding).toEqual({ verdict: 'refuted', evidence: expect.stringContaining('(keys t, s) is not the HMAC-SHA256 of "<t>.<raw body>"') });
  });

  it('refutes another header format, and a missing header', () => {
    expect(signatureFinding(delivery(`v1=${computeSignature(SECRET, NOW, BODY)}`), SECRET)).toEqual({ verdict: 'refuted', evidence: expect.stringContaining('(keys v1) is not t=<ms>,s=<hex>') });
    expect(signatureFinding(delivery(undefined), SECRET)).toEqual({ verdict: 'refuted', evidence: 'the delivery has no sequence-signature header (headers: content-type)' });
  });

  it('calls an authentic delivery far from this clock unknown (a clock to fix), not refuted', () => {
    const t = NOW - 3_600_000;
    expect(signatureFinding(delivery(`t=${t},s=${computeSignature(SECRET, t, BODY)}`), SECRET)).toMatchObject({ verdict: 'unknown', evidence: expect.stringContaining('3600 s from this machine') });
  });
});
