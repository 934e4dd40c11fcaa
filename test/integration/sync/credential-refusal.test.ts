/**
 * A credential refused in a worker, not only in the admin steps, shows on the connection: when
 * Sphere refuses the key even after the forced re-read of the secret (withUpstream), the
 * connection (GET /connections/{id}) is ERROR with a lastError naming Sphere, as the "Test
 * credentials" check would make it. ERROR still accepts work (§5.1: only DISCONNECTED drops it),
 * and a passing POST …/test makes it ACTIVE again without the stale lastError.
 */
import { messageGroupId } from '../../../shared/runtime/queue-messages';
import { type Harness, SIM_DEFAULT_TAX_CODE, SPHERE_KEY, admin, customerBody, sequenceApi, settle, sim, sphereRequests, sphereState, startHarness } from './harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ adminRoutes: true });
});

afterAll(async () => {
  await h?.stop();
});

it('Sphere refusing the key in the customer-sync worker marks the connection ERROR with lastError; a passing test clears it', async () => {
  const created = await admin(h, 'POST', '/connections', {
    name: 'Refused Key Co',
    sequence: { environment: 'sandbox', clientId: h.sequence.clientId, clientSecret: h.sequence.clientSecret, baseUrl: h.sequence.apiUrl },
    sphere: { apiKey: SPHERE_KEY, baseUrl: h.sphere.url },
    taxCodes: { default: SIM_DEFAULT_TAX_CODE },
  });
  expect(created.status).toBe(201);
  const id = created.json.id as string;
  await settle(h);

  // The key is revoked in Sphere: every call is answered 401, as Sphere answers a key it does not know.
  await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 1, statuses: [401] });
  const worker = h.runtime.pollers.find((p) => p.binding.queueName === 'customer-sync.fifo')!;
  const receivedBefore = worker.stats.received;
  const customer = await sequenceApi<{ id: string }>(h, 'POST', '/customers', customerBody('Refused Key Customer'));
  await settle(h);

  // Refused twice (the cached key, then the secret re-read), then recorded; no retry loop.
  const refused = (await sphereRequests(h)).filter((r) => r.method === 'POST' && r.path === '/v1/customers');
  expect(refused.map((r) => r.status)).toEqual([401, 401]);
  expect(worker.stats.received - receivedBefore).toBe(1);
  const failure = await h.deps.failures.get(id, 'customer', customer.id);
  expect(failure).toMatchObject({ kind: 'user', code: 'sphere_credentials_rejected' });

  const status = await admin(h, 'GET', `/connections/${id}`);
  expect(status.json).toMatchObject({ status: 'ERROR', lastError: { code: 'sphere_credentials_rejected', message: expect.stringMatching(/^Sphere refused/), at: expect.any(String) } });
  expect(JSON.stringify(status.json)).not.toContain(SPHERE_KEY);

  // ERROR does not drop queued work: once Sphere accepts the key again, a queued sync goes through.
  await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 0 });
  await h.deps.queues.send('customerSync', { message: { kind: 'customer', connectionId: id, trigger: 'retry', customerId: customer.id }, groupId: messageGroupId(id, customer.id), deduplicationId: `retry-${customer.id}` });
  await settle(h);
  expect((await sphereState(h)).customers.map((x) => x.external_id)).toContain(customer.id);
  expect((await admin(h, 'GET', `/connections/${id}`)).json).toMatchObject({ status: 'ERROR' }); // until checked

  // "Test credentials" passes: ACTIVE, and the stale lastError is gone.
  const test = await admin(h, 'POST', `/connections/${id}/test`);
  expect(test.json).toMatchObject({ sequence: { ok: true }, sphere: { ok: true }, webhookPolicy: { ok: true }, connection: { status: 'ACTIVE' } });
  expect(test.json.connection).not.toHaveProperty('lastError');
  const after = await admin(h, 'GET', `/connections/${id}`);
  expect(after.json.status).toBe('ACTIVE');
  expect(after.json).not.toHaveProperty('lastError');
});
