/**
 * Webhook ingest (shared/webhooks/ingest.ts) on in-memory ports: signature, envelope, dedupe and
 * queueing with the fakes of test/support/fakes. The emulator suite is
 * test/integration/webhook/webhook-ingest.test.ts (front door, DynamoDB, SQS).
 */
import { randomUUID } from 'node:crypto';
import { METRICS } from '../../../shared/runtime/catalogue';
import { type WebhookRequest, ingestWebhook } from '../../../shared/webhooks/ingest';
import { SIGNATURE_HEADER, signatureHeader } from '../../../shared/webhooks/signature';
import { FAKE_WEBHOOK_SECRET, type FakeWorld, fakeWorld } from '../../support/fakes';

let w: FakeWorld;

beforeEach(() => {
  w = fakeWorld();
});

function delivery(envelope: Record<string, unknown>, options: { secret?: string; connectionId?: string; signedAt?: number } = {}): WebhookRequest {
  const rawBody = Buffer.from(JSON.stringify({ sequenceAccountId: w.connection.sequenceAccountId, ...envelope }));
  const signedAt = options.signedAt ?? Date.now();
  return { connectionId: options.connectionId ?? w.connection.id, headers: { [SIGNATURE_HEADER]: signatureHeader(options.secret ?? FAKE_WEBHOOK_SECRET, rawBody, signedAt) }, rawBody };
}

const invoiceUpdated = (invoiceId: string) => ({ notificationType: 'INVOICE_UPDATED', resourceType: 'Invoice', resource: { id: invoiceId, updatedAt: '2026-12-03T10:00:00Z' } });

it('queues a signed invoice event once: a repeated delivery is acknowledged as a duplicate and not queued again', async () => {
  const invoiceId = randomUUID();

  const first = await ingestWebhook(w.deps, delivery(invoiceUpdated(invoiceId)));
  const repeat = await ingestWebhook(w.deps, delivery(invoiceUpdated(invoiceId), { signedAt: Date.now() + 1_000 }));

  expect(first).toMatchObject({ status: 202, outcome: 'queued' });
  expect(repeat).toMatchObject({ status: 200, outcome: 'duplicate' });
  expect(w.queues.on('invoiceTax')).toEqual([{ kind: 'invoice', connectionId: w.connection.id, trigger: 'webhook', invoiceId, notificationType: 'INVOICE_UPDATED' }]);
  expect(w.queues.sent[0]!.groupId).toContain(invoiceId);
  expect(w.metrics.total(METRICS.webhookAccepted)).toBe(1);
  expect(w.metrics.total(METRICS.webhookDuplicate)).toBe(1);
});

it('routes customer and credit-note events to their queues', async () => {
  const [customerId, creditNoteId] = [randomUUID(), randomUUID()];

  await ingestWebhook(w.deps, delivery({ notificationType: 'CUSTOMER_UPDATED', resourceType: 'Customer', resource: { id: customerId, updatedAt: '2026-12-03T10:00:00Z' } }));
  await ingestWebhook(w.deps, delivery({ notificationType: 'CREDIT_NOTE_ISSUED', resourceType: 'CreditNote', resource: { id: creditNoteId, updatedAt: '2026-12-03T10:00:00Z' } }));

  expect(w.queues.on('customerSync')).toMatchObject([{ kind: 'customer', customerId, notificationType: 'CUSTOMER_UPDATED' }]);
  expect(w.queues.on('invoiceTax')).toMatchObject([{ kind: 'credit_note', creditNoteId, notificationType: 'CREDIT_NOTE_ISSUED' }]);
});

it('refuses a delivery signed with another secret: 401, nothing claimed or queued', async () => {
  const result = await ingestWebhook(w.deps, delivery(invoiceUpdated(randomUUID()), { secret: 'whsec_someone_else' }));

  expect(result).toMatchObject({ status: 401, outcome: 'rejected', body: { error: { code: 'invalid_signature' } } });
  expect(w.queues.sent).toEqual([]);
  expect(w.deliveries.claims.size).toBe(0);
  expect(w.metrics.total(METRICS.webhookRejected)).toBe(1);
});

it('answers 404 for an unknown or disconnected connection, without reading a secret', async () => {
  const unknown = await ingestWebhook(w.deps, delivery(invoiceUpdated(randomUUID()), { connectionId: 'conn-nobody' }));
  w.connections.items.get(w.connection.id)!.status = 'DISCONNECTED';
  const disconnected = await ingestWebhook(w.deps, delivery(invoiceUpdated(randomUUID())));

  expect([unknown.status, disconnected.status]).toEqual([404, 404]);
  expect(w.vault.reads).toBe(0);
  expect(w.queues.sent).toEqual([]);
});

it('gives the claim back when the queue cannot be reached, so Sequence’s retry is accepted', async () => {
  const request = delivery(invoiceUpdated(randomUUID()));
  w.queues.failNext();

  const failed = await ingestWebhook(w.deps, request);
  const retried = await ingestWebhook(w.deps, request);

  expect(failed).toMatchObject({ status: 503, body: { error: { code: 'queue_unavailable' } } });
  expect(retried).toMatchObject({ status: 202, outcome: 'queued' });
  expect(w.queues.sent).toHaveLength(1);
});

it('acknowledges a signed event it does not consume, counts it, and queues nothing', async () => {
  const result = await ingestWebhook(w.deps, delivery({ notificationType: 'QUOTE_SIGNED', resourceType: 'Quote', resource: { id: randomUUID() } }));

  expect(result).toMatchObject({ status: 202, outcome: 'ignored' });
  expect(w.queues.sent).toEqual([]);
  expect(w.deliveries.ignored.get(`${w.connection.id}#QUOTE_SIGNED`)).toBe(1);
});

it('leaves no delivery keys on the logger once the delivery is answered', async () => {
  await ingestWebhook(w.deps, delivery(invoiceUpdated(randomUUID())));
  w.logger.info('next line');

  expect(w.logger.entries.at(-2)!.attributes).toMatchObject({ connectionId: w.connection.id, notificationType: 'INVOICE_UPDATED' });
  expect(w.logger.entries.at(-1)!.attributes).toEqual({});
});
