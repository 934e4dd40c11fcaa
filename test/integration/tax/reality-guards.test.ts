/**
 * Reality guards (issue 13): each test plays a real API that differs from our reading of its docs in
 * one way (a simulator fault) and shows the stable error, the FAILED tax record, the failure record
 * and that the invoice is not finalised.
 */
import { randomUUID } from 'node:crypto';
import { type TaxRecord } from '../../../shared/domain/invoice-tax';
import { messageGroupId } from '../../../shared/runtime/queue-messages';
import { TransactionRepository } from '../../../shared/store/transactions';
import {
  CATEGORY,
  type TaxHarness,
  admin,
  customerBody,
  getInvoice,
  invoiceLines,
  priceBody,
  seed,
  sequenceApi,
  sequenceRequests,
  settle,
  sim,
  sphereRequests,
  startTaxHarness,
  waitFor,
} from './harness';

let h: TaxHarness;

beforeAll(async () => {
  h = await startTaxHarness();
});

afterAll(async () => {
  await h?.stop();
});

afterEach(async () => {
  await sim(h.sequence.url, 'POST', '/_sim/faults', { lineTaxRule: 'fraction_half_up' });
  await sim(h.sphere.url, 'POST', '/_sim/faults', { ignoreExemption: false, dropFields: [] });
});

const SACRAMENTO = { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' };
const BERLIN = { line1: 'Unter den Linden 1', town: 'Berlin', postcode: '10117', country: 'DE' };

const base = () => `/connections/${h.connection.id}`;

interface ErrorBody {
  error: { code: string; message: string };
}
interface FailureItem {
  resourceType: string;
  resourceId: string;
  code: string;
  reason: string;
  fix?: string;
  retryable: boolean;
}

async function failureOf(resourceType: string, resourceId: string): Promise<FailureItem | undefined> {
  return (await admin<{ items: FailureItem[] }>(h, 'GET', `${base()}/failures`)).body.items.find((f) => f.resourceType === resourceType && f.resourceId === resourceId);
}

async function taxRecord(invoiceId: string): Promise<TaxRecord> {
  return (await admin<TaxRecord>(h, 'GET', `${base()}/invoices/${invoiceId}/tax`)).body;
}

async function seedInvoice(name: string, options: { address?: Record<string, string>; taxStatus?: string; currency?: string; taxId?: string } = {}): Promise<string> {
  return (await seedInvoiceWithIds(name, options)).invoiceId;
}

async function seedInvoiceWithIds(
  name: string,
  options: { address?: Record<string, string>; taxStatus?: string; currency?: string; taxId?: string } = {},
): Promise<{ invoiceId: string; customerId: string; productId: string }> {
  const currency = options.currency ?? 'USD';
  const seeded = await seed(h, {
    customers: [customerBody(name, options.address ?? SACRAMENTO, options.taxStatus ?? 'TAXED')],
    products: [{ name: `${name} plan`, taxCategoryId: CATEGORY.saas }],
    prices: [priceBody('$products[0]', currency)],
    ...(options.taxId ? { taxRegistrations: [{ taxIdentifier: options.taxId, customerId: '$customers[0]', country: (options.address ?? SACRAMENTO).country }] } : {}),
    invoices: [
      {
        customerId: '$customers[0]',
        currency,
        lineItems: [
          { title: 'Plan', quantity: '1', rate: '120.00', taxRate: '0', priceId: '$prices[0]' },
          { title: 'Seats', quantity: '3', rate: '9.99', taxRate: '0', priceId: '$prices[0]' },
        ],
      },
    ],
  });
  return { invoiceId: seeded.invoices[0]!.id, customerId: seeded.customers[0]!, productId: seeded.products[0]! };
}

describe('§1 Sequence arithmetic is checked on every write (sequence_tax_mismatch)', () => {
  it('refuses to finalise when Sequence computes a different totalTax from the taxRate written, and recovers once it agrees', async () => {
    const invoiceId = await seedInvoice('Percent Reader Inc');
    // A Sequence that reads taxRate as a percentage ("0.0725" = 0.0725 %).
    await sim(h.sequence.url, 'POST', '/_sim/faults', { lineTaxRule: 'percent' });

    const response = await admin<ErrorBody>(h, 'POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('sequence_tax_mismatch');
    // The message carries the net, the taxRate written, Sphere's amount and Sequence's amount.
    expect(response.body.error.message).toMatch(/net 120\.00, taxRate written 0\.\d+\): Sphere 8\.70, Sequence 0\.\d\d/);
    expect((await getInvoice(h, invoiceId)).status).toBe('DRAFT');
    expect(await taxRecord(invoiceId)).toMatchObject({ status: 'FAILED', errorCode: 'sequence_tax_mismatch' });
    expect(await failureOf('invoice', invoiceId)).toMatchObject({ code: 'sequence_tax_mismatch', retryable: false });
    expect((await sequenceRequests(h)).some((r) => r.method === 'POST' && r.path.endsWith(`/invoices/${invoiceId}/finalize`))).toBe(false);

    // Sequence agrees again: the lines still show the old amounts, so they are written again and checked.
    await sim(h.sequence.url, 'POST', '/_sim/faults', { lineTaxRule: 'fraction_half_up' });
    const finalized = await admin<{ invoice: { status: string; totalTax: string }; taxRecord: TaxRecord }>(h, 'POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(finalized.status).toBe(200);
    expect(finalized.body.invoice.status).toBe('FINAL');
    expect(finalized.body.invoice.totalTax).toBe(finalized.body.taxRecord.totalTax);
    expect(await failureOf('invoice', invoiceId)).toBeUndefined();
  });

  it('catches a Sequence that truncates instead of rounding half-up', async () => {
    const seeded = await seed(h, {
      customers: [customerBody('Truncating Sequence LLC', SACRAMENTO)],
      products: [{ name: 'Odd cents', taxCategoryId: CATEGORY.saas }],
      prices: [priceBody('$products[0]', 'USD')],
      // 10.05 × 7.25 % = 0.728625: half-up 0.73, truncated 0.72.
      invoices: [{ customerId: '$customers[0]', currency: 'USD', lineItems: [{ title: 'Odd', quantity: '1', rate: '10.05', taxRate: '0', priceId: '$prices[0]' }] }],
    });
    const invoiceId = seeded.invoices[0]!.id;
    await sim(h.sequence.url, 'POST', '/_sim/faults', { lineTaxRule: 'fraction_round_down' });
    const response = await admin<ErrorBody>(h, 'POST', `${base()}/invoices/${invoiceId}/tax`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('sequence_tax_mismatch');
    const [line] = await invoiceLines(h, invoiceId);
    expect(response.body.error.message).toContain(`line ${line!.id} (net 10.05, taxRate written ${line!.taxRate}): Sphere 0.73, Sequence ${line!.totalTax}`);
    expect(await taxRecord(invoiceId)).toMatchObject({ status: 'FAILED', errorCode: 'sequence_tax_mismatch' });
  });
});

describe('§3 exempt and reverse-charged customers never get tax written', () => {
  it('writes nothing when Sphere charges VAT to a reverse-charged customer (reverse charge not enabled in the account)', async () => {
    const invoiceId = await seedInvoice('Berliner Software GmbH', { address: BERLIN, taxStatus: 'REVERSE_CHARGED', currency: 'EUR', taxId: 'DE123456789' });
    await sim(h.sphere.url, 'POST', '/_sim/faults', { ignoreExemption: true });
    const before = (await sequenceRequests(h)).length;

    const response = await admin<ErrorBody>(h, 'POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('sphere_charged_exempt_customer');
    expect(response.body.error.message).toMatch(/enable reverse charge in your Sphere account/i);
    const writes = (await sequenceRequests(h)).slice(before).filter((r) => r.method === 'PUT' || r.path.endsWith('/finalize'));
    expect(writes.filter((r) => r.path.includes(invoiceId))).toEqual([]);
    expect((await invoiceLines(h, invoiceId)).every((l) => l.taxRate === '0')).toBe(true);
    expect((await getInvoice(h, invoiceId)).status).toBe('DRAFT');
    expect(await taxRecord(invoiceId)).toMatchObject({ status: 'FAILED', errorCode: 'sphere_charged_exempt_customer' });
    expect(await failureOf('invoice', invoiceId)).toMatchObject({ code: 'sphere_charged_exempt_customer', retryable: false });
  });

  it('writes nothing when Sphere taxes a TAX_EXEMPT customer, and says to check the exemption in Sphere', async () => {
    const invoiceId = await seedInvoice('Public Library', { taxStatus: 'TAX_EXEMPT' });
    await sim(h.sphere.url, 'POST', '/_sim/faults', { ignoreExemption: true });
    const response = await admin<ErrorBody>(h, 'POST', `${base()}/invoices/${invoiceId}/tax`);
    expect(response.status).toBe(422);
    expect(response.body.error).toMatchObject({ code: 'sphere_charged_exempt_customer', message: expect.stringMatching(/exemption in Sphere/) });
    expect((await invoiceLines(h, invoiceId)).every((l) => l.taxRate === '0')).toBe(true);
  });

  it('refuses a reverse-charged customer without a tax id before calling Sphere', async () => {
    const invoiceId = await seedInvoice('No VAT Number GmbH', { address: BERLIN, taxStatus: 'REVERSE_CHARGED', currency: 'EUR' });
    const sphereBefore = (await sphereRequests(h)).length;
    const response = await admin<ErrorBody>(h, 'POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('reverse_charge_without_tax_id');
    expect((await sphereRequests(h)).length).toBe(sphereBefore);
    expect((await getInvoice(h, invoiceId)).status).toBe('DRAFT');
    expect(await failureOf('invoice', invoiceId)).toMatchObject({ code: 'reverse_charge_without_tax_id' });
  });
});

describe("§2 Sphere's writes are checked against what it echoes (sphere_field_not_accepted)", () => {
  it("fails a customer whose exemption Sphere dropped, on the customer's failure record, and blocks its invoice's finalisation with the same reason", async () => {
    const { invoiceId, customerId } = await seedInvoiceWithIds('Dropped Exemption School', { taxStatus: 'TAX_EXEMPT' });
    // A Sphere that does not know the field name: it ignores it and still answers 200.
    await sim(h.sphere.url, 'POST', '/_sim/faults', { dropFields: ['tax_exempt'] });

    const response = await admin<ErrorBody>(h, 'POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('sphere_field_not_accepted');
    expect(response.body.error.message).toContain(`customer ${customerId}: tax_exempt: sent "exempt", Sphere returned (missing)`);
    expect((await getInvoice(h, invoiceId)).status).toBe('DRAFT');
    expect(await taxRecord(invoiceId)).toMatchObject({ status: 'FAILED', errorCode: 'sphere_field_not_accepted' });
    expect(await failureOf('invoice', invoiceId)).toMatchObject({ code: 'sphere_field_not_accepted' });
    const customerFailure = await failureOf('customer', customerId);
    expect(customerFailure).toMatchObject({ code: 'sphere_field_not_accepted', retryable: false, reason: expect.stringContaining('tax_exempt') });

    // Every later attempt is blocked by the same reason until Sphere keeps the field.
    const again = await admin<ErrorBody>(h, 'POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(again.body.error.code).toBe('sphere_field_not_accepted');

    // Once Sphere keeps the field, finalising again writes the customer, which clears its failure too.
    await sim(h.sphere.url, 'POST', '/_sim/faults', { dropFields: [] });
    const finalized = await admin<{ invoice: { status: string } }>(h, 'POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(finalized.status).toBe(200);
    expect(finalized.body.invoice.status).toBe('FINAL');
    expect(await failureOf('customer', customerId)).toBeUndefined();
    expect(await failureOf('invoice', invoiceId)).toBeUndefined();
  });

  it("fails a product whose tax code Sphere dropped, on the product's failure record and the invoice's", async () => {
    const { invoiceId, productId } = await seedInvoiceWithIds('Dropped Tax Code Co');
    await sim(h.sphere.url, 'POST', '/_sim/faults', { dropFields: ['tax_code'] });
    const response = await admin<ErrorBody>(h, 'POST', `${base()}/invoices/${invoiceId}/tax`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('sphere_field_not_accepted');
    expect(response.body.error.message).toMatch(/tax_code: sent "txcd_\d+", Sphere returned \(missing\)/);
    expect(await failureOf('product', productId)).toMatchObject({ code: 'sphere_field_not_accepted' });
    expect(await failureOf('invoice', invoiceId)).toMatchObject({ code: 'sphere_field_not_accepted' });
  });

  it('fails the transaction record of a finalised invoice when Sphere drops its date, keeping a failure record', async () => {
    const { invoiceId } = await seedInvoiceWithIds('Dateless Filing Ltd');
    await sim(h.sphere.url, 'POST', '/_sim/faults', { dropFields: ['transaction_date'] });
    const finalized = await admin<{ invoice: { status: string } }>(h, 'POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(finalized.status).toBe(200);
    await settle(h);
    const failure = await waitFor('the transaction failure', () => failureOf('invoice', invoiceId));
    expect(failure).toMatchObject({ code: 'sphere_field_not_accepted', reason: expect.stringContaining(`transaction ${invoiceId}: transaction_date: sent "`) });
  });
});

describe('§6 tax Sphere recorded vs the tax on the Sequence document', () => {
  it('keeps the difference on the transaction record when an invoice was finalised without the connector’s tax', async () => {
    const { invoiceId } = await seedInvoiceWithIds('Finalised By Hand Inc');
    // Finalised straight in Sequence, no calculation: the invoice shows zero tax, Sphere computes CA tax.
    await sequenceApi(h, 'POST', `/invoices/${invoiceId}/finalize`);
    const message = { kind: 'invoice' as const, connectionId: h.connection.id, trigger: 'webhook' as const, invoiceId, notificationType: 'INVOICE_UPDATED' };
    await h.deps.queues.send('invoiceTax', { message, groupId: messageGroupId(h.connection.id, invoiceId), deduplicationId: randomUUID() });
    await settle(h);
    const transactions = new TransactionRepository(h.deps.db, h.deps.config.connectorTableName);
    const record = await waitFor('the transaction record', () => transactions.get(h.connection.id, invoiceId));
    expect(record).toMatchObject({ state: 'RECORDED', documentTax: '0.00', taxDifference: record.tax });
    expect(Number(record.taxDifference)).toBeGreaterThan(0);
  });
});
