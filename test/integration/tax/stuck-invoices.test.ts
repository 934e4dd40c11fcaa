/**
 * The reconcile's invoice sweep, end to end: with no webhook at all, a draft nobody taxed, a draft
 * whose calculation failed during a Sphere outage, an invoice finalised in Sequence and one voided
 * there are found, queued, and put right by the real invoice-tax worker; the next sweep finds
 * nothing left to do.
 */
import { TaxRecordRepository } from '../../../shared/store/tax-records';
import { TransactionRepository } from '../../../shared/store/transactions';
import { syncCustomerToSphere } from '../../../shared/sync/ensure';
import { queueStuckInvoices } from '../../../shared/tax/stuck-invoices';
import { ADDRESSES, CATEGORY, customerBody, invoiceSeed, sim, useTaxHarness } from './harness';

const h = useTaxHarness();
let taxRecords: TaxRecordRepository;
let transactions: TransactionRepository;

beforeAll(() => {
  taxRecords = new TaxRecordRepository(h.deps.db, h.deps.config.connectorTableName);
  transactions = new TransactionRepository(h.deps.db, h.deps.config.connectorTableName);
});

const { SACRAMENTO } = ADDRESSES;

const sweep = (stamp: string) => h.deps.withUpstream(h.connection, (clients) => queueStuckInvoices(h.deps, h.connection, clients, stamp));

it('finds and puts right every invoice a lost webhook or an outage left behind, then finds none', async () => {
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Forgotten Invoices Inc', SACRAMENTO), product: { name: 'Plan', taxCategoryId: CATEGORY.saas }, lines: [{ title: 'Plan', quantity: '1', rate: '200.00' }], invoices: 4 }));
  const [untaxed, outage, finalised, voided] = seeded.invoices.map((i) => i.id) as [string, string, string, string];

  // An outage while the merchant asked for tax: a retryable FAILED record.
  await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 1, statuses: [503] });
  try {
    expect((await h.admin.call('POST', `/connections/${h.connection.id}/invoices/${outage}/tax`)).status).toBe(503);
  } finally {
    await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 0 });
  }
  expect(await taxRecords.get(h.connection.id, outage)).toMatchObject({ status: 'FAILED', retryable: true });

  // Recorded once, then voided in Sequence with no webhook to tell us.
  expect((await h.admin.call('POST', `/connections/${h.connection.id}/invoices/${voided}/finalize`)).status).toBe(200);
  await h.settle();
  expect(await transactions.get(h.connection.id, voided)).toMatchObject({ state: 'RECORDED' });
  await h.sequenceApi('POST', `/invoices/${voided}/void`);
  // Finalised directly in Sequence, no webhook.
  await h.sequenceApi('POST', `/invoices/${finalised}/finalize`);

  const first = await sweep('sweep-1');
  expect(first.invoicesQueued).toBe(4);
  await h.settle();

  expect(await taxRecords.get(h.connection.id, untaxed)).toMatchObject({ status: 'CALCULATED' });
  expect(await taxRecords.get(h.connection.id, outage)).toMatchObject({ status: 'CALCULATED' });
  expect(await transactions.get(h.connection.id, finalised)).toMatchObject({ state: 'RECORDED', type: 'debit' });
  expect(await transactions.get(h.connection.id, voided)).toMatchObject({ state: 'CANCELLED' });
  const inSphere = await h.sphereTransactions();
  expect(inSphere.filter((t) => t.external_id === finalised)).toHaveLength(1);

  const second = await sweep('sweep-2');
  expect(second).toEqual({ invoicesChecked: 4, invoicesQueued: 0 });
});

it('leaves drafts alone when tax is not calculated on drafts, and finalised invoices when transactions are not recorded', async () => {
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Options Off Ltd', SACRAMENTO), product: { name: 'Seat', taxCategoryId: CATEGORY.saas }, lines: [{ title: 'Seat', quantity: '2', rate: '10.00' }], invoices: 2 }));
  await h.sequenceApi('POST', `/invoices/${seeded.invoices[1]!.id}/finalize`);
  const optionsOff = { ...h.connection, options: { calculateOnDraft: false, recordTransactions: false } };
  const off = await h.deps.withUpstream(optionsOff, (clients) => queueStuckInvoices(h.deps, optionsOff, clients, 'sweep-options-off'));
  expect(off.invoicesQueued).toBe(0);
  // The same two invoices are stuck under the default options.
  expect((await sweep('sweep-options-on')).invoicesQueued).toBe(2);
  await h.settle();
});

it("re-taxes a draft whose customer's tax status changed after it was taxed, when the exemption message that should have done it never ran", async () => {
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Quietly Exempt Trust', SACRAMENTO), product: { name: 'Plan', taxCategoryId: CATEGORY.saas }, lines: [{ title: 'Plan', quantity: '1', rate: '120.00' }] }));
  const [customerId, invoiceId] = [seeded.customers[0]!, seeded.invoices[0]!.id];
  expect((await h.admin.call('POST', `/connections/${h.connection.id}/invoices/${invoiceId}/tax`)).body).toMatchObject({ status: 'CALCULATED', taxStatus: 'TAXED', totalTax: '8.70' });
  await h.settle();
  expect((await sweep('drift-before')).invoicesQueued).toBe(0);

  // The merchant exempts the customer; the connector syncs it, but the exemption message is lost
  // (as SQS's deduplication used to drop a repeated change): the link says TAX_EXEMPT, the draft still carries tax.
  await h.setCustomerTaxStatus(customerId, 'TAX_EXEMPT');
  await h.deps.withUpstream(h.connection, (clients) => syncCustomerToSphere(h.deps, h.connection, clients, customerId, { emitExemptionChange: false }));
  expect(await taxRecords.get(h.connection.id, invoiceId)).toMatchObject({ taxStatus: 'TAXED', totalTax: '8.70' });

  expect((await sweep('drift-found')).invoicesQueued).toBe(1);
  await h.settle();
  expect(await taxRecords.get(h.connection.id, invoiceId)).toMatchObject({ status: 'CALCULATED', taxStatus: 'TAX_EXEMPT', totalTax: '0.00' });
  expect((await h.sequenceApi<{ totalTax: string }>('GET', `/invoices/${invoiceId}`)).totalTax).toBe('0.00');
  // Put right once: the next sweep finds nothing to do.
  expect((await sweep('drift-after')).invoicesQueued).toBe(0);
});
