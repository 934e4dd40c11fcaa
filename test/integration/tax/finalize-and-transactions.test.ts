/**
 * Finalise with tax, transaction records, failures and exemption changes, end to end through the
 * local runtime: the admin routes (bearer token), the direct Lambda invocation of
 * calculate-invoice-tax, the invoice-tax and exemptions queue workers, both simulators.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { type TaxRecord } from '../../../shared/domain/invoice-tax';
import { messageGroupId } from '../../../shared/runtime/queue-messages';
import { logger } from '../../../shared/runtime/observability';
import { TransactionRepository } from '../../../shared/store/transactions';
import { ADDRESSES, CATEGORY, customerBody, invoiceSeed, priceBody, sim, TAX_CODES, useTaxHarness } from './harness';
import { eventually } from '../../support/eventually';

const h = useTaxHarness();
let transactions: TransactionRepository;

beforeAll(() => {
  transactions = new TransactionRepository(h.deps.db, h.deps.config.connectorTableName);
});

const { SACRAMENTO, NOWHERE } = ADDRESSES;

const base = () => `/connections/${h.connection.id}`;

async function seedTaxedInvoice(name: string, address: Record<string, string> = SACRAMENTO): Promise<{ invoiceId: string; lineIds: string[]; customerId: string }> {
  const seeded = await h.seed(
    invoiceSeed({
      customer: customerBody(name, address),
      lines: [
        { title: 'Plan', quantity: '1', rate: '120.00' },
        { title: 'Seats', quantity: '3', rate: '9.99' },
      ],
    }),
  );
  return { invoiceId: seeded.invoices[0]!.id, lineIds: seeded.invoices[0]!.lineItemIds, customerId: seeded.customers[0]! };
}

/** What webhook ingest would queue for an invoice or credit note notification. */
async function notify(kind: 'invoice' | 'credit_note', id: string): Promise<void> {
  const message =
    kind === 'invoice'
      ? { kind, connectionId: h.connection.id, trigger: 'webhook' as const, invoiceId: id, notificationType: 'INVOICE_UPDATED' }
      : { kind, connectionId: h.connection.id, trigger: 'webhook' as const, creditNoteId: id, notificationType: 'CREDIT_NOTE_ISSUED' };
  await h.deps.queues.send('invoiceTax', { message, groupId: messageGroupId(h.connection.id, id), deduplicationId: randomUUID() });
}

async function transactionOf(externalId: string) {
  return (await h.sphereTransactions()).find((t) => t.external_id === externalId);
}

interface FinalizeBody {
  invoice: { id: string; status: string; totalTax: string };
  taxRecord: TaxRecord;
}

it('finalises with tax (admin route), records the debit transaction once, and keeps secrets out of every log line', async () => {
  const captured: string[] = [];
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => jest.spyOn(console, m).mockImplementation((...args: unknown[]) => void captured.push(args.map(String).join(' '))));
  const writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (captured.push(String(chunk)), true));
  logger.setLogLevel('DEBUG');
  let invoiceId = '';
  try {
    ({ invoiceId } = await seedTaxedInvoice('Finalize Corp'));
    const response = await h.admin.call<FinalizeBody>('POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(response.status).toBe(200);
    expect(response.body.invoice).toMatchObject({ id: invoiceId, status: 'FINAL' });
    expect(response.body.taxRecord).toMatchObject({ status: 'CALCULATED', invoiceId });
    // Sequence finalised the invoice with exactly Sphere's tax: 120.00 → 7.20 + 1.50; 29.97 → 1.80 + 0.37
    const invoice = await h.getInvoice(invoiceId);
    expect(invoice.status).toBe('FINAL');
    expect(invoice.totalTax).toBe('10.87');
    expect(response.body.taxRecord.totalTax).toBe('10.87');

    await eventually('debit transaction in Sphere', () => transactionOf(invoiceId));
    await h.settle();
  } finally {
    logger.setLogLevel('SILENT');
    writeSpy.mockRestore();
    for (const s of spies) s.mockRestore();
  }
  const txn = (await transactionOf(invoiceId))!;
  expect(txn).toMatchObject({ type: 'debit', status: 'finalized', currency: 'usd', tax: '10.87' });
  expect(txn.line_items.map((l) => l.amount)).toEqual(['120.00', '29.97']);
  expect(await transactions.get(h.connection.id, invoiceId)).toMatchObject({ state: 'RECORDED', type: 'debit' });

  // A second FINAL notification (e.g. INVOICE_UPDATED on send) records nothing new.
  const before = (await h.deps.connections.get(h.connection.id))!.counts.transactionsRecorded;
  await notify('invoice', invoiceId);
  await h.settle();
  expect((await h.deps.connections.get(h.connection.id))!.counts.transactionsRecorded).toBe(before);
  expect((await h.sphereTransactions()).filter((t) => t.external_id === invoiceId)).toHaveLength(1);

  const logText = captured.join('\n');
  expect(logText).toContain('Invoice taxed'); // the flow's own log lines were captured
  for (const secret of [h.sequence.clientSecret, 'sph_test_local', h.webhookSecret, Buffer.from(`${h.sequence.clientId}:${h.sequence.clientSecret}`).toString('base64')]) {
    expect(logText).not.toContain(secret);
  }
});

it('finalises through the direct Lambda invocation, and a void cancels the Sphere transaction', async () => {
  const { invoiceId } = await seedTaxedInvoice('Direct Invoke Ltd');
  const { handler } = await import('../../../functions/calculate-invoice-tax/handler');
  const result = await handler({ connectionId: h.connection.id, invoiceId, finalize: true }, {} as Context);
  expect(result).toMatchObject({ statusCode: 200, invoiceId, invoiceStatus: 'FINAL', taxRecord: { status: 'CALCULATED', totalTax: '10.87' } });
  await eventually('debit transaction', () => transactionOf(invoiceId));

  const invalid = await handler({ connectionId: h.connection.id, invoiceId: 42 } as never, {} as Context);
  expect(invalid).toMatchObject({ statusCode: 400, error: { code: 'invalid_request' } });
  const notDraft = await handler({ connectionId: h.connection.id, invoiceId }, {} as Context);
  expect(notDraft).toMatchObject({ statusCode: 409, error: { code: 'invoice_not_draft' } });

  await h.sequenceApi('POST', `/invoices/${invoiceId}/void`);
  await notify('invoice', invoiceId);
  await h.settle();
  expect(await transactionOf(invoiceId)).toMatchObject({ status: 'cancelled' });
  expect(await transactions.get(h.connection.id, invoiceId)).toMatchObject({ state: 'CANCELLED' });

  // A draft voided before it was ever recorded: Sphere answers 404, recorded as nothing to cancel.
  const { invoiceId: draftId } = await seedTaxedInvoice('Never Recorded Inc');
  await h.sequenceApi('POST', `/invoices/${draftId}/void`);
  await notify('invoice', draftId);
  await h.settle();
  expect(await transactions.get(h.connection.id, draftId)).toMatchObject({ state: 'NOTHING_TO_CANCEL' });
  expect(await transactionOf(draftId)).toBeUndefined();
});

/** The deployed calculate-invoice-tax module, invoked the way a billing workflow's Lambda Invoke does. */
async function invokeDirectly(payload: { connectionId: string; invoiceId: string; finalize?: boolean }) {
  const { handler } = await import('../../../functions/calculate-invoice-tax/handler');
  return handler(payload, {} as Context);
}

it('taxes a draft through the direct Lambda invocation without finalize, leaving it DRAFT', async () => {
  const { invoiceId } = await seedTaxedInvoice('Quote Only Corp');
  const result = await invokeDirectly({ connectionId: h.connection.id, invoiceId });
  expect(result).toMatchObject({ statusCode: 200, invoiceId, invoiceStatus: 'DRAFT', taxRecord: { status: 'CALCULATED', invoiceId, totalTax: '10.87' } });
  const invoice = await h.getInvoice(invoiceId);
  expect(invoice).toMatchObject({ status: 'DRAFT', totalTax: '10.87' });
  expect((await h.admin.call<TaxRecord>('GET', `${base()}/invoices/${invoiceId}/tax`)).body).toMatchObject({ status: 'CALCULATED', totalTax: '10.87' });
  await h.settle();
  expect(await transactionOf(invoiceId)).toBeUndefined(); // a draft is never recorded
});

it('answers 422 through the direct invocation for an address Sphere cannot locate: invoice stays DRAFT, failure listed', async () => {
  const { invoiceId } = await seedTaxedInvoice('Direct Lost Address LLC', NOWHERE);
  const failuresBefore = (await h.deps.connections.get(h.connection.id))!.counts.failures;
  const result = await invokeDirectly({ connectionId: h.connection.id, invoiceId, finalize: true });
  expect(result).toMatchObject({ statusCode: 422, error: { code: 'customer_tax_location_invalid', message: expect.stringMatching(/address/i) } });
  expect((await h.getInvoice(invoiceId)).status).toBe('DRAFT');
  const listed = await h.admin.call<{ items: { resourceType: string; resourceId: string; code: string; retryable: boolean }[] }>('GET', `${base()}/failures`);
  expect(listed.body.items).toContainEqual(expect.objectContaining({ resourceType: 'invoice', resourceId: invoiceId, code: 'customer_tax_location_invalid', retryable: false }));
  expect((await h.deps.connections.get(h.connection.id))!.counts.failures).toBe(failuresBefore + 1);
});

it('answers 503 with a retry hint through the direct invocation while Sphere is down: invoice stays DRAFT, retryable failure kept', async () => {
  await h.settle();
  const { invoiceId } = await seedTaxedInvoice('Direct Outage Co');
  await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 1, statuses: [503] });
  let result: Awaited<ReturnType<typeof invokeDirectly>>;
  try {
    result = await invokeDirectly({ connectionId: h.connection.id, invoiceId, finalize: true });
  } finally {
    await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 0 });
  }
  expect(result).toMatchObject({ statusCode: 503, error: { code: 'upstream_server_error', retryable: true, message: expect.stringMatching(/try again/i) } });
  const retryAfterSeconds = (result as { retryAfterSeconds?: number }).retryAfterSeconds;
  expect(Number.isInteger(retryAfterSeconds)).toBe(true);
  expect(retryAfterSeconds).toBeGreaterThanOrEqual(1);
  expect((await h.getInvoice(invoiceId)).status).toBe('DRAFT');
  const listed = await h.admin.call<{ items: { resourceId: string; retryable: boolean; kind: string }[] }>('GET', `${base()}/failures`);
  expect(listed.body.items).toContainEqual(expect.objectContaining({ resourceId: invoiceId, retryable: true, kind: 'retryable' }));
});

it('clears the failure record when a later admin calculation succeeds (the record is looked up beside the calculation)', async () => {
  await h.settle();
  const { invoiceId } = await seedTaxedInvoice('Admin Outage Then Fine Inc');
  const failuresBefore = (await h.deps.connections.get(h.connection.id))!.counts.failures;
  await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 1, statuses: [503] });
  try {
    expect((await h.admin.call('POST', `${base()}/invoices/${invoiceId}/tax`)).status).toBe(503);
  } finally {
    await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 0 });
  }
  const failed = await h.admin.call<{ items: { resourceId: string }[] }>('GET', `${base()}/failures`);
  expect(failed.body.items.map((i) => i.resourceId)).toContain(invoiceId);
  expect((await h.deps.connections.get(h.connection.id))!.counts.failures).toBe(failuresBefore + 1);

  expect((await h.admin.call<TaxRecord>('POST', `${base()}/invoices/${invoiceId}/tax`)).body).toMatchObject({ status: 'CALCULATED', invoiceId });
  const after = await h.admin.call<{ items: { resourceId: string }[] }>('GET', `${base()}/failures`);
  expect(after.body.items.map((i) => i.resourceId)).not.toContain(invoiceId);
  expect((await h.deps.connections.get(h.connection.id))!.counts.failures).toBe(failuresBefore);
});

it('records an issued credit note as a credit against the original invoice transaction', async () => {
  const { invoiceId, lineIds, customerId } = await seedTaxedInvoice('Refund Me GmbH');
  expect((await h.admin.call('POST', `${base()}/invoices/${invoiceId}/finalize`)).status).toBe(200);
  await eventually('debit transaction', () => transactionOf(invoiceId));
  const creditNote = await h.sequenceApi<{ id: string }>('POST', '/credit-notes', { currency: 'USD', customerId, invoiceId });
  await h.sequenceApi('POST', `/credit-notes/${creditNote.id}/line-items`, { title: 'Refund plan', quantity: '1', rate: '20.00', taxRate: '0.0725', externalIds: [], lineItemId: lineIds[0] });
  await h.sequenceApi('POST', `/credit-notes/${creditNote.id}/finalize`);
  await notify('credit_note', creditNote.id);
  await h.settle();
  const credit = await transactionOf(creditNote.id);
  const debit = (await transactionOf(invoiceId))!;
  expect(credit).toMatchObject({ type: 'credit', status: 'finalized', original_transaction_id: invoiceId });
  expect(credit!.line_items).toEqual([expect.objectContaining({ amount: '20.00', product_id: debit.line_items[0]!.product_id })]);
  expect(await transactions.get(h.connection.id, creditNote.id)).toMatchObject({ state: 'RECORDED', type: 'credit', originalTransactionId: invoiceId });
});

it.each([
  ['finalised with tax (the tax record names the product)', 'connector'],
  ['finalised in Sequence without a calculation (the planning rules name it)', 'sequence'],
] as const)('files a refund of a group-categorised line under the same Sphere product as the sale: %s', async (_how, finalizedBy) => {
  // A product with no tax category of its own, sold in a group that has one: the line is taxed as
  // the group category's stand-in product, so its refund must be filed under that product too.
  const seeded = await h.seed({
    customers: [customerBody(`Grouped Refund ${finalizedBy} Co`, SACRAMENTO)],
    products: [{ name: 'Uncategorised consulting' }],
    prices: [priceBody('$products[0]', 'USD')],
    invoices: [
      {
        customerId: '$customers[0]',
        currency: 'USD',
        lineItemGroups: [{ title: 'Cloud', taxCategoryId: CATEGORY.saas, lineItems: [{ title: 'Consulting', quantity: '2', rate: '50.00', taxRate: '0', priceId: '$prices[0]' }] }],
        ...(finalizedBy === 'sequence' ? { status: 'FINAL' } : {}),
      },
    ],
  });
  const invoiceId = seeded.invoices[0]!.id;
  const standIn = `sequence-tax-category:${CATEGORY.saas}`;
  if (finalizedBy === 'connector') expect((await h.admin.call('POST', `${base()}/invoices/${invoiceId}/finalize`)).status).toBe(200);
  else await notify('invoice', invoiceId);
  const debit = await eventually('debit transaction', () => transactionOf(invoiceId));
  expect(debit.line_items.map((l) => l.product_id)).toEqual([standIn]);

  const creditNote = await h.sequenceApi<{ id: string }>('POST', '/credit-notes', { currency: 'USD', customerId: seeded.customers[0], invoiceId });
  await h.sequenceApi('POST', `/credit-notes/${creditNote.id}/line-items`, {
    title: 'Refund consulting',
    quantity: '1',
    rate: '50.00',
    taxRate: '0.0725',
    externalIds: [],
    lineItemId: seeded.invoices[0]!.lineItemIds[0],
    productId: seeded.products[0],
  });
  await h.sequenceApi('POST', `/credit-notes/${creditNote.id}/finalize`);
  await notify('credit_note', creditNote.id);
  await h.settle();
  const credit = (await transactionOf(creditNote.id))!;
  expect(credit).toMatchObject({ type: 'credit', status: 'finalized', original_transaction_id: invoiceId });
  expect(credit.line_items).toEqual([expect.objectContaining({ amount: '50.00', product_id: standIn })]);
  // Filed under the group category's tax code, not the connection's default.
  const products = (await sim<{ products: { external_id: string; tax_code: string }[] }>(h.sphere.url, 'GET', '/_sim/state')).products;
  expect(products.find((p) => p.external_id === standIn)?.tax_code).toBe(TAX_CODES.byTaxCategory[CATEGORY.saas]);
});

it('keeps an invoice with an address Sphere cannot locate in DRAFT (422), lists the failure, and a retry after the fix succeeds', async () => {
  const { invoiceId } = await seedTaxedInvoice('Lost Address LLC', NOWHERE);
  const failuresBefore = (await h.deps.connections.get(h.connection.id))!.counts.failures;
  const response = await h.admin.call<{ error: { code: string; message: string } }>('POST', `${base()}/invoices/${invoiceId}/finalize`);
  expect(response.status).toBe(422);
  expect(response.body.error.code).toBe('customer_tax_location_invalid');
  expect(response.body.error.message).toMatch(/address/i);
  expect((await h.getInvoice(invoiceId)).status).toBe('DRAFT');
  expect((await h.admin.call<TaxRecord>('GET', `${base()}/invoices/${invoiceId}/tax`)).body).toMatchObject({ status: 'FAILED', errorCode: 'customer_tax_location_invalid' });

  const listed = await h.admin.call<{ items: { resourceType: string; resourceId: string; code: string; retryable: boolean; fix?: string }[] }>('GET', `${base()}/failures`);
  expect(listed.status).toBe(200);
  expect(listed.body.items).toContainEqual(expect.objectContaining({ resourceType: 'invoice', resourceId: invoiceId, code: 'customer_tax_location_invalid', retryable: false, fix: expect.stringMatching(/address/) }));
  expect((await h.deps.connections.get(h.connection.id))!.counts.failures).toBe(failuresBefore + 1);

  // The merchant fixes the address in Sequence, then retries.
  await h.sequenceApi('PATCH', `/invoices/${invoiceId}`, { customerBillingAddress: SACRAMENTO });
  const retry = await h.admin.call<{ requeued: number }>('POST', `${base()}/failures/retry`, { resourceType: 'invoice', resourceId: invoiceId });
  expect(retry.status).toBe(202);
  expect(retry.body.requeued).toBe(1);
  await h.settle();
  const record = await eventually('recalculated record', async () => {
    const r = await h.admin.call<TaxRecord>('GET', `${base()}/invoices/${invoiceId}/tax`);
    return r.body.status === 'CALCULATED' ? r.body : undefined;
  });
  expect(record.totalTax).toBe('10.87');
  const after = await h.admin.call<{ items: { resourceId: string }[] }>('GET', `${base()}/failures`);
  expect(after.body.items.map((f) => f.resourceId)).not.toContain(invoiceId);
  expect((await h.deps.connections.get(h.connection.id))!.counts.failures).toBe(failuresBefore);
  const finalized = await h.admin.call<FinalizeBody>('POST', `${base()}/invoices/${invoiceId}/finalize`);
  expect(finalized.status).toBe(200);
  expect(finalized.body.invoice.status).toBe('FINAL');
});

it('answers 503 when Sphere is down after retries, leaves the invoice DRAFT, and keeps a retryable failure', async () => {
  await h.settle();
  const { invoiceId } = await seedTaxedInvoice('Outage Victim Co');
  await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 1, statuses: [503] });
  try {
    const response = await h.admin.call<{ error: { code: string; retryable: boolean } }>('POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(response.status).toBe(503);
    expect(response.body.error).toMatchObject({ code: 'upstream_server_error', retryable: true });
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
  } finally {
    await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 0 });
  }
  expect((await h.getInvoice(invoiceId)).status).toBe('DRAFT');
  const listed = await h.admin.call<{ items: { resourceId: string; retryable: boolean; kind: string }[] }>('GET', `${base()}/failures`);
  expect(listed.body.items).toContainEqual(expect.objectContaining({ resourceId: invoiceId, retryable: true, kind: 'retryable' }));

  const retry = await h.admin.call<{ requeued: number }>('POST', `${base()}/failures/retry`, { all: true });
  expect(retry.status).toBe(202);
  expect(retry.body.requeued).toBeGreaterThanOrEqual(1);
  await h.settle();
  await eventually('failure cleared', async () => !(await h.admin.call<{ items: { resourceId: string }[] }>('GET', `${base()}/failures`)).body.items.some((f) => f.resourceId === invoiceId));
  expect((await h.admin.call<TaxRecord>('GET', `${base()}/invoices/${invoiceId}/tax`)).body.status).toBe('CALCULATED');
});

it("re-taxes a customer's open drafts when its tax status changes (exemptions worker)", async () => {
  const { invoiceId, customerId } = await seedTaxedInvoice('Soon Exempt Foundation');
  const taxed = await h.admin.call<TaxRecord>('POST', `${base()}/invoices/${invoiceId}/tax`);
  expect(taxed.body.totalTax).toBe('10.87');

  const customer = await h.sequenceApi<Record<string, unknown>>('GET', `/customers/${customerId}`);
  await h.sequenceApi('PUT', `/customers/${customerId}`, { ...customerBody('Soon Exempt Foundation', SACRAMENTO, 'TAX_EXEMPT'), contacts: (customer.contacts as Record<string, unknown>[]).map((c) => ({ name: c.name, email: c.email, billingPreference: c.billingPreference })) });
  // The sync flow's message (shared/sync): the customer's tax treatment changed.
  await h.deps.queues.send('exemptions', {
    message: { kind: 'exemption_changed', connectionId: h.connection.id, trigger: 'webhook', customerId, previousTaxStatus: 'TAXED', taxStatus: 'TAX_EXEMPT', registrationsChanged: false },
    groupId: messageGroupId(h.connection.id, customerId),
    deduplicationId: randomUUID(),
  });
  await h.settle();
  const record = await eventually('re-taxed record', async () => {
    const r = await h.admin.call<TaxRecord>('GET', `${base()}/invoices/${invoiceId}/tax`);
    return r.body.reason === 'customer_exempt' ? r.body : undefined;
  });
  expect(record).toMatchObject({ totalTax: '0.00', taxStatus: 'TAX_EXEMPT' });
  expect((await h.invoiceLines(invoiceId)).every((l) => l.totalTax === '0.00')).toBe(true);
  expect((await h.getInvoice(invoiceId)).totalTax).toBe('0.00');
});

// Through the real chain: CUSTOMER_UPDATED webhook → ingest → customer-sync worker → exemptions worker → invoice-tax worker.
// fauxqs deduplicates FIFO messages for 5 minutes like SQS: a change repeating an earlier one's shape must still arrive.
it("re-taxes the open draft on every exemption change, even one repeating an earlier change's shape within SQS's 5-minute deduplication window", async () => {
  const { invoiceId, customerId } = await seedTaxedInvoice('Flip Flop Foundation');
  // The first calculation syncs (and tags) the customer: its link now says TAXED.
  const first = await h.admin.call<TaxRecord>('POST', `${base()}/invoices/${invoiceId}/tax`);
  expect(first.body).toMatchObject({ status: 'CALCULATED', taxStatus: 'TAXED', totalTax: '10.87' });
  await h.registerWebhooks(['CUSTOMER_UPDATED']);

  const expected = { TAXED: '10.87', TAX_EXEMPT: '0.00' } as const;
  for (const taxStatus of ['TAX_EXEMPT', 'TAXED', 'TAX_EXEMPT'] as const) {
    await h.setCustomerTaxStatus(customerId, taxStatus);
    await h.settle();
    const record = (await h.admin.call<TaxRecord>('GET', `${base()}/invoices/${invoiceId}/tax`)).body;
    expect({ taxStatus: record.taxStatus, totalTax: record.totalTax }).toEqual({ taxStatus, totalTax: expected[taxStatus] });
    expect((await h.getInvoice(invoiceId)).totalTax).toBe(expected[taxStatus]);
  }
});

it('validates the retry body and answers 404 when no failure matches', async () => {
  expect((await h.admin.call('POST', `${base()}/failures/retry`, { bogus: 1 })).status).toBe(400);
  expect((await h.admin.call('POST', `${base()}/failures/retry`, { resourceId: 'nothing-failed-here' })).status).toBe(404);
  expect((await h.admin.call('GET', `/connections/conn_unknown/failures`)).status).toBe(404);
});
