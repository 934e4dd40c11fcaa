/**
 * Recording finalised documents in Sphere (shared/tax/transactions.ts) on in-memory ports: each
 * invoice and credit note is recorded once, filed under the products it was taxed as, with the tax
 * Sphere records equal to the document's. The emulator suite is
 * test/integration/tax/finalize-and-transactions.test.ts.
 */
import { SIM_TAX_CATEGORY_IDS } from '../../../local/sequence-sim/store';
import { Decimal } from '../../../shared/domain/decimal';
import { calculateInvoiceTax } from '../../../shared/tax/calculate';
import { cancelTransaction, recordCreditNote, recordInvoiceTransaction } from '../../../shared/tax/transactions';
import { type FakeWorld, SPHERE_CODES, fakeWorld } from '../../support/fakes';

const SACRAMENTO = { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' };

let w: FakeWorld;

beforeEach(() => {
  w = fakeWorld({ taxCodes: { default: SPHERE_CODES.electronicServices, byTaxCategory: { [SIM_TAX_CATEGORY_IDS.saas]: SPHERE_CODES.saasBusiness } } });
});

/**
 * A taxed, finalised invoice: a SaaS line, and a line whose product has no tax category of its own
 * but sits in a group that has one (taxed as that category's stand-in product).
 */
async function finalisedInvoice() {
  const customer = w.seed.customer('Capitol Widgets', SACRAMENTO);
  const saas = w.seed.product('Cloud seat', 'USD', SIM_TAX_CATEGORY_IDS.saas);
  const plain = w.seed.product('Onboarding', 'USD');
  const draft = w.seed.invoice(
    customer.id,
    'USD',
    [{ title: 'Seats', quantity: '3', rate: '19.99', priceId: saas.priceId }],
    [{ title: 'Services', taxCategoryId: SIM_TAX_CATEGORY_IDS.standard, lines: [{ title: 'Onboarding', quantity: '2', rate: '12.34', priceId: plain.priceId }] }],
  );
  const { record } = await calculateInvoiceTax(w.ctx, w.connection, draft.id);
  const invoice = await w.sequence.finalizeInvoice(draft.id);
  const lines = w.sequence.resources.invoices.lines(draft.id);
  return { invoice, record, lines, groupedLine: lines.find((l) => l.title === 'Onboarding')!, plainProductId: plain.product.id };
}

const transactionPosts = () => w.sphere.callsTo('POST /v1/transactions').filter((c) => !c.endsWith('/cancel'));

it('records a finalised invoice once, filed under the products it was taxed as, with Sphere’s tax equal to the invoice’s', async () => {
  const { invoice, record } = await finalisedInvoice();

  const first = await recordInvoiceTransaction(w.ctx, w.connection, w.clients, invoice);
  const second = await recordInvoiceTransaction(w.ctx, w.connection, w.clients, invoice);

  expect(first).toMatchObject({ action: 'recorded', record: { documentId: invoice.id, type: 'debit', state: 'RECORDED' } });
  expect(second).toMatchObject({ action: 'already_done', record: { documentId: invoice.id } });
  expect(transactionPosts()).toHaveLength(1);
  expect(w.connections.count(w.connection.id, 'transactionsRecorded')).toBe(1);
  const debit = w.sphere.transactions.get(invoice.id)!.transaction;
  expect(debit).toMatchObject({ type: 'debit', status: 'finalized', customerId: invoice.customerId });
  expect(new Decimal(debit.tax!).equals(invoice.totalTax)).toBe(true);
  expect(new Map(debit.lineItems.map((l) => [l.id, l.productId]))).toEqual(new Map(record.lines.map((l) => [l.lineItemId, l.sphereProductId])));
  expect(w.failures.warnings.size).toBe(0);
});

it('files a refunded line under the debit’s product (a grouped line’s category stand-in), against the recorded invoice', async () => {
  const { invoice, groupedLine, plainProductId, record } = await finalisedInvoice();
  await recordInvoiceTransaction(w.ctx, w.connection, w.clients, invoice);
  const r = w.sequence.resources;
  const note = r.creditNotes.create({ customerId: invoice.customerId, currency: 'USD', invoiceId: invoice.id });
  r.creditNotes.createLine(note.id, { title: 'Onboarding refund', quantity: groupedLine.quantity, rate: groupedLine.rate, taxRate: groupedLine.taxRate, lineItemId: groupedLine.id, productId: plainProductId, externalIds: [] });
  const issued = r.creditNotes.issue(note.id);

  const outcome = await recordCreditNote(w.ctx, w.connection, w.clients, await w.sequence.getCreditNote(issued.id));
  const again = await recordCreditNote(w.ctx, w.connection, w.clients, await w.sequence.getCreditNote(issued.id));

  expect(outcome).toMatchObject({ action: 'recorded', record: { type: 'credit', originalTransactionId: invoice.id } });
  expect(again.action).toBe('already_done');
  const credit = w.sphere.transactions.get(note.id)!.transaction;
  const debitProduct = record.lines.find((l) => l.lineItemId === groupedLine.id)!.sphereProductId;
  expect(debitProduct).toBe(`sequence-tax-category:${SIM_TAX_CATEGORY_IDS.standard}`);
  expect(credit.lineItems.map((l) => l.productId)).toEqual([debitProduct]);
  expect(new Decimal(credit.tax!).equals(r.creditNotes.get(note.id).totalTax)).toBe(true);
  expect(w.connections.count(w.connection.id, 'transactionsRecorded')).toBe(2);
});

it('records the refunded invoice first when its credit note arrives before it', async () => {
  const { invoice, groupedLine } = await finalisedInvoice();
  const r = w.sequence.resources;
  const note = r.creditNotes.create({ customerId: invoice.customerId, currency: 'USD', invoiceId: invoice.id });
  r.creditNotes.createLine(note.id, { title: 'Refund', quantity: '1', rate: groupedLine.rate, taxRate: groupedLine.taxRate, lineItemId: groupedLine.id, externalIds: [] });
  const issued = r.creditNotes.issue(note.id);

  await recordCreditNote(w.ctx, w.connection, w.clients, await w.sequence.getCreditNote(issued.id));

  expect([...w.sphere.transactions.keys()]).toEqual([invoice.id, note.id]);
  expect((await w.transactions.get(w.connection.id, invoice.id))?.state).toBe('RECORDED');
  expect(w.sphere.transactions.get(note.id)!.transaction.originalTransactionId).toBe(invoice.id);
});

it('records nothing while the connection’s recordTransactions switch is off', async () => {
  const { invoice } = await finalisedInvoice();
  const off = { ...w.connection, options: { ...w.connection.options, recordTransactions: false } };
  const callsBefore = w.sphere.calls.length;

  expect(await recordInvoiceTransaction(w.ctx, off, w.clients, invoice)).toEqual({ action: 'skipped', reason: 'recording_disabled' });
  expect(w.sphere.calls).toHaveLength(callsBefore);
  expect(await w.transactions.get(w.connection.id, invoice.id)).toBeUndefined();
});

it('cancels a recorded invoice once it is voided, and says so when it was never recorded', async () => {
  const { invoice } = await finalisedInvoice();
  await recordInvoiceTransaction(w.ctx, w.connection, w.clients, invoice);

  expect(await cancelTransaction(w.ctx, w.connection, w.clients, { id: invoice.id, kind: 'invoice' })).toMatchObject({ action: 'cancelled', record: { state: 'CANCELLED' } });
  expect(w.sphere.transactions.get(invoice.id)!.transaction.status).toBe('cancelled');
  expect(await cancelTransaction(w.ctx, w.connection, w.clients, { id: invoice.id, kind: 'invoice' })).toMatchObject({ action: 'already_done' });
  expect(await cancelTransaction(w.ctx, w.connection, w.clients, { id: 'never-recorded', kind: 'invoice' })).toMatchObject({ action: 'nothing_to_cancel', record: { state: 'NOTHING_TO_CANCEL' } });
});
