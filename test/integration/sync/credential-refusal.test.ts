/**
 * A credential refused in a worker, not only in the admin steps, shows on the connection: when
 * Sphere refuses the key even after the forced re-read of the secret (withUpstream), the
 * connection (GET /connections/{id}) is ERROR with a lastError naming Sphere, as the "Test
 * credentials" check would make it. ERROR still accepts work (§5.1: only DISCONNECTED drops it),
 * and a passing POST …/test makes it ACTIVE again without the stale lastError.
 */
import { messageGroupId } from '../../../shared/runtime/queue-messages';
import { customerBody, sequenceApi, sim, SPHERE_KEY, sphereRequests, sphereState, useHarness } from './harness';
import { connectBody } from '../../support/connections';

const h = useHarness();

it('Sphere refusing the key in the customer-sync worker marks the connection ERROR with lastError; a passing test clears it', async () => {
  const created = await h.admin.call('POST', '/connections', connectBody({ name: 'Refused Key Co', sequence: { baseUrl: h.sequence.apiUrl }, sphere: { baseUrl: h.sphere.url } }));
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  await h.settle();

  // The key is revoked in Sphere: every call is answered 401, as Sphere answers a key it does not know.
  await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 1, statuses: [401] });
  const worker = h.runtime.pollers.find((p) => p.binding.queueName === 'customer-sync.fifo')!;
  const receivedBefore = worker.stats.received;
  const customer = await sequenceApi<{ id: string }>(h, 'POST', '/customers', customerBody('Refused Key Customer'));
  await h.settle();

  // Refused twice (the cached key, then the secret re-read), then recorded; no retry loop.
  const refused = (await sphereRequests(h)).filter((r) => r.method === 'POST' && r.path === '/v1/customers');
  expect(refused.map((r) => r.status)).toEqual([401, 401]);
  expect(worker.stats.received - receivedBefore).toBe(1);
  const failure = await h.deps.failures.get(id, 'customer', customer.id);
  expect(failure).toMatchObject({ kind: 'user', code: 'sphere_credentials_rejected' });

  const status = await h.admin.call('GET', `/connections/${id}`);
  expect(status.body).toMatchObject({ status: 'ERROR', lastError: { code: 'sphere_credentials_rejected', message: expect.stringMatching(/^Sphere refused/), at: expect.any(String) } });
  expect(JSON.stringify(status.body)).not.toContain(SPHERE_KEY);

  // ERROR does not drop queued work: once Sphere accepts the key again, a queued sync goes through.
  await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 0 });
  await h.deps.queues.send('customerSync', { message: { kind: 'customer', connectionId: id, trigger: 'retry', customerId: customer.id }, groupId: messageGroupId(id, customer.id), deduplicationId: `retry-${customer.id}` });
  await h.settle();
  expect((await sphereState(h)).customers.map((x) => x.external_id)).toContain(customer.id);
  expect((await h.admin.call('GET', `/connections/${id}`)).body).toMatchObject({ status: 'ERROR' }); // until checked

  // "Test credentials" passes: ACTIVE, and the stale lastError is gone.
  const test = await h.admin.call('POST', `/connections/${id}/test`);
  expect(test.body).toMatchObject({ sequence: { ok: true }, sphere: { ok: true }, webhookPolicy: { ok: true }, connection: { status: 'ACTIVE' } });
  expect(test.body.connection).not.toHaveProperty('lastError');
  const after = await h.admin.call('GET', `/connections/${id}`);
  expect(after.body.status).toBe('ACTIVE');
  expect(after.body).not.toHaveProperty('lastError');
});
