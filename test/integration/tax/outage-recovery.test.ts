/**
 * Recovery after a Sphere outage (issue 11 §2). The invoice-tax queue has the stack's real
 * visibility timeout (720 s), so only the worker's own retry delay (ChangeMessageVisibility with the
 * growing backoff of shared/domain/retry-policy.ts) can bring a failed message back soon; fauxqs
 * honours the change the way SQS does. While Sphere answers 503, a draft goes stale (a line added)
 * and another invoice is finalised in Sequence; both messages fail twice. Once Sphere is back, the
 * draft is re-taxed and the finalised invoice's Sphere transaction recorded within 60 s.
 * Sequence's per-minute rate limit (429, no Retry-After) takes the same path: one call per
 * receive, not four quick retries; a Retry-After, when given, is honoured.
 */
import { randomUUID } from 'node:crypto';
import { VISIBILITY_TIMEOUT_FACTOR } from '../../../shared/runtime/catalogue';
import { INVOICE_TAX_TIMEOUT } from '../../../lib/constructs/invoice-tax';
import { type TaxRecord } from '../../../shared/domain/invoice-tax';
import { messageGroupId } from '../../../shared/runtime/queue-messages';
import { TransactionRepository } from '../../../shared/store/transactions';
import { ADDRESSES, CATEGORY, customerBody, invoiceSeed, sim, useTaxHarness } from './harness';
import { eventually } from '../../support/eventually';

const STACK_VISIBILITY_TIMEOUT_SECONDS = INVOICE_TAX_TIMEOUT.toSeconds() * VISIBILITY_TIMEOUT_FACTOR;
/** The target of issue 11: work resumes within a minute of the upstream coming back. */
const RECOVERY_DEADLINE_MS = 60_000;

const h = useTaxHarness(
  { visibilityTimeoutSeconds: STACK_VISIBILITY_TIMEOUT_SECONDS },
  {
    async beforeStop(started) {
      await sim(started.sphere.url, 'POST', '/_sim/faults', { errorRate: 0 }).catch(() => undefined);
      await sim(started.sequence.url, 'POST', '/_sim/faults', { failNext: 0, retryAfterSeconds: null }).catch(() => undefined);
    },
  },
);

const { SACRAMENTO } = ADDRESSES;

/** What webhook ingest queues for an invoice notification. */
async function notifyInvoice(invoiceId: string, notificationType: string): Promise<void> {
  await h.deps.queues.send('invoiceTax', {
    message: { kind: 'invoice', connectionId: h.connection.id, trigger: 'webhook', invoiceId, notificationType },
    groupId: messageGroupId(h.connection.id, invoiceId),
    deduplicationId: randomUUID(),
  });
}

const taxRecord = async (invoiceId: string) => (await h.admin.call<TaxRecord>('GET', `/connections/${h.connection.id}/invoices/${invoiceId}/tax`)).body;

it('re-taxes a stale draft and records a pending transaction within 60 s of Sphere coming back, not after the 720 s visibility timeout', async () => {
  const invoiceTaxPoller = h.runtime.pollers.find((p) => p.binding.queueName === 'invoice-tax.fifo')!;
  expect(invoiceTaxPoller.binding.visibilityTimeoutSeconds).toBe(720);
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Outage Survivor Corp', SACRAMENTO), product: { name: 'Outage plan', taxCategoryId: CATEGORY.saas }, lines: [{ title: 'Plan', quantity: '1', rate: '120.00' }], invoices: 2 }));
  const [staleDraft, finalised] = seeded.invoices.map((i) => i.id) as [string, string];
  for (const id of [staleDraft, finalised]) await notifyInvoice(id, 'INVOICE_CREATED');
  await h.settle();
  for (const id of [staleDraft, finalised]) expect(await taxRecord(id)).toMatchObject({ status: 'CALCULATED', totalTax: '8.70' });

  // Sphere goes down. The draft changes (its tax is now stale) and the other invoice is finalised in Sequence.
  await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 1, statuses: [503] });
  await h.sequenceApi('POST', `/invoices/${staleDraft}/line-items`, { title: 'Seats', quantity: '3', rate: '9.99', taxRate: '0', priceId: seeded.prices[0], externalIds: [] });
  await notifyInvoice(staleDraft, 'INVOICE_UPDATED');
  await h.sequenceApi('POST', `/invoices/${finalised}/finalize`);
  await notifyInvoice(finalised, 'INVOICE_FINALIZED');

  // Both messages fail on two receives: the second receive proves the first came back early.
  const failedBefore = invoiceTaxPoller.stats.failedRecords;
  await eventually('two failed receives of both messages', () => invoiceTaxPoller.stats.failedRecords - failedBefore >= 4, { timeoutMs: RECOVERY_DEADLINE_MS });
  await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 0 });

  // Once Sphere is back: a 60 s deadline, polled.
  const deadline = Date.now() + RECOVERY_DEADLINE_MS;
  const retaxed = await eventually(
    'the stale draft re-taxed',
    async () => {
      const record = await taxRecord(staleDraft);
      return record.status === 'CALCULATED' && record.totalTax !== '8.70' ? record : undefined;
    },
    { timeoutMs: Math.max(0, deadline - Date.now()), everyMs: 250 },
  );
  const transaction = await eventually(
    'the finalised invoice recorded in Sphere',
    async () => (await h.sphereTransactions()).find((t) => t.external_id === finalised),
    { timeoutMs: Math.max(0, deadline - Date.now()), everyMs: 250 },
  );

  // 8.70 on 120.00 plus Sphere's 7.25 % of 29.97 (2.17), on the lines in Sequence too.
  expect(retaxed.totalTax).toBe('10.87');
  expect((await h.invoiceLines(staleDraft)).map((l) => l.totalTax)).toEqual(['8.70', '2.17']);
  expect(transaction).toMatchObject({ type: 'debit', status: 'finalized', tax: '8.70' });
  expect(await new TransactionRepository(h.deps.db, h.deps.config.connectorTableName).get(h.connection.id, finalised)).toMatchObject({ state: 'RECORDED' });
  // Nothing was given up on: no failure records left, nothing in the DLQ.
  const failures = (await h.admin.call<{ items: { resourceId: string }[] }>('GET', `/connections/${h.connection.id}/failures`)).body.items;
  expect(failures.filter((f) => f.resourceId === staleDraft || f.resourceId === finalised)).toEqual([]);
  await h.runtime.drain({ timeoutMs: 10_000 });
}, 180_000); // set-up, ~20 s of outage, then up to the 60 s deadline

interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  timestamp: string;
}

it("returns a message rate-limited by Sequence to the queue: one call per receive, then the queue's delay (at least Retry-After)", async () => {
  const invoiceTaxPoller = h.runtime.pollers.find((p) => p.binding.queueName === 'invoice-tax.fifo')!;
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Rate Limited Ltd', SACRAMENTO), product: { name: 'Limited plan', taxCategoryId: CATEGORY.saas }, lines: [{ title: 'Plan', quantity: '1', rate: '120.00' }], invoices: 2 }));
  const [withoutRetryAfter, withRetryAfter] = seeded.invoices.map((i) => i.id) as [string, string];

  // Sequence's real 429 carries no Retry-After: the receive spends one call, and the message comes back later.
  await sim(h.sequence.url, 'DELETE', '/_sim/requests');
  const failedBefore = invoiceTaxPoller.stats.failedRecords;
  await sim(h.sequence.url, 'POST', '/_sim/faults', { failNext: 1, statuses: [429], retryAfterSeconds: null });
  await notifyInvoice(withoutRetryAfter, 'INVOICE_CREATED');
  await eventually('the rate-limited draft taxed', async () => (await taxRecord(withoutRetryAfter)).status === 'CALCULATED', { timeoutMs: RECOVERY_DEADLINE_MS, everyMs: 250 });
  const limited = (await sim<{ items: LoggedRequest[] }>(h.sequence.url, 'GET', '/_sim/requests')).items.filter((r) => r.status === 429);
  expect(limited).toHaveLength(1);
  expect(invoiceTaxPoller.stats.failedRecords - failedBefore).toBe(1); // the 429 failed the receive, not a quick retry

  // A Retry-After longer than an in-process wait and than the first backoff (≤ 5 s): the next call comes no sooner than it says.
  await sim(h.sequence.url, 'DELETE', '/_sim/requests');
  await sim(h.sequence.url, 'POST', '/_sim/faults', { failNext: 1, statuses: [429], retryAfterSeconds: 8 });
  await notifyInvoice(withRetryAfter, 'INVOICE_CREATED');
  await eventually('the draft taxed after Retry-After', async () => (await taxRecord(withRetryAfter)).status === 'CALCULATED', { timeoutMs: RECOVERY_DEADLINE_MS, everyMs: 250 });
  const calls = (await sim<{ items: LoggedRequest[] }>(h.sequence.url, 'GET', '/_sim/requests')).items.filter((r) => !r.path.startsWith('/_sim'));
  const tooMany = calls.findIndex((r) => r.status === 429);
  expect(tooMany).toBeGreaterThanOrEqual(0);
  const next = calls[tooMany + 1]!;
  expect(Date.parse(next.timestamp) - Date.parse(calls[tooMany]!.timestamp)).toBeGreaterThanOrEqual(8000);
  await sim(h.sequence.url, 'POST', '/_sim/faults', { retryAfterSeconds: null });
}, 120_000);
