/**
 * Disconnect end to end: a connection made through the admin API (POST /connections on the local
 * front door) syncs through the real webhook ingest and workers; after DELETE /connections/{id}
 * a correctly signed webhook is refused (§5.2: 404 for a disconnected connection) and queues
 * nothing, a message that was already queued is dropped by the worker with its log line (not
 * retried, not dead-lettered), and neither Sphere nor Sequence is called for it again.
 */
import { restoreLogLevel } from '../../fixtures/log-level-info'; // first: the handlers' logger is built at import
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { messageGroupId } from '../../../shared/runtime/queue-messages';
import { signatureHeader } from '../../../shared/webhooks/signature';
import { captureLogs, type LogCapture } from '../../../bench/lib/chaos-log-capture';
import { customerBody, dlqBodies, type Harness, pauseWorker, queueDepth, sequenceApi, sphereRequests, sphereState, startHarness } from './harness';
import { connectBody } from '../../support/connections';
import { eventually } from '../../support/eventually';

let h: Harness;
let capture: LogCapture;

beforeAll(async () => {
  // Everything the handlers log (INFO and up), kept off the terminal and read by the assertions.
  capture = captureLogs();
  h = await startHarness();
});

afterAll(async () => {
  await h?.stop();
  capture?.stop();
  restoreLogLevel();
});

it('after DELETE, a signed webhook is refused and an already queued message is dropped with a log line; Sphere is untouched', async () => {
  const created = await h.admin.call('POST', '/connections', connectBody({ name: 'Disconnect Co', sequence: { baseUrl: h.sequence.apiUrl }, sphere: { baseUrl: h.sphere.url } }));
  expect(created.status).toBe(201);
  const connectionId = created.body.id as string;
  expect(created.body.status).toBe('ACTIVE');
  await h.settle();

  // Live: a customer created in Sequence reaches Sphere through the registered policy.
  const customer = await sequenceApi<{ id: string }>(h, 'POST', '/customers', customerBody('Leaving Soon Ltd'));
  await h.settle();
  expect((await sphereState(h)).customers.map((x) => x.external_id)).toEqual([customer.id]);
  const { webhookSigningSecret } = await h.deps.vault.get(connectionId);

  // A change whose sync message is still waiting in the queue when the merchant disconnects.
  const worker = await pauseWorker(h, 'customer-sync.fifo');
  await sequenceApi(h, 'PUT', `/customers/${customer.id}`, customerBody('Leaving Soon Group Ltd', { integrationIds: [{ service: 'Sphere', id: customer.id }] }));
  await h.sequence.webhooksIdle();
  await eventually('the change queued', async () => (await queueDepth(h, 'customer-sync.fifo')) === 1);

  const deleted = await h.admin.call('DELETE', `/connections/${connectionId}`);
  expect(deleted.status).toBe(200);
  expect(deleted.body).toMatchObject({ status: 'DISCONNECTED' });
  const sphereCallsAtDelete = (await sphereRequests(h)).length;
  const sequenceCallsAtDelete = h.sequence.requests.filter((r) => r.path.startsWith('/api/customers')).length;

  // (a) A correctly signed webhook for the disconnected connection: 404 (§5.2), nothing queued.
  const body = JSON.stringify({ notificationType: 'CUSTOMER_UPDATED', sequenceAccountId: created.body.sequenceAccountId, resourceType: 'Customer', resourceId: customer.id, resource: { id: customer.id, legalName: 'Too Late Ltd' } });
  const refused = await fetch(`${h.runtime.url}/webhooks/sequence/${connectionId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'sequence-signature': signatureHeader(webhookSigningSecret, body) },
    body,
  });
  expect(refused.status).toBe(404);
  expect(await refused.json()).toMatchObject({ error: { code: 'connection_not_found' } });
  expect(await queueDepth(h, 'customer-sync.fifo')).toBe(1); // only the message queued before the delete

  // (b) One more message for it arrives after the delete (e.g. a backfill page queued just before).
  await h.runtime.sqs.client.send(
    new SendMessageCommand({
      QueueUrl: h.runtime.queueUrls['customer-sync.fifo']!,
      MessageBody: JSON.stringify({ kind: 'customer', connectionId, trigger: 'backfill', customerId: customer.id }),
      MessageGroupId: messageGroupId(connectionId, customer.id),
      MessageDeduplicationId: `after-delete-${connectionId}`,
    }),
  );

  // The worker comes back: both messages are dropped, once each, with the log line.
  worker.resume();
  await h.settle();
  const poller = h.runtime.pollers.find((p) => p.binding.queueName === 'customer-sync.fifo')!;
  expect(poller.stats).toMatchObject({ received: 2, deleted: 2, failedRecords: 0, failedBatches: 0 });
  const drops = capture.lines.filter((l) => l.includes('Dropping message for a missing or disconnected connection'));
  expect(drops).toHaveLength(2);
  for (const line of drops) {
    expect(line).toContain(connectionId);
    expect(line).toContain('DISCONNECTED');
  }
  expect(await queueDepth(h, 'customer-sync.fifo')).toBe(0);
  expect(await dlqBodies(h, 'customer-sync-dlq.fifo')).toHaveLength(0);
  expect(await h.deps.failures.get(connectionId, 'customer', customer.id)).toBeUndefined();

  // Nothing was read or written upstream for it after the delete; Sphere still holds the old copy.
  expect((await sphereRequests(h)).length).toBe(sphereCallsAtDelete);
  expect(h.sequence.requests.filter((r) => r.path.startsWith('/api/customers')).length).toBe(sequenceCallsAtDelete);
  const sphere = await sphereState(h);
  expect(sphere.customers).toHaveLength(1);
  expect(sphere.customers[0]).toMatchObject({ external_id: customer.id, name: 'Leaving Soon Ltd' });
});
