/**
 * The invoice-tax flow through the deployed wiring: every admin route served by the real
 * functions/admin-api/handler.ts as local/wiring.ts mounts it (as every tax harness now hosts it),
 * and Sequence's signed webhooks (the connector's own policy, every consumed notification type)
 * through the real webhook ingest into the queue workers.
 */
import { CONSUMED_NOTIFICATION_TYPES } from '../../../shared/webhooks/routing';
import { type TaxRecord } from '../../../shared/domain/invoice-tax';
import { TransactionRepository } from '../../../shared/store/transactions';
import { ADDRESSES, customerBody, invoiceSeed, useTaxHarness } from './harness';
import { eventually } from '../../support/eventually';

const h = useTaxHarness();
let transactions: TransactionRepository;

beforeAll(async () => {
  transactions = new TransactionRepository(h.deps.db, h.deps.config.connectorTableName);
  // As POST /connections leaves it: its webhook policy registered (so PATCH only updates).
  const policyId = await h.registerWebhooks([...CONSUMED_NOTIFICATION_TYPES]);
  await h.deps.connections.update(h.connection.id, { notificationPolicyId: policyId });
});

const { SACRAMENTO } = ADDRESSES;

const base = () => `/connections/${h.connection.id}`;

async function seedTaxedInvoice(name: string): Promise<string> {
  return (await seedTaxedInvoiceWithLines(name)).invoiceId;
}

async function seedTaxedInvoiceWithLines(name: string): Promise<{ invoiceId: string; lineIds: string[]; customerId: string }> {
  const seeded = await h.seed(invoiceSeed({ customer: customerBody(name, SACRAMENTO), lines: [{ title: 'Plan', quantity: '1', rate: '120.00' }] }));
  return { invoiceId: seeded.invoices[0]!.id, lineIds: seeded.invoices[0]!.lineItemIds, customerId: seeded.customers[0]! };
}

async function connectionOptions(): Promise<Record<string, unknown>> {
  const response = await h.admin.call<{ options: Record<string, unknown> }>('GET', base());
  expect(response.status).toBe(200);
  return response.body.options;
}

async function recordedCount(): Promise<number> {
  return (await h.deps.connections.get(h.connection.id))!.counts.transactionsRecorded;
}

it('serves POST …/invoices/{invoiceId}/tax and …/finalize from the deployed connect handler', async () => {
  const invoiceId = await seedTaxedInvoice('Deployed Handler Inc');
  const taxed = await h.admin.call<TaxRecord>('POST', `${base()}/invoices/${invoiceId}/tax`);
  expect(taxed.status).toBe(200);
  expect(taxed.body).toMatchObject({ invoiceId, status: 'CALCULATED', currency: 'USD', totalTax: '8.70', calculationId: expect.any(String) });
  expect(taxed.body.lines).toEqual([expect.objectContaining({ amount: '120.00', taxAmount: '8.70' })]);
  expect((await h.admin.call<TaxRecord>('GET', `${base()}/invoices/${invoiceId}/tax`)).body).toEqual(taxed.body);
  const draft = await h.getInvoice(invoiceId);
  expect(draft).toMatchObject({ status: 'DRAFT', totalTax: '8.70' });
  expect(draft.metadata).toContainEqual({ key: 'sphere_tax_calculation_id', value: taxed.body.calculationId });
  await h.settle(); // the INVOICE_UPDATED webhooks our own writes caused

  const finalized = await h.admin.call<{ invoice: { id: string; status: string; totalTax: string }; taxRecord: TaxRecord }>('POST', `${base()}/invoices/${invoiceId}/finalize`);
  expect(finalized.status).toBe(200);
  expect(finalized.body.invoice).toMatchObject({ id: invoiceId, status: 'FINAL', totalTax: '8.70' });
  expect(finalized.body.taxRecord).toMatchObject({ invoiceId, status: 'CALCULATED', totalTax: '8.70', calculationId: taxed.body.calculationId });
  expect(await h.getInvoice(invoiceId)).toMatchObject({ status: 'FINAL', totalTax: '8.70' });

  for (const action of ['tax', 'finalize']) {
    const again = await h.admin.call('POST', `${base()}/invoices/${invoiceId}/${action}`);
    expect(again.status).toBe(409);
    expect(again.body).toEqual({ error: { code: 'invoice_not_draft', message: expect.stringContaining(invoiceId) } });
  }
  await h.settle();
});

it('records no Sphere transaction while recordTransactions is off (PATCH options), and records the next one once it is back on', async () => {
  const off = await h.admin.call<{ options: Record<string, unknown> }>('PATCH', base(), { options: { recordTransactions: false } });
  expect(off.status).toBe(200);
  expect(off.body.options).toEqual({ recordTransactions: false, calculateOnDraft: true });

  const unrecordedId = await seedTaxedInvoice('Not Recorded Yet Inc');
  const recordedBefore = await recordedCount();
  const finalized = await h.admin.call<{ invoice: { status: string } }>('POST', `${base()}/invoices/${unrecordedId}/finalize`);
  expect(finalized.status).toBe(200);
  expect(finalized.body.invoice.status).toBe('FINAL');
  // The FINAL invoice reached the worker twice: the connector's own queued record and the INVOICE_UPDATED webhook.
  await eventually('FINAL notification delivered', () =>
    h.sequence.deliveries.some((d) => d.state === 'delivered' && d.resourceId === unrecordedId && d.body.includes('"status":"FINAL"')),
  );
  await h.settle();
  expect((await h.sphereTransactions()).filter((t) => t.external_id === unrecordedId)).toEqual([]);
  expect(await transactions.get(h.connection.id, unrecordedId)).toBeUndefined();
  expect(await recordedCount()).toBe(recordedBefore);

  const on = await h.admin.call<{ options: Record<string, unknown> }>('PATCH', base(), { options: { recordTransactions: true } });
  expect(on.status).toBe(200);
  expect(await connectionOptions()).toEqual({ recordTransactions: true, calculateOnDraft: true });

  const nextId = await seedTaxedInvoice('Recorded Again Ltd');
  expect((await h.admin.call('POST', `${base()}/invoices/${nextId}/finalize`)).status).toBe(200);
  const txn = await eventually('debit transaction', async () => (await h.sphereTransactions()).find((t) => t.external_id === nextId));
  await h.settle();
  expect(txn).toMatchObject({ type: 'debit', status: 'finalized', tax: '8.70' });
  expect(await transactions.get(h.connection.id, nextId)).toMatchObject({ state: 'RECORDED', type: 'debit' });
  expect(await recordedCount()).toBe(recordedBefore + 1);
});

it("cancels a credit note's Sphere credit transaction when the credit note is voided (CREDIT_NOTE_UPDATED webhook)", async () => {
  const { invoiceId, lineIds, customerId } = await seedTaxedInvoiceWithLines('Void My Refund Corp');
  expect((await h.admin.call('POST', `${base()}/invoices/${invoiceId}/finalize`)).status).toBe(200);
  await eventually('debit transaction', async () => (await h.sphereTransactions()).find((t) => t.external_id === invoiceId));

  // Issued: Sequence's CREDIT_NOTE_UPDATED (status FINAL) records the credit.
  const creditNote = await h.sequenceApi<{ id: string }>('POST', '/credit-notes', { currency: 'USD', customerId, invoiceId });
  await h.sequenceApi('POST', `/credit-notes/${creditNote.id}/line-items`, { title: 'Refund plan', quantity: '1', rate: '20.00', taxRate: '0.0725', externalIds: [], lineItemId: lineIds[0] });
  await h.sequenceApi('POST', `/credit-notes/${creditNote.id}/finalize`);
  await h.settle();
  const credit = await eventually('credit transaction', async () => (await h.sphereTransactions()).find((t) => t.external_id === creditNote.id));
  expect(credit).toMatchObject({ type: 'credit', status: 'finalized', original_transaction_id: invoiceId });
  expect(await transactions.get(h.connection.id, creditNote.id)).toMatchObject({ state: 'RECORDED', type: 'credit' });

  // Voided: Sequence sends CREDIT_NOTE_UPDATED with status VOIDED; only the credit is cancelled.
  await h.sequenceApi('POST', `/credit-notes/${creditNote.id}/void`);
  await eventually('VOIDED notification delivered', () =>
    h.sequence.deliveries.some((d) => d.state === 'delivered' && d.notificationType === 'CREDIT_NOTE_UPDATED' && d.resourceId === creditNote.id && d.body.includes('"status":"VOIDED"')),
  );
  await h.settle();
  const after = await h.sphereTransactions();
  expect(after.find((t) => t.external_id === creditNote.id)).toMatchObject({ type: 'credit', status: 'cancelled' });
  expect(after.find((t) => t.external_id === invoiceId)).toMatchObject({ type: 'debit', status: 'finalized' });
  expect(await transactions.get(h.connection.id, creditNote.id)).toMatchObject({ state: 'CANCELLED', type: 'credit', documentType: 'credit_note' });
  expect(await transactions.get(h.connection.id, invoiceId)).toMatchObject({ state: 'RECORDED' });
});
