/**
 * Failures of every kind through the admin routes: an invoice, a customer, a product and a credit
 * note fail for reasons the merchant must fix; GET …/failures lists each with its reason and
 * `retryable`; POST …/failures/retry re-queues one or all; the connection's `failures` counter
 * counts open failures (up once per failing resource, not per attempt; down when a retry succeeds).
 *
 * Sphere's v1 customer endpoint in the simulator accepts any address, so the connection talks to
 * Sphere through the sync tests' address-checking proxy, which answers the documented
 * `customer_tax_location_invalid` for the unlocatable postal code and forwards everything else.
 */
import { type FailureView } from '../../../shared/failures';
import { randomUUID } from 'node:crypto';
import { type TaxRecord } from '../../../shared/domain/invoice-tax';
import { messageGroupId } from '../../../shared/runtime/queue-messages';
import { startAddressCheckingSphereProxy } from '../sync/harness';
import { ADDRESSES, CATEGORY, customerBody, invoiceSeed, sim, TAX_CODES, useTaxHarness } from './harness';
import { eventually } from '../../support/eventually';

const h = useTaxHarness({ productSync: true });
let proxy: { url: string; stop(): Promise<void> };

beforeAll(async () => {
  proxy = await startAddressCheckingSphereProxy(h.sphere.url);
  await h.deps.connections.update(h.connection.id, { sphereBaseUrl: proxy.url });
});

afterAll(async () => {
  await proxy?.stop();
});

const { SACRAMENTO, NOWHERE } = ADDRESSES;
const MISTYPED_CODE = 'txcd_1O000000'; // a letter O for a zero: Sphere knows no such code

const base = () => `/connections/${h.connection.id}`;

/** An item of GET …/failures, as the route answers it. */
type FailureItem = FailureView;

async function listed(): Promise<FailureItem[]> {
  const response = await h.admin.call<{ items: FailureItem[]; count: number }>('GET', `${base()}/failures`);
  expect(response.status).toBe(200);
  expect(response.body.count).toBe(response.body.items.length);
  return response.body.items;
}

function findIn(items: FailureItem[], resourceType: string, resourceId: string): FailureItem | undefined {
  return items.find((f) => f.resourceType === resourceType && f.resourceId === resourceId);
}

async function openFailures(): Promise<number> {
  return (await h.deps.connections.get(h.connection.id))!.counts.failures;
}

/** What webhook ingest, backfill or reconcile would queue. */
async function queue(kind: 'customer' | 'product' | 'credit_note', id: string): Promise<void> {
  const groupId = messageGroupId(h.connection.id, id);
  const deduplicationId = randomUUID();
  const common = { connectionId: h.connection.id };
  if (kind === 'customer') {
    await h.deps.queues.send('customerSync', { message: { kind, ...common, trigger: 'webhook', customerId: id, notificationType: 'CUSTOMER_CREATED' }, groupId, deduplicationId });
  } else if (kind === 'product') {
    await h.deps.queues.send('productSync', { message: { kind, ...common, trigger: 'reconcile', productId: id }, groupId, deduplicationId });
  } else {
    await h.deps.queues.send('invoiceTax', { message: { kind, ...common, trigger: 'webhook', creditNoteId: id, notificationType: 'CREDIT_NOTE_ISSUED' }, groupId, deduplicationId });
  }
}

async function setDigitalServicesCode(code: string): Promise<void> {
  await h.deps.connections.update(h.connection.id, { taxCodes: { ...TAX_CODES, byTaxCategory: { ...TAX_CODES.byTaxCategory, [CATEGORY.digitalServices]: code } } });
}

it('lists failed invoices, customers, products and credit notes with reason and retryable; retry one, then all, after the fixes', async () => {
  const failuresBefore = await openFailures();

  // An invoice: a taxed customer's line whose product has no tax category.
  const uncategorised = await h.seed(invoiceSeed({ customer: customerBody('Uncategorised Buyer Inc', SACRAMENTO), product: { name: 'Unsorted Widget' }, lines: [{ title: 'Widget', quantity: '2', rate: '50.00' }] }));
  const invoiceId = uncategorised.invoices[0]!.id;
  const uncategorisedProductId = uncategorised.products[0]!;
  expect((await h.admin.call('POST', `${base()}/invoices/${invoiceId}/tax`)).status).toBe(422);

  // A customer: an address Sphere cannot locate.
  const lost = await h.seed({ customers: [customerBody('Lost In Sync LLC', NOWHERE)] });
  const customerId = lost.customers[0]!;
  await queue('customer', customerId);

  // A credit note: the invoice was recorded under a good mapping, then the merchant mistyped the
  // Digital services tax code, so the credit's product upsert is refused by Sphere.
  const refund = await h.seed(invoiceSeed({ customer: customerBody('Refund Digital Ltd', SACRAMENTO), product: { name: 'E-learning course', taxCategoryId: CATEGORY.digitalServices }, lines: [{ title: 'Course', quantity: '1', rate: '80.00' }] }));
  const refundInvoiceId = refund.invoices[0]!.id;
  expect((await h.admin.call('POST', `${base()}/invoices/${refundInvoiceId}/finalize`)).status).toBe(200);
  await eventually('debit transaction', async () => (await h.sphereTransactions()).some((t) => t.external_id === refundInvoiceId));
  await setDigitalServicesCode(MISTYPED_CODE);
  const creditNote = await h.sequenceApi<{ id: string }>('POST', '/credit-notes', { currency: 'USD', customerId: refund.customers[0]!, invoiceId: refundInvoiceId });
  await h.sequenceApi('POST', `/credit-notes/${creditNote.id}/line-items`, { title: 'Refund course', quantity: '1', rate: '80.00', taxRate: '0', externalIds: [], lineItemId: refund.invoices[0]!.lineItemIds[0] });
  await h.sequenceApi('POST', `/credit-notes/${creditNote.id}/finalize`);
  await queue('credit_note', creditNote.id);

  // A product: the same mistyped mapping, met by the product sync.
  const product = await h.seed({ products: [{ name: 'Audio book', taxCategoryId: CATEGORY.digitalServices }] });
  const productId = product.products[0]!;
  await queue('product', productId);
  await h.settle();

  const items = await listed();
  const find = (resourceType: string, resourceId: string) => findIn(items, resourceType, resourceId);
  expect(find('invoice', invoiceId)).toMatchObject({ code: 'product_missing_tax_category', kind: 'user', retryable: false, attempts: 1, reason: expect.stringContaining('Unsorted Widget') });
  expect(find('customer', customerId)).toMatchObject({ code: 'customer_tax_location_invalid', kind: 'user', retryable: false, attempts: 1, reason: expect.stringContaining("'00000'"), fix: expect.stringMatching(/address/) });
  expect(find('product', productId)).toMatchObject({ code: 'validation_errors', kind: 'user', retryable: false, attempts: 1, reason: expect.stringContaining(MISTYPED_CODE) });
  expect(find('credit_note', creditNote.id)).toMatchObject({ code: 'validation_errors', kind: 'user', retryable: false, attempts: 1, reason: expect.stringContaining(MISTYPED_CODE) });
  expect(items).toHaveLength(4);
  expect(await openFailures()).toBe(failuresBefore + 4);
  expect((await h.sphereTransactions()).some((t) => t.external_id === creditNote.id)).toBe(false);

  // Retrying before the fix fails again: one more attempt, still one open failure.
  const early = await h.admin.call<{ requeued: number; matched: number }>('POST', `${base()}/failures/retry`, { resourceType: 'product', resourceId: productId });
  expect(early.status).toBe(202);
  expect(early.body).toMatchObject({ requeued: 1, matched: 1 });
  await h.settle();
  await eventually('second attempt', async () => findIn(await listed(), 'product', productId)?.attempts === 2);
  expect(await openFailures()).toBe(failuresBefore + 4);

  // Retry one: the merchant corrects the customer's address in Sequence.
  const customer = await h.sequenceApi<{ contacts: { name: string; email: string; billingPreference: string }[] }>('GET', `/customers/${customerId}`);
  await h.sequenceApi('PUT', `/customers/${customerId}`, { ...customerBody('Lost In Sync LLC', SACRAMENTO), contacts: customer.contacts.map((c) => ({ name: c.name, email: c.email, billingPreference: c.billingPreference })) });
  const one = await h.admin.call<{ requeued: number; matched: number }>('POST', `${base()}/failures/retry`, { resourceType: 'customer', resourceId: customerId });
  expect(one.status).toBe(202);
  expect(one.body).toMatchObject({ requeued: 1, matched: 1 });
  await h.settle();
  await eventually('customer failure cleared', async () => !findIn(await listed(), 'customer', customerId));
  const state = await sim<{ customers: Record<string, unknown>[] }>(h.sphere.url, 'GET', '/_sim/state');
  expect(state.customers).toContainEqual(expect.objectContaining({ external_id: customerId }));
  expect(await openFailures()).toBe(failuresBefore + 3);

  // Retry all: the product gets a tax category, the mapping is corrected.
  await h.sequenceApi('PUT', `/products/${uncategorisedProductId}`, { name: 'Unsorted Widget', taxCategoryId: CATEGORY.saas });
  await setDigitalServicesCode(TAX_CODES.byTaxCategory[CATEGORY.digitalServices]!);
  const all = await h.admin.call<{ requeued: number; matched: number; skipped: unknown[] }>('POST', `${base()}/failures/retry`, { all: true });
  expect(all.status).toBe(202);
  expect(all.body).toEqual({ requeued: 3, matched: 3, skipped: [] });
  await h.settle();
  await eventually('every failure cleared', async () => (await listed()).length === 0);
  expect(await openFailures()).toBe(failuresBefore);

  expect((await h.admin.call<TaxRecord>('GET', `${base()}/invoices/${invoiceId}/tax`)).body).toMatchObject({ status: 'CALCULATED', totalTax: '7.25' });
  const credit = (await h.sphereTransactions()).find((t) => t.external_id === creditNote.id);
  expect(credit).toMatchObject({ type: 'credit', status: 'finalized', original_transaction_id: refundInvoiceId });
  const products = (await sim<{ products: { external_id: string; tax_code?: string }[] }>(h.sphere.url, 'GET', '/_sim/state')).products;
  expect(products).toContainEqual(expect.objectContaining({ external_id: productId, tax_code: TAX_CODES.byTaxCategory[CATEGORY.digitalServices] }));
});
