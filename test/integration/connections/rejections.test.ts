/**
 * Everything POST /connections (and PATCH) must refuse, through the local front door: admin auth,
 * malformed bodies (400 naming the field), each bad-credential case (4xx naming the side and the
 * reason, nothing stored anywhere), an upstream outage (503), and a failed webhook registration
 * (201 ERROR with the reason, then fixed by PATCH).
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { type SequenceSimulator, startSequenceSimulator } from '../../../local/sequence-sim/server';
import { ADMIN_TOKEN, type ConnectStack, closedPort, startConnectStack, startSequenceProxy } from './harness';
import { connectBody } from '../../support/connections';

let stack: ConnectStack;
let productionSim: SequenceSimulator;
let proxy: Awaited<ReturnType<typeof startSequenceProxy>>;

beforeAll(async () => {
  stack = await startConnectStack();
  // A second Sequence "environment" with its own keys: a sandbox key does not work there.
  productionSim = await startSequenceSimulator({ port: 0, clientId: 'prod-client', clientSecret: 'prod-secret' });
  proxy = await startSequenceProxy(stack.sequence.url);
});

afterAll(async () => {
  await proxy?.stop();
  await productionSim?.stop();
  await stack?.stop();
});

/** What a refused connect must not leave: items of its own, a secret, a policy. (The shared upstream
 * pace items, `RATE#…`, count every call made with any credential and hold only a fingerprint.) */
async function storedState() {
  const items = await stack.runtime.dynamo.client.send(new ScanCommand({ TableName: stack.runtime.tableNames.connector }));
  const own = (items.Items ?? []).filter((item) => !String(item.PK?.S ?? '').startsWith('RATE#'));
  return { items: own.length, vault: stack.vaultFiles().length, policies: Object.keys(stack.sequence.state.policies).length };
}

describe('admin auth (bearer token locally, IAM on AWS)', () => {
  it.each([
    ['missing', null],
    ['wrong', 'not-the-token'],
  ])('%s token → 401 with the JSON error body, on every connection route', async (_label, token) => {
    for (const [method, path] of [
      ['POST', '/connections'],
      ['GET', '/connections'],
      ['GET', '/connections/conn_x'],
      ['PATCH', '/connections/conn_x'],
      ['DELETE', '/connections/conn_x'],
      ['POST', '/connections/conn_x/test'],
      ['POST', '/connections/conn_x/backfill'],
    ] as const) {
      const res = await stack.admin.withToken(token).call(method, path, method === 'POST' || method === 'PATCH' ? connectBody() : undefined);
      expect([method, path, res.status]).toEqual([method, path, 401]);
      expect(res.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    }
    expect(await storedState()).toEqual({ items: 0, vault: 0, policies: 0 });
  });

  it('the right token is accepted', async () => {
    const res = await stack.admin.withToken(ADMIN_TOKEN).call('GET', '/connections');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [] });
  });
});

describe('malformed bodies → 400 naming the field, nothing stored', () => {
  const base = connectBody();
  it.each<[string, unknown, string]>([
    ['not JSON', '{"name":', 'body'],
    ['not an object', [1, 2], 'body'],
    ['missing name', { ...base, name: undefined }, 'name'],
    ['missing sequence', { ...base, sequence: undefined }, 'sequence'],
    ['missing sequence.clientSecret', { ...base, sequence: { environment: 'sandbox', clientId: 'local-client' } }, 'sequence.clientSecret'],
    ['missing sphere.apiKey', { ...base, sphere: {} }, 'sphere.apiKey'],
    ['wrong type clientId', { ...base, sequence: { ...base.sequence, clientId: 42 } }, 'sequence.clientId'],
    ['wrong type options', { ...base, options: { calculateOnDraft: 'yes' } }, 'options.calculateOnDraft'],
    ['unknown environment', { ...base, sequence: { ...base.sequence, environment: 'staging' } }, 'sequence.environment'],
    ['bad base URL', { ...base, sphere: { ...base.sphere, baseUrl: 'not a url' } }, 'sphere.baseUrl'],
    ['taxCodes without default', { ...base, taxCodes: { byTaxCategory: {} } }, 'taxCodes.default'],
    ['missing taxCodes (no built-in default tax code)', { ...base, taxCodes: undefined }, 'taxCodes'],
    ['extra secret-looking field at the top', { ...base, password: 'hunter2-top-secret' }, 'password'],
    ['extra secret-looking field in sphere', { ...base, sphere: { ...base.sphere, apiSecret: 'sph_misplaced_value' } }, 'sphere.apiSecret'],
    ['extra secret-looking field in sequence', { ...base, sequence: { ...base.sequence, token: 'tok_misplaced_value' } }, 'sequence.token'],
  ])('%s', async (_label, body, field) => {
    const res = await stack.admin.call('POST', '/connections', body);
    expect(res.status).toBe(400);
    const error = (res.body as { error: { code: string; message: string; field?: string } }).error;
    expect(error.code).toMatch(/^invalid_(json|request)$/);
    if (error.code === 'invalid_request') expect(error.field).toBe(field);
    expect(error.message).toContain(field === 'body' ? '' : field);
    for (const secretish of ['hunter2-top-secret', 'sph_misplaced_value', 'tok_misplaced_value']) expect(res.text).not.toContain(secretish);
    expect(await storedState()).toEqual({ items: 0, vault: 0, policies: 0 });
  });

  it('PATCH bodies are checked the same way', async () => {
    const res = await stack.admin.call('PATCH', '/connections/conn_x', { sphere: { apiKey: 'k', extra: 'v' } });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'invalid_request', field: 'sphere.extra' } });
  });
});

describe('bad credentials → 422 naming the side and the reason; nothing stored', () => {
  it.each<[string, () => Promise<Record<string, unknown>>, string, RegExp]>([
    ['Sequence secret rejected', async () => connectBody({ sequence: { clientSecret: 'wrong-secret' } }), 'sequence_credentials_rejected', /Sequence \(sandbox.*rejected the API client id\/secret \(HTTP 401\)/],
    ['Sequence client id rejected', async () => connectBody({ sequence: { clientId: 'nobody' } }), 'sequence_credentials_rejected', /Sequence .*rejected/],
    [
      'sandbox key against production (wrong environment)',
      async () => connectBody({ sequence: { environment: 'production', baseUrl: productionSim.apiUrl } }),
      'sequence_credentials_rejected',
      /Sequence \(production.*a sandbox key does not work against production/,
    ],
    ['Sphere key rejected', async () => connectBody({ sphere: { apiKey: 'sph_test_wrong' } }), 'sphere_credentials_rejected', /Sphere .*rejected the API key \(HTTP 401\)/],
    ['Sequence unreachable', async () => connectBody({ sequence: { baseUrl: `http://127.0.0.1:${await closedPort()}/api` } }), 'sequence_unreachable', /Sequence .*could not be reached/],
    ['Sphere unreachable', async () => connectBody({ sphere: { baseUrl: `http://127.0.0.1:${await closedPort()}` } }), 'sphere_unreachable', /Sphere .*could not be reached/],
    ['Sequence base URL that is not the Sequence API', async () => connectBody({ sequence: { baseUrl: `${stack.runtime.url}/not-sequence` } }), 'sequence_unexpected_response', /did not answer like the Sequence API/],
  ])('%s', async (_label, makeBody, code, message) => {
    const res = await stack.admin.call('POST', '/connections', await makeBody());
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code, service: code.split('_')[0], message: expect.stringMatching(message) } });
    expect(res.text).not.toMatch(/wrong-secret|local-secret|sph_test_wrong|sph_test_local/);
    expect(await storedState()).toEqual({ items: 0, vault: 0, policies: 0 });
  });

  it('both sides wrong: the Sequence failure is reported and the Sphere one mentioned', async () => {
    const res = await stack.admin.call('POST', '/connections', connectBody({ sequence: { clientSecret: 'wrong-secret' }, sphere: { apiKey: 'sph_test_wrong' } }));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code: 'sequence_credentials_rejected', message: expect.stringContaining('sphere_credentials_rejected') } });
    expect(await storedState()).toEqual({ items: 0, vault: 0, policies: 0 });
  });

  it('Sequence answering 5xx → 503 sequence_unavailable with Retry-After; nothing stored', async () => {
    stack.sequence.setFaults({ failNext: 4, statuses: [503] });
    try {
      const response = await fetch(`${stack.runtime.url}/connections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(connectBody()),
      });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await response.json()).toMatchObject({ error: { code: 'sequence_unavailable', retryable: true } });
    } finally {
      stack.sequence.setFaults({ failNext: 0 });
    }
    expect(await storedState()).toEqual({ items: 0, vault: 0, policies: 0 });
  });
});

describe('tax codes Sphere does not accept (no built-in default: Sphere assigns its own codes)', () => {
  it('connect → 422 sphere_tax_code_not_accepted naming each code and where it is configured; nothing stored', async () => {
    const res = await stack.admin.call('POST', '/connections', connectBody({ taxCodes: { default: 'txcd_10000000', byTaxCategory: { cat_saas: 'stripe_style_guess', cat_other: 'txcd_10103001' } } }));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code: 'sphere_tax_code_not_accepted' } });
    const message = (res.body as { error: { message: string } }).error.message;
    expect(message).toContain('"stripe_style_guess" (taxCodes.byTaxCategory.cat_saas)');
    expect(message).not.toContain('"txcd_10103001"');
    expect(await storedState()).toEqual({ items: 0, vault: 0, policies: 0 });
  });

  it('"Test credentials" names a configured code Sphere does not accept, and reports all accepted otherwise', async () => {
    const created = await stack.admin.call('POST', '/connections', connectBody({ name: 'Tax code test' }));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const passing = await stack.admin.call('POST', `/connections/${id}/test`);
    expect(passing.body).toMatchObject({ taxCodes: { ok: true } });

    expect((await stack.admin.call('PATCH', `/connections/${id}`, { taxCodes: { byTaxCategory: { cat_new: 'not_a_sphere_code' } } })).status).toBe(200);
    const failing = await stack.admin.call('POST', `/connections/${id}/test`);
    expect(failing.body).toMatchObject({ sphere: { ok: true }, taxCodes: { ok: false, code: 'sphere_tax_code_not_accepted', message: expect.stringContaining('"not_a_sphere_code" (taxCodes.byTaxCategory.cat_new)') } });
    expect((await stack.admin.call('DELETE', `/connections/${id}`)).status).toBe(200);
  });
});

describe('webhook registration fails after the credentials passed', () => {
  it('→ 201 with status ERROR and lastError; PATCH retries the registration and queues the backfill', async () => {
    proxy.control.failPolicyCreate = true;
    const res = await stack.admin.call('POST', '/connections', connectBody({ name: 'Registration fails', sequence: { baseUrl: proxy.apiUrl } }));
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect(res.body).toMatchObject({ status: 'ERROR', backfill: { state: 'NOT_STARTED' }, lastError: { code: 'webhook_registration_failed', message: expect.stringContaining(`PATCH /connections/${id}`) } });
    expect(Object.keys(stack.sequence.state.policies)).toHaveLength(0);

    const test = await stack.admin.call('POST', `/connections/${id}/test`);
    expect(test.body).toMatchObject({ sequence: { ok: true }, sphere: { ok: true }, webhookPolicy: { ok: false, code: 'webhook_policy_missing' } });

    proxy.control.failPolicyCreate = false;
    const retried = await stack.admin.call('PATCH', `/connections/${id}`, {});
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ status: 'ACTIVE', backfill: { state: 'QUEUED' } });
    expect(Object.values(stack.sequence.state.policies).map((p) => p.recipients[0])).toEqual([`${stack.runtime.url}/webhooks/sequence/${id}`]);

    const cleanup = await stack.admin.call('DELETE', `/connections/${id}`);
    expect(cleanup.status).toBe(200);
    expect(Object.keys(stack.sequence.state.policies)).toHaveLength(0);
  });
});
