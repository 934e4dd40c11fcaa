/**
 * The connection lifecycle through the local front door, against the simulators and the embedded
 * DynamoDB/SQS: connect (credentials checked, secret stored, policy registered, backfill queued),
 * a webhook signed by the simulator verifies with the stored secret, status, test, rotation,
 * backfill trigger, disconnect (policy gone, no more webhooks, secret unreadable), double connect.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { LocalFileVault } from '../../../shared/secrets/local-vault';
import { verifySignature } from '../../../shared/webhooks/signature';
import { CONSUMED_NOTIFICATION_TYPES } from '../../../shared/webhooks/routing';
import { deliveries, reset as resetBackfillDeliveries } from '../../fixtures/handlers/sqs-scripted';
import { type CapturedWebhook, type ConnectStack, startCaptureServer, startConnectStack } from './harness';
import { connectBody } from '../../support/connections';
import { eventually } from '../../support/eventually';

let stack: ConnectStack;
let capture: Awaited<ReturnType<typeof startCaptureServer>>;
let vault: LocalFileVault;

beforeAll(async () => {
  capture = await startCaptureServer();
  stack = await startConnectStack({ sphereApiKeys: ['sph_test_local', 'sph_test_rotated'], env: { CONNECTOR_PUBLIC_URL: capture.url } });
  vault = new LocalFileVault({ dir: stack.runtime.vaultDir });
});

afterAll(async () => {
  await stack?.stop();
  await capture?.stop();
});

type View = Record<string, unknown> & { id: string; status: string; backfill: { state: string; done: number; total: number } };

async function createCustomer(legalName: string): Promise<string> {
  const auth = Buffer.from('local-client:local-secret').toString('base64');
  const response = await fetch(`${stack.sequence.apiUrl}/customers`, {
    method: 'POST',
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json', 'Sequence-Version': '2024-07-30' },
    body: JSON.stringify({ legalName, address: { line1: '1 Main St', town: 'Austin', state: 'TX', postcode: '78701', country: 'US' }, contacts: [], taxStatus: 'TAXED' }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

describe('connect → use → disconnect', () => {
  let connection: View;

  it('POST /connections validates both sides, stores the secret, registers the policy and queues the backfill → 201 ACTIVE', async () => {
    resetBackfillDeliveries();
    const res = await stack.admin.call('POST', '/connections', connectBody({ taxCodes: { default: 'txcd_10103001', byTaxCategory: { cat1: 'txcd_20030000' } }, options: { recordTransactions: false } }));
    expect(res.status).toBe(201);
    connection = res.body as View;
    expect(connection).toMatchObject({
      name: 'Acme Cloud (sandbox)',
      status: 'ACTIVE',
      environment: 'sandbox',
      sequenceAccountId: stack.sequence.state.account.id,
      sequenceBaseUrl: stack.sequence.apiUrl,
      sphereBaseUrl: stack.sphere.url,
      taxCodes: { default: 'txcd_10103001', byTaxCategory: { cat1: 'txcd_20030000' } },
      options: { recordTransactions: false, calculateOnDraft: true },
      counts: { customersSynced: 0, productsSynced: 0, invoicesTaxed: 0, transactionsRecorded: 0, failures: 0 },
      backfill: { state: 'QUEUED', done: 0, total: 0 },
    });
    expect(connection.id).toMatch(/^conn_[0-9a-f]{32}$/);
    expect(connection).not.toHaveProperty('lastError');
    expect(res.text).not.toContain('local-secret');
    expect(res.text).not.toContain('sph_test_local');

    // One secret with all three values; the record holds none of them.
    const secrets = await vault.get(connection.id);
    expect(secrets.sequence).toEqual({ clientId: 'local-client', clientSecret: 'local-secret' });
    expect(secrets.sphere).toEqual({ apiKey: 'sph_test_local' });
    expect(secrets.webhookSigningSecret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const items = await stack.runtime.dynamo.client.send(new ScanCommand({ TableName: stack.runtime.tableNames.connector }));
    const tableText = JSON.stringify(items.Items);
    expect(tableText).toContain(connection.id);
    for (const value of ['local-secret', 'sph_test_local', secrets.webhookSigningSecret]) expect(tableText).not.toContain(value);

    // The policy in Sequence: WEBHOOK, our URL, the consumed types, our secret.
    const policies = Object.values(stack.sequence.state.policies);
    expect(policies).toHaveLength(1);
    expect(policies[0]).toMatchObject({
      channel: 'WEBHOOK',
      recipients: [`${capture.url}/webhooks/sequence/${connection.id}`],
      webhookSecret: secrets.webhookSigningSecret,
    });
    expect([...(policies[0]!.notificationTypes ?? [])].sort()).toEqual([...CONSUMED_NOTIFICATION_TYPES].sort());

    // The backfill message, on the backfill queue, grouped per connection.
    await eventually('the backfill message delivered', () => deliveries.length > 0, { timeoutMs: 10_000, everyMs: 50 });
    expect(JSON.parse(deliveries[0]!.record.body)).toMatchObject({ kind: 'backfill', connectionId: connection.id, trigger: 'admin', phase: 'registrations', runId: expect.any(String) });
    expect(deliveries[0]!.record.attributes.MessageGroupId).toBe(`${connection.id}:backfill`);
  });

  it('a webhook the simulator signs with the registered policy verifies with the stored secret', async () => {
    const before = capture.received.length;
    const customerId = await createCustomer('Webhook Check Ltd');
    await eventually('the customer webhook captured', () => capture.received.length > before, { timeoutMs: 10_000, everyMs: 50 });
    await stack.sequence.webhooksIdle();
    const hook = capture.received.find((h: CapturedWebhook) => h.rawBody.toString('utf8').includes(customerId))!;
    expect(hook.path).toBe(`/webhooks/sequence/${connection.id}`);
    const { webhookSigningSecret } = await vault.get(connection.id);
    const header = hook.headers['sequence-signature'] as string;
    expect(verifySignature(header, hook.rawBody, [webhookSigningSecret])).toMatchObject({ ok: true });
    expect(verifySignature(header, hook.rawBody, ['whsec_not_ours'])).toEqual({ ok: false, reason: 'signature_mismatch' });
    expect(JSON.parse(hook.rawBody.toString('utf8'))).toMatchObject({ notificationType: 'CUSTOMER_CREATED', sequenceAccountId: stack.sequence.state.account.id });
  });

  it('GET /connections and GET /connections/{id} show the §5.1 fields and no secret', async () => {
    const one = await stack.admin.call('GET', `/connections/${connection.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: connection.id, status: 'ACTIVE', environment: 'sandbox', sequenceAccountId: connection.sequenceAccountId, counts: expect.any(Object), backfill: expect.any(Object) });
    const all = await stack.admin.call('GET', '/connections');
    expect(all.status).toBe(200);
    expect((all.body.items as View[]).map((c) => c.id)).toContain(connection.id);
    for (const text of [one.text, all.text]) {
      expect(text).not.toMatch(/local-secret|sph_test_local|whsec_/);
    }
  });

  it('GET of an unknown id is 404 connection_not_found', async () => {
    const res = await stack.admin.call('GET', '/connections/conn_doesnotexist');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'connection_not_found', message: expect.stringContaining('conn_doesnotexist') } });
  });

  it('POST /connections/{id}/test reports each side like the "Test credentials" button', async () => {
    const res = await stack.admin.call('POST', `/connections/${connection.id}/test`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sequence: { ok: true }, sphere: { ok: true }, webhookPolicy: { ok: true } });
    expect(res.text).not.toMatch(/local-secret|sph_test_local|whsec_/);
  });

  it('PATCH rotates the Sphere key: a refused key changes nothing (422), a valid one is stored and tested', async () => {
    const refused = await stack.admin.call('PATCH', `/connections/${connection.id}`, { sphere: { apiKey: 'sph_test_revoked' } });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: { code: 'sphere_credentials_rejected', service: 'sphere' } });
    expect(refused.text).not.toContain('sph_test_revoked');
    expect((await vault.get(connection.id)).sphere.apiKey).toBe('sph_test_local');

    const before = await vault.get(connection.id);
    const rotated = await stack.admin.call('PATCH', `/connections/${connection.id}`, { sphere: { apiKey: 'sph_test_rotated' }, options: { calculateOnDraft: false }, taxCodes: { default: 'txcd_10000000' } });
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ status: 'ACTIVE', options: { recordTransactions: false, calculateOnDraft: false }, taxCodes: { default: 'txcd_10000000', byTaxCategory: { cat1: 'txcd_20030000' } } });
    const after = await vault.get(connection.id);
    expect(after).toEqual({ ...before, sphere: { apiKey: 'sph_test_rotated' } });

    // The rotated key is what the test endpoint now uses.
    const sphereRequestsBefore = stack.sphere.state.requests.length;
    const test = await stack.admin.call('POST', `/connections/${connection.id}/test`);
    expect(test.body).toMatchObject({ sequence: { ok: true }, sphere: { ok: true } });
    expect(stack.sphere.state.requests.length).toBeGreaterThan(sphereRequestsBefore);
  });

  it('a key revoked upstream: test names the side and marks the connection ERROR; rotating a working key makes it ACTIVE', async () => {
    // Stands in for a key revoked in Sphere's dashboard: the stored key no longer works.
    const stored = await vault.get(connection.id);
    await vault.put(connection.id, { ...stored, sphere: { apiKey: 'sph_test_revoked_upstream' } });
    const test = await stack.admin.call('POST', `/connections/${connection.id}/test`);
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({
      sequence: { ok: true },
      sphere: { ok: false, code: 'sphere_credentials_rejected', message: expect.stringContaining('Sphere') },
      connection: { status: 'ERROR', lastError: { code: 'sphere_credentials_rejected' } },
    });
    expect(test.text).not.toContain('sph_test_revoked_upstream');
    const status = await stack.admin.call('GET', `/connections/${connection.id}`);
    expect(status.body).toMatchObject({ status: 'ERROR', lastError: { code: 'sphere_credentials_rejected', at: expect.any(String) } });

    const fixed = await stack.admin.call('PATCH', `/connections/${connection.id}`, { sphere: { apiKey: 'sph_test_rotated' } });
    expect(fixed.status).toBe(200);
    expect(fixed.body).toMatchObject({ status: 'ACTIVE' });
    expect(fixed.body).not.toHaveProperty('lastError'); // resolved by the working key
    expect((await stack.admin.call('POST', `/connections/${connection.id}/test`)).body).toMatchObject({ sphere: { ok: true }, connection: { status: 'ACTIVE' } });
  });

  it('PATCH refuses a Sequence credential Sequence rejects, and a change of environment', async () => {
    const refused = await stack.admin.call('PATCH', `/connections/${connection.id}`, { sequence: { clientSecret: 'not-the-secret' } });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: { code: 'sequence_credentials_rejected', service: 'sequence' } });
    expect((await vault.get(connection.id)).sequence.clientSecret).toBe('local-secret');

    const env = await stack.admin.call('PATCH', `/connections/${connection.id}`, { sequence: { environment: 'production' } });
    expect(env.status).toBe(400);
    expect(env.body).toMatchObject({ error: { code: 'invalid_request', field: 'sequence.environment' } });
  });

  it('POST /connections/{id}/backfill → 202 with the progress; a run already queued is not queued twice', async () => {
    resetBackfillDeliveries();
    const res = await stack.admin.call('POST', `/connections/${connection.id}/backfill`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ backfill: { state: 'QUEUED', done: 0, total: 0 } });
    // Every queued message delivered: had the run been queued twice, the backfill handler would have it by now.
    await stack.runtime.drain();
    expect(deliveries).toHaveLength(0);

    const restart = await stack.admin.call('POST', `/connections/${connection.id}/backfill?restart=true`);
    expect(restart.status).toBe(202);
    await stack.runtime.drain();
    expect(deliveries).toHaveLength(1);
    expect(JSON.parse(deliveries[0]!.record.body)).toMatchObject({ kind: 'backfill', connectionId: connection.id });
  });

  it('connecting the same Sequence account again in the same environment is refused (409), and stores nothing', async () => {
    const filesBefore = stack.vaultFiles().length;
    const res = await stack.admin.call('POST', '/connections', connectBody({ name: 'Second try' }));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: { code: 'account_already_connected', connectionId: connection.id } });
    expect(stack.vaultFiles()).toHaveLength(filesBefore);
    expect(Object.values(stack.sequence.state.policies)).toHaveLength(1);
  });

  it('DELETE removes the policy, marks DISCONNECTED, schedules the secret deletion; Sequence data stays; twice is fine', async () => {
    const customersBefore = Object.keys(stack.sequence.state.customers).length;
    const res = await stack.admin.call('DELETE', `/connections/${connection.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: connection.id, status: 'DISCONNECTED', disconnectedAt: expect.any(String) });
    expect(Object.values(stack.sequence.state.policies)).toHaveLength(0);
    expect(Object.keys(stack.sequence.state.customers)).toHaveLength(customersBefore);
    await expect(vault.get(connection.id)).rejects.toMatchObject({ code: 'connection_secret_missing' });
    const deletion = await vault.deletionDate(connection.id);
    expect(new Date(deletion!).getTime() - Date.now()).toBeGreaterThan(6.9 * 86_400_000);

    // No policy → Sequence sends nothing for later changes.
    await stack.sequence.webhooksIdle();
    const received = capture.received.length;
    await createCustomer('After Disconnect Ltd');
    await stack.sequence.webhooksIdle(); // every webhook the change caused has been sent (or none was)
    expect(capture.received.length).toBe(received);

    const again = await stack.admin.call('DELETE', `/connections/${connection.id}`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'DISCONNECTED', disconnectedAt: (res.body as View).disconnectedAt });
  });

  it('a disconnected connection cannot be changed, tested or backfilled (409)', async () => {
    for (const [method, path, body] of [
      ['PATCH', `/connections/${connection.id}`, { name: 'x' }],
      ['POST', `/connections/${connection.id}/test`, undefined],
      ['POST', `/connections/${connection.id}/backfill`, undefined],
    ] as const) {
      const res = await stack.admin.call(method, path, body);
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ error: { code: 'connection_disconnected' } });
    }
  });

  it('after a disconnect the same account can be connected again', async () => {
    const res = await stack.admin.call('POST', '/connections', connectBody({ name: 'Reconnected' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'ACTIVE', sequenceAccountId: connection.sequenceAccountId });
    expect((res.body as View).id).not.toBe(connection.id);
    expect(Object.values(stack.sequence.state.policies)).toHaveLength(1);
    const list = await stack.admin.call('GET', '/connections');
    expect((list.body.items as View[]).map((c) => [c.id, c.status])).toEqual(
      expect.arrayContaining([
        [connection.id, 'DISCONNECTED'],
        [(res.body as View).id, 'ACTIVE'],
      ]),
    );
  });
});
