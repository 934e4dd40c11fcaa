/**
 * Reality guards (issue 13): each test plays a real API that differs from our reading of its docs in
 * one way (a simulator fault) and shows the stable error, the FAILED tax record, the failure record
 * and that the invoice is not finalised.
 */
import { type FailureView } from '../../../shared/failures';
import { randomUUID } from 'node:crypto';
import { type TaxRecord } from '../../../shared/domain/invoice-tax';
import { messageGroupId } from '../../../shared/runtime/queue-messages';
import { TransactionRepository } from '../../../shared/store/transactions';
import { ADDRESSES, CATEGORY, customerBody, invoiceSeed, priceBody, sim, useTaxHarness } from './harness';
import { eventually } from '../../support/eventually';

const h = useTaxHarness();

afterEach(async () => {
  await sim(h.sequence.url, 'POST', '/_sim/faults', { lineTaxRule: 'fraction_half_up' });
  await sim(h.sphere.url, 'POST', '/_sim/faults', { ignoreExemption: false, dropFields: [], creditRequiresOriginal: false, lineQuantityDecimals: null });
});

const { SACRAMENTO, BERLIN } = ADDRESSES;

const base = () => `/connections/${h.connection.id}`;

interface ErrorBody {
  error: { code: string; message: string };
}
/** An item of GET …/failures, as the route answers it. */
type FailureItem = FailureView;

async function failureOf(resourceType: string, resourceId: string): Promise<FailureItem | undefined> {
  return (await h.admin.call<{ items: FailureItem[] }>('GET', `${base()}/failures`)).body.items.find((f) => f.resourceType === resourceType && f.resourceId === resourceId);
}

async function taxRecord(invoiceId: string): Promise<TaxRecord> {
  return (await h.admin.call<TaxRecord>('GET', `${base()}/invoices/${invoiceId}/tax`)).body;
}

async function seedInvoice(name: string, options: { address?: Record<string, string>; taxStatus?: string; currency?: string; taxId?: string } = {}): Promise<string> {
  return (await seedInvoiceWithIds(name, options)).invoiceId;
}

async function seedInvoiceWithIds(
  name: string,
  options: { address?: Record<string, string>; taxStatus?: string; currency?: string; taxId?: string } = {},
): Promise<{ invoiceId: string; customerId: string; productId: string }> {
  const currency = options.currency ?? 'USD';
  const seeded = await h.seed({
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

    const response = await h.admin.call<ErrorBody>('POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('sequence_tax_mismatch');
    // The message carries the net, the taxRate written, Sphere's amount and Sequence's amount.
    expect(response.body.error.message).toMatch(/net 120\.00, taxRate written 0\.\d+\): Sphere 8\.70, Sequence 0\.\d\d/);
    expect((await h.getInvoice(invoiceId)).status).toBe('DRAFT');
    expect(await taxRecord(invoiceId)).toMatchObject({ status: 'FAILED', errorCode: 'sequence_tax_mismatch' });
    expect(await failureOf('invoice', invoiceId)).toMatchObject({ code: 'sequence_tax_mismatch', retryable: false });
    expect((await h.sequenceRequests()).some((r) => r.method === 'POST' && r.path.endsWith(`/invoices/${invoiceId}/finalize`))).toBe(false);

    // Sequence agrees again: the lines still show the old amounts, so they are written again and checked.
    await sim(h.sequence.url, 'POST', '/_sim/faults', { lineTaxRule: 'fraction_half_up' });
    const finalized = await h.admin.call<{ invoice: { status: string; totalTax: string }; taxRecord: TaxRecord }>('POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(finalized.status).toBe(200);
    expect(finalized.body.invoice.status).toBe('FINAL');
    expect(finalized.body.invoice.totalTax).toBe(finalized.body.taxRecord.totalTax);
    expect(await failureOf('invoice', invoiceId)).toBeUndefined();
  });

  it('catches a Sequence that truncates instead of rounding half-up', async () => {
    const seeded = await h.seed(
      invoiceSeed({
      // 10.05 × 7.25 % = 0.728625: half-up 0.73, truncated 0.72.
        customer: customerBody('Truncating Sequence LLC', SACRAMENTO),
        product: { name: 'Odd cents', taxCategoryId: CATEGORY.saas },
        lines: [{ title: 'Odd', quantity: '1', rate: '10.05' }],
      }),
    );
    const invoiceId = seeded.invoices[0]!.id;
    await sim(h.sequence.url, 'POST', '/_sim/faults', { lineTaxRule: 'fraction_round_down' });
    const response = await h.admin.call<ErrorBody>('POST', `${base()}/invoices/${invoiceId}/tax`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('sequence_tax_mismatch');
    const [line] = await h.invoiceLines(invoiceId);
    expect(response.body.error.message).toContain(`line ${line!.id} (net 10.05, taxRate written ${line!.taxRate}): Sphere 0.73, Sequence ${line!.totalTax}`);
    expect(await taxRecord(invoiceId)).toMatchObject({ status: 'FAILED', errorCode: 'sequence_tax_mismatch' });
  });
});

describe('§3 exempt and reverse-charged customers never get tax written', () => {
  it('writes nothing when Sphere charges VAT to a reverse-charged customer (reverse charge not enabled in the account)', async () => {
    const invoiceId = await seedInvoice('Berliner Software GmbH', { address: BERLIN, taxStatus: 'REVERSE_CHARGED', currency: 'EUR', taxId: 'DE123456789' });
    await sim(h.sphere.url, 'POST', '/_sim/faults', { ignoreExemption: true });
    const before = (await h.sequenceRequests()).length;

    const response = await h.admin.call<ErrorBody>('POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('sphere_charged_exempt_customer');
    expect(response.body.error.message).toMatch(/enable reverse charge in your Sphere account/i);
    const writes = (await h.sequenceRequests()).slice(before).filter((r) => r.method === 'PUT' || r.path.endsWith('/finalize'));
    expect(writes.filter((r) => r.path.includes(invoiceId))).toEqual([]);
    expect((await h.invoiceLines(invoiceId)).every((l) => l.taxRate === '0')).toBe(true);
    expect((await h.getInvoice(invoiceId)).status).toBe('DRAFT');
    expect(await taxRecord(invoiceId)).toMatchObject({ status: 'FAILED', errorCode: 'sphere_charged_exempt_customer' });
    expect(await failureOf('invoice', invoiceId)).toMatchObject({ code: 'sphere_charged_exempt_customer', retryable: false });
  });

  it('writes nothing when Sphere taxes a TAX_EXEMPT customer, and says to check the exemption in Sphere', async () => {
    const invoiceId = await seedInvoice('Public Library', { taxStatus: 'TAX_EXEMPT' });
    await sim(h.sphere.url, 'POST', '/_sim/faults', { ignoreExemption: true });
    const response = await h.admin.call<ErrorBody>('POST', `${base()}/invoices/${invoiceId}/tax`);
    expect(response.status).toBe(422);
    expect(response.body.error).toMatchObject({ code: 'sphere_charged_exempt_customer', message: expect.stringMatching(/exemption in Sphere/) });
    expect((await h.invoiceLines(invoiceId)).every((l) => l.taxRate === '0')).toBe(true);
  });

  it('refuses a reverse-charged customer without a tax id before calling Sphere', async () => {
    const invoiceId = await seedInvoice('No VAT Number GmbH', { address: BERLIN, taxStatus: 'REVERSE_CHARGED', currency: 'EUR' });
    const sphereBefore = (await h.sphereRequests()).length;
    const response = await h.admin.call<ErrorBody>('POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('reverse_charge_without_tax_id');
    expect((await h.sphereRequests()).length).toBe(sphereBefore);
    expect((await h.getInvoice(invoiceId)).status).toBe('DRAFT');
    expect(await failureOf('invoice', invoiceId)).toMatchObject({ code: 'reverse_charge_without_tax_id' });
  });
});

describe("§2 Sphere's writes are checked against what it echoes (sphere_field_not_accepted)", () => {
  it("fails a customer whose exemption Sphere dropped, on the customer's failure record, and blocks its invoice's finalisation with the same reason", async () => {
    const { invoiceId, customerId } = await seedInvoiceWithIds('Dropped Exemption School', { taxStatus: 'TAX_EXEMPT' });
    // A Sphere that does not know the field name: it ignores it and still answers 200.
    await sim(h.sphere.url, 'POST', '/_sim/faults', { dropFields: ['tax_exempt'] });

    const response = await h.admin.call<ErrorBody>('POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('sphere_field_not_accepted');
    expect(response.body.error.message).toContain(`customer ${customerId}: tax_exempt: sent "exempt", Sphere returned (missing)`);
    expect((await h.getInvoice(invoiceId)).status).toBe('DRAFT');
    expect(await taxRecord(invoiceId)).toMatchObject({ status: 'FAILED', errorCode: 'sphere_field_not_accepted' });
    expect(await failureOf('invoice', invoiceId)).toMatchObject({ code: 'sphere_field_not_accepted' });
    const customerFailure = await failureOf('customer', customerId);
    expect(customerFailure).toMatchObject({ code: 'sphere_field_not_accepted', retryable: false, reason: expect.stringContaining('tax_exempt') });

    // Every later attempt is blocked by the same reason until Sphere keeps the field.
    const again = await h.admin.call<ErrorBody>('POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(again.body.error.code).toBe('sphere_field_not_accepted');

    // Once Sphere keeps the field, finalising again writes the customer, which clears its failure too.
    await sim(h.sphere.url, 'POST', '/_sim/faults', { dropFields: [] });
    const finalized = await h.admin.call<{ invoice: { status: string } }>('POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(finalized.status).toBe(200);
    expect(finalized.body.invoice.status).toBe('FINAL');
    expect(await failureOf('customer', customerId)).toBeUndefined();
    expect(await failureOf('invoice', invoiceId)).toBeUndefined();
  });

  it("fails a product whose tax code Sphere dropped, on the product's failure record and the invoice's", async () => {
    const { invoiceId, productId } = await seedInvoiceWithIds('Dropped Tax Code Co');
    await sim(h.sphere.url, 'POST', '/_sim/faults', { dropFields: ['tax_code'] });
    const response = await h.admin.call<ErrorBody>('POST', `${base()}/invoices/${invoiceId}/tax`);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('sphere_field_not_accepted');
    expect(response.body.error.message).toMatch(/tax_code: sent "txcd_\d+", Sphere returned \(missing\)/);
    expect(await failureOf('product', productId)).toMatchObject({ code: 'sphere_field_not_accepted' });
    expect(await failureOf('invoice', invoiceId)).toMatchObject({ code: 'sphere_field_not_accepted' });
  });

  it('fails the transaction record of a finalised invoice when Sphere drops its date, keeping a failure record', async () => {
    const { invoiceId } = await seedInvoiceWithIds('Dateless Filing Ltd');
    await sim(h.sphere.url, 'POST', '/_sim/faults', { dropFields: ['transaction_date'] });
    const finalized = await h.admin.call<{ invoice: { status: string } }>('POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(finalized.status).toBe(200);
    await h.settle();
    const failure = await eventually('the transaction failure', () => failureOf('invoice', invoiceId));
    expect(failure).toMatchObject({ code: 'sphere_field_not_accepted', reason: expect.stringContaining(`transaction ${invoiceId}: transaction_date: sent "`) });
  });
});

describe('a usage quantity Sphere refuses (SPHERE-V1-LINE-QUANTITY-PRECISION)', () => {
  it("fails the transaction as sphere_field_not_accepted naming the quantity sent, not as the merchant's error, and says to run verify", async () => {
    const seeded = await h.seed({
      customers: [customerBody('Metered Usage GmbH', SACRAMENTO)],
      products: [{ name: 'Metered API calls', taxCategoryId: CATEGORY.saas }],
      prices: [priceBody('$products[0]', 'USD')],
      invoices: [{ customerId: '$customers[0]', currency: 'USD', lineItems: [{ title: 'API calls', quantity: '1234.567891234567', rate: '0.002', taxRate: '0', priceId: '$prices[0]' }] }],
    });
    const invoiceId = seeded.invoices[0]!.id;
    // Sphere's quantity as a DRF DecimalField with 6 places.
    await sim(h.sphere.url, 'POST', '/_sim/faults', { lineQuantityDecimals: { places: 6, beyond: 'reject' } });
    const finalized = await h.admin.call<{ invoice: { status: string } }>('POST', `${base()}/invoices/${invoiceId}/finalize`);
    expect(finalized.status).toBe(200);
    await h.settle();
    const failure = await eventually('the transaction failure', () => failureOf('invoice', invoiceId));
    expect(failure).toMatchObject({
      code: 'sphere_field_not_accepted',
      reason: expect.stringContaining(`transaction ${invoiceId} over a field the connector sends as Sequence has it, not over data the merchant can correct: line_items.0.quantity: sent "1234.567891234567", Sphere answered "Ensure that there are no more than 6 decimal places."`),
    });
    expect(failure.reason).toContain('Run `sphere-connector verify`');
    expect((await h.sphereTransactions()).some((t) => t.external_id === invoiceId)).toBe(false);
  });
});

describe('§6 tax Sphere recorded vs the tax on the Sequence document', () => {
  it('keeps the difference on the transaction record when an invoice was finalised without the connector’s tax', async () => {
    const { invoiceId } = await seedInvoiceWithIds('Finalised By Hand Inc');
    // Finalised straight in Sequence, no calculation: the invoice shows zero tax, Sphere computes CA tax.
    await h.sequenceApi('POST', `/invoices/${invoiceId}/finalize`);
    const message = { kind: 'invoice' as const, connectionId: h.connection.id, trigger: 'webhook' as const, invoiceId, notificationType: 'INVOICE_UPDATED' };
    await h.deps.queues.send('invoiceTax', { message, groupId: messageGroupId(h.connection.id, invoiceId), deduplicationId: randomUUID() });
    await h.settle();
    const transactions = new TransactionRepository(h.deps.db, h.deps.config.connectorTableName);
    const record = await eventually('the transaction record', () => transactions.get(h.connection.id, invoiceId));
    expect(record).toMatchObject({ state: 'RECORDED', documentTax: '0.00', taxDifference: record.tax });
    expect(Number(record.taxDifference)).toBeGreaterThan(0);
    // Listed with the failures as a warning: nothing failed, nothing to retry.
    const listed = await h.admin.call<{ items: FailureItem[]; warnings: (FailureItem & { severity: string; details: Record<string, string> })[] }>('GET', `${base()}/failures`);
    expect(listed.body.items.some((f) => f.resourceId === invoiceId)).toBe(false);
    expect(listed.body.warnings).toContainEqual(
      expect.objectContaining({
        resourceType: 'transaction',
        resourceId: invoiceId,
        code: 'sphere_recorded_tax_differs',
        severity: 'warning',
        retryable: false,
        reason: expect.stringContaining(`the Sequence document shows 0.00 (difference ${record.taxDifference})`),
        details: { sphereTax: record.tax, documentTax: '0.00', taxDifference: record.taxDifference },
      }),
    );
  });
});

describe('§6 a credit note created from scratch', () => {
  async function issueStandaloneCreditNote(name: string): Promise<string> {
    const seeded = await h.seed({
      customers: [customerBody(name, SACRAMENTO)],
      products: [{ name: `${name} plan`, taxCategoryId: CATEGORY.saas }],
      prices: [priceBody('$products[0]', 'USD')],
    });
    const creditNote = await h.sequenceApi<{ id: string }>('POST', '/credit-notes', { currency: 'USD', customerId: seeded.customers[0] });
    await h.sequenceApi('POST', `/credit-notes/${creditNote.id}/line-items`, { title: 'Goodwill credit', quantity: '1', rate: '40.00', taxRate: '0', externalIds: [], priceId: seeded.prices[0] });
    await h.sequenceApi('POST', `/credit-notes/${creditNote.id}/finalize`);
    const message = { kind: 'credit_note' as const, connectionId: h.connection.id, trigger: 'webhook' as const, creditNoteId: creditNote.id, notificationType: 'CREDIT_NOTE_ISSUED' };
    await h.deps.queues.send('invoiceTax', { message, groupId: messageGroupId(h.connection.id, creditNote.id), deduplicationId: randomUUID() });
    await h.settle();
    return creditNote.id;
  }

  it('is recorded as a standalone credit (no original transaction), not failed as the merchant’s error', async () => {
    const creditNoteId = await issueStandaloneCreditNote('Goodwill Credit LLC');
    const credit = await eventually('the standalone credit in Sphere', async () => (await h.sphereTransactions()).find((t) => t.external_id === creditNoteId));
    expect(credit).toMatchObject({ type: 'credit', status: 'finalized', currency: 'usd' });
    expect(credit.original_transaction_id ?? undefined).toBeUndefined();
    expect(credit.line_items).toEqual([expect.objectContaining({ amount: '40.00' })]);
    const transactions = new TransactionRepository(h.deps.db, h.deps.config.connectorTableName);
    const record = await transactions.get(h.connection.id, creditNoteId);
    expect(record).toMatchObject({ state: 'RECORDED', type: 'credit', documentType: 'credit_note' });
    expect(record?.originalTransactionId).toBeUndefined();
    expect(await failureOf('credit_note', creditNoteId)).toBeUndefined();
  });

  it('fails visibly when Sphere insists on an original transaction', async () => {
    await sim(h.sphere.url, 'POST', '/_sim/faults', { creditRequiresOriginal: true });
    const creditNoteId = await issueStandaloneCreditNote('Strict Sphere Credit Co');
    const failure = await eventually('the credit note failure', () => failureOf('credit_note', creditNoteId));
    expect(failure.reason).toContain('original_transaction_id');
    expect((await h.sphereTransactions()).some((t) => t.external_id === creditNoteId)).toBe(false);
  });
});
