/**
 * The invoice-tax calculation (shared/tax/calculate.ts) on in-memory ports: Sequence and Sphere
 * stand-ins built on the simulators' own models (test/support/fakes), the real sync port. The
 * emulator suite (test/integration/tax/calculation.test.ts) covers the same flow over HTTP, DynamoDB
 * and SQS; these cases pin its rules in milliseconds.
 */
import { SIM_TAX_CATEGORY_IDS } from '../../../local/sequence-sim/store';
import { Decimal } from '../../../shared/domain/decimal';
import { minorUnitsToDecimal } from '../../../shared/domain/money';
import { CALCULATION_ID_METADATA_KEY, LEASE_CLOCK_MARGIN_MS, calculateInvoiceTax } from '../../../shared/tax/calculate';
import { PRODUCT_READ_CONCURRENCY } from '../../../shared/tax/line-products';
import { eventually } from '../../support/eventually';
import { type FakeWorld, SPHERE_CODES, fakeWorld } from '../../support/fakes';

const SACRAMENTO = { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' };
const NOWHERE = { line1: '1 Unknown Rd', town: 'Nowhere', state: 'CA', postcode: '00000', country: 'US' };

let w: FakeWorld;

beforeEach(() => {
  w = fakeWorld({ taxCodes: { default: SPHERE_CODES.electronicServices, byTaxCategory: { [SIM_TAX_CATEGORY_IDS.saas]: SPHERE_CODES.saasBusiness } } });
});

/** A draft for a Sacramento customer: three SaaS lines (one at a stale rate) and a grouped line without a product. */
function seedDraft(address: Record<string, string> = SACRAMENTO) {
  const customer = w.seed.customer('Capitol Widgets', address);
  const { priceId } = w.seed.product('Cloud seat', 'USD', SIM_TAX_CATEGORY_IDS.saas);
  return w.seed.invoice(
    customer.id,
    'USD',
    [
      { title: 'Seats', quantity: '3', rate: '19.99', priceId },
      { title: 'Add-on', quantity: '1', rate: '1.05', priceId },
      { title: 'Overage', quantity: '7', rate: '0.35', taxRate: '0.2', priceId },
    ],
    [{ title: 'Services', taxCategoryId: SIM_TAX_CATEGORY_IDS.standard, lines: [{ title: 'Setup', quantity: '2', rate: '12.34' }] }],
  );
}

const lineWrites = (invoiceId: string) => w.sequence.callsTo(`PUT /invoices/${invoiceId}/line-items/`);

it('writes tax that equals Sphere’s to the cent on every line and on the invoice, and stores the record', async () => {
  const invoice = seedDraft();

  const outcome = await calculateInvoiceTax(w.ctx, w.connection, invoice.id);

  expect(outcome).toMatchObject({ calculated: true, linesWritten: 4 });
  const calculation = w.sphere.calculations.at(-1)!;
  const lines = w.sequence.resources.invoices.lines(invoice.id);
  expect(calculation.lines.map((l) => l.id).sort()).toEqual(lines.map((l) => l.id).sort());
  for (const line of lines) {
    const sphereMinor = calculation.lines.find((l) => l.id === line.id)!.taxAmounts.reduce((s, e) => s + e.amount, 0);
    expect(line.totalTax).toBe(minorUnitsToDecimal(sphereMinor, 'USD'));
    expect(outcome.record.lines.find((l) => l.lineItemId === line.id)).toMatchObject({ taxAmount: line.totalTax, taxRate: line.taxRate });
  }
  // Per-entry rounding, not a flat 7.25 %: 6.3 → 6 plus 1.3125 → 1 cents.
  expect(outcome.record.lines.find((l) => l.amount === '1.05')!.taxAmount).toBe('0.07');
  const after = w.sequence.resources.invoices.get(invoice.id);
  expect(new Decimal(after.totalTax).equals(outcome.record.totalTax)).toBe(true);
  expect(after.metadata).toContainEqual({ key: CALCULATION_ID_METADATA_KEY, value: outcome.record.calculationId });
  expect(await w.taxRecords.get(w.connection.id, invoice.id)).toEqual(outcome.record);
  expect(w.connections.count(w.connection.id, 'invoicesTaxed')).toBe(1);
  // The SaaS product under its mapped code; the grouped line as its category's stand-in.
  expect(w.sphere.products.get(lines[0]!.productId!)).toMatchObject({ taxCode: SPHERE_CODES.saasBusiness });
  expect(outcome.record.lines.find((l) => l.amount === '24.68')!.sphereProductId).toBe(`sequence-tax-category:${SIM_TAX_CATEGORY_IDS.standard}`);
  expect(w.leases.isHeld(w.connection.id, `INVOICE#${invoice.id}`)).toBe(false);
});

it('does nothing the second time: no Sphere call, no write (the loop our own INVOICE_UPDATED would start ends here)', async () => {
  const invoice = seedDraft();
  await calculateInvoiceTax(w.ctx, w.connection, invoice.id);
  const [sphereCalls, sequenceCalls] = [w.sphere.calls.length, lineWrites(invoice.id).length];

  const again = await calculateInvoiceTax(w.ctx, w.connection, invoice.id);

  expect(again).toMatchObject({ calculated: false, linesWritten: 0 });
  expect(w.sphere.calls).toHaveLength(sphereCalls);
  expect(lineWrites(invoice.id)).toHaveLength(sequenceCalls);
  expect(w.connections.count(w.connection.id, 'invoicesTaxed')).toBe(1);
});

it('rewrites only the lines whose tax changed: a line added to the draft is the one PUT', async () => {
  const invoice = seedDraft();
  await calculateInvoiceTax(w.ctx, w.connection, invoice.id);
  const before = new Map(w.sequence.resources.invoices.lines(invoice.id).map((l) => [l.id, { ...l }]));
  const { priceId } = w.seed.product('Storage', 'USD', SIM_TAX_CATEGORY_IDS.saas);
  const added = w.sequence.resources.invoices.createLine(invoice.id, { title: 'Storage', quantity: '5', rate: '2.10', taxRate: '0', externalIds: [], priceId }, { silent: true });
  const writesBefore = lineWrites(invoice.id).length;

  const outcome = await calculateInvoiceTax(w.ctx, w.connection, invoice.id);

  expect(outcome).toMatchObject({ calculated: true, linesWritten: 1 });
  expect(lineWrites(invoice.id).slice(writesBefore)).toEqual([`PUT /invoices/${invoice.id}/line-items/${added.id}`]);
  for (const line of w.sequence.resources.invoices.lines(invoice.id)) {
    if (line.id !== added.id) expect(line).toEqual(before.get(line.id));
  }
  expect(w.sequence.resources.invoices.lines(invoice.id).find((l) => l.id === added.id)!.totalTax).toBe(outcome.record.lines.find((l) => l.lineItemId === added.id)!.taxAmount);
});

it('writes nothing when Sphere cannot place the customer, and stores a FAILED record that says why', async () => {
  const invoice = seedDraft(NOWHERE);

  await expect(calculateInvoiceTax(w.ctx, w.connection, invoice.id)).rejects.toMatchObject({ code: 'customer_tax_location_invalid' });

  expect(lineWrites(invoice.id)).toEqual([]);
  expect(await w.taxRecords.get(w.connection.id, invoice.id)).toMatchObject({ status: 'FAILED', errorCode: 'customer_tax_location_invalid', retryable: false });
  expect(w.sequence.resources.invoices.get(invoice.id).totalTax).toBe(invoice.totalTax);
  expect(w.leases.isHeld(w.connection.id, `INVOICE#${invoice.id}`)).toBe(false);
});

it('refuses an invoice that is no longer a draft, without touching it', async () => {
  const invoice = seedDraft();
  w.sequence.resources.invoices.finalize(invoice.id, { silent: true });

  await expect(calculateInvoiceTax(w.ctx, w.connection, invoice.id)).rejects.toMatchObject({ code: 'invoice_not_draft' });
  expect(w.sphere.calls).toEqual([]);
  expect(lineWrites(invoice.id)).toEqual([]);
});

describe('the second wave read beside the first (the customer and products the stored record names)', () => {
  const customerReads = (id: string) => w.sequence.callsTo(`GET /customers/${id}`);
  // Reads made within the clock margin of the last lease release are made again (withLeasedInvoice).
  const leaseQuiet = () => new Promise((resolve) => setTimeout(resolve, LEASE_CLOCK_MARGIN_MS + 10));

  it('uses those reads when the invoice still names the same customer and products: no second read', async () => {
    const invoice = seedDraft();
    await calculateInvoiceTax(w.ctx, w.connection, invoice.id);
    const line = w.sequence.resources.invoices.lines(invoice.id)[0]!;
    w.sequence.resources.invoices.updateLine(invoice.id, line.id, { title: line.title, quantity: '4', rate: line.rate, priceId: line.priceId, taxRate: '0', externalIds: [] });
    const [customerBefore, productBefore] = [customerReads(invoice.customerId).length, w.sequence.callsTo(`GET /products/${line.productId}`).length];
    await leaseQuiet();

    const outcome = await calculateInvoiceTax(w.ctx, w.connection, invoice.id);

    expect(outcome).toMatchObject({ calculated: true, linesWritten: 1 });
    expect(outcome.record.sequenceProductIds).toEqual([line.productId]);
    expect(customerReads(invoice.customerId)).toHaveLength(customerBefore + 1);
    expect(w.sequence.callsTo(`GET /products/${line.productId}`)).toHaveLength(productBefore + 1);
  });

  it('when another holder released the invoice after the reads began, reads everything again once, the foreseen reads included', async () => {
    const invoice = seedDraft();
    await calculateInvoiceTax(w.ctx, w.connection, invoice.id);
    const line = w.sequence.resources.invoices.lines(invoice.id)[0]!;
    w.sequence.resources.invoices.updateLine(invoice.id, line.id, { title: line.title, quantity: '4', rate: line.rate, priceId: line.priceId, taxRate: '0', externalIds: [] });
    const invoiceReads = () => w.sequence.calls.filter((c) => c === `GET /invoices/${invoice.id}`).length;
    const [customerBefore, invoiceBefore] = [customerReads(invoice.customerId).length, invoiceReads()];
    // Another holder has the invoice while the calculation's first reads go out, and releases it after.
    const other = (await w.leases.tryAcquire(w.connection.id, `INVOICE#${invoice.id}`, 60_000))!;

    const calculating = calculateInvoiceTax(w.ctx, w.connection, invoice.id);
    await eventually('the first reads', () => invoiceReads() === invoiceBefore + 1, { everyMs: 5 });
    await w.leases.release(other);
    const outcome = await calculating;

    expect(outcome).toMatchObject({ calculated: true, linesWritten: 1 });
    expect(invoiceReads()).toBe(invoiceBefore + 2);
    expect(customerReads(invoice.customerId)).toHaveLength(customerBefore + 1);
  });

  it('reads a product the record did not name after the first wave, and puts it in Sphere before calculating', async () => {
    // Only product lines (no stand-in): the calculation may skip the ensure step when the links say Sphere is current.
    const customer = w.seed.customer('Capitol Widgets', SACRAMENTO);
    const seat = w.seed.product('Cloud seat', 'USD', SIM_TAX_CATEGORY_IDS.saas);
    const invoice = w.seed.invoice(customer.id, 'USD', [{ title: 'Seats', quantity: '3', rate: '19.99', priceId: seat.priceId }]);
    await calculateInvoiceTax(w.ctx, w.connection, invoice.id);
    const { priceId } = w.seed.product('Storage', 'USD', SIM_TAX_CATEGORY_IDS.saas);
    const added = w.sequence.resources.invoices.createLine(invoice.id, { title: 'Storage', quantity: '5', rate: '2.10', taxRate: '0', externalIds: [], priceId }, { silent: true });
    await leaseQuiet();

    const outcome = await calculateInvoiceTax(w.ctx, w.connection, invoice.id);

    expect(w.sequence.callsTo(`GET /products/${added.productId}`)).toHaveLength(1);
    expect(w.sphere.products.get(added.productId!)).toMatchObject({ taxCode: SPHERE_CODES.saasBusiness });
    expect(outcome.record.lines.find((l) => l.lineItemId === added.id)).toMatchObject({ sphereProductId: added.productId });
    expect(outcome.record.sequenceProductIds?.sort()).toEqual([...new Set(w.sequence.resources.invoices.lines(invoice.id).map((l) => l.productId!))].sort());
  });

  it('reads no more products beside the invoice than it would after it (8 at a time); the rest follow the first wave', async () => {
    const customer = w.seed.customer('Capitol Widgets', SACRAMENTO);
    const lines = Array.from({ length: 10 }, (_, i) => ({ title: `Item ${i}`, quantity: '1', rate: '10.00', priceId: w.seed.product(`Product ${i}`, 'USD', SIM_TAX_CATEGORY_IDS.saas).priceId }));
    const invoice = w.seed.invoice(customer.id, 'USD', lines);
    await calculateInvoiceTax(w.ctx, w.connection, invoice.id);
    const line = w.sequence.resources.invoices.lines(invoice.id)[0]!;
    w.sequence.resources.invoices.updateLine(invoice.id, line.id, { title: line.title, quantity: '2', rate: line.rate, priceId: line.priceId, taxRate: '0', externalIds: [] });
    await leaseQuiet();
    // The line reads answer once a product read is asked: those asked before went out beside the invoice.
    const held = w.sequence.holdLineReads();
    let productsBeside = 0;
    const readProduct = w.sequence.getProduct.bind(w.sequence);
    w.sequence.getProduct = (id) => {
      if (!held.answered) productsBeside += 1;
      held.release();
      return readProduct(id);
    };

    const outcome = await calculateInvoiceTax(w.ctx, w.connection, invoice.id);

    expect(productsBeside).toBe(PRODUCT_READ_CONCURRENCY);
    expect(outcome).toMatchObject({ calculated: true, linesWritten: 1 });
    expect(outcome.record.sequenceProductIds).toHaveLength(10);
  });

  it('taxes an invoice that now names another customer for that customer, though the old one was read (and is gone)', async () => {
    const invoice = seedDraft();
    await calculateInvoiceTax(w.ctx, w.connection, invoice.id);
    const elsewhere = w.seed.customer('Puget Widgets', { line1: '400 Broad St', town: 'Seattle', state: 'WA', postcode: '98109', country: 'US' });
    // However the invoice came to name another customer, the record's customer must not be used; its
    // read beside the invoice fails (the customer is gone) and that failure must not surface either.
    const before = invoice.customerId;
    w.sequence.state.invoices[invoice.id]!.customerId = elsewhere.id;
    delete w.sequence.state.customers[before];
    await leaseQuiet();

    const outcome = await calculateInvoiceTax(w.ctx, w.connection, invoice.id);

    expect(customerReads(before)).toHaveLength(2); // read again beside the invoice (and failed): the first calculation's, and this one's
    expect(outcome).toMatchObject({ calculated: true, record: { status: 'CALCULATED', customerId: elsewhere.id } });
    // The new customer was read and put in Sphere for this calculation.
    expect(customerReads(elsewhere.id)).toHaveLength(1);
    expect(w.sphere.customers.get(elsewhere.id)!.billingAddress).toMatchObject({ city: 'Seattle', state: 'WA' });
    for (const line of w.sequence.resources.invoices.lines(invoice.id)) {
      expect(line.totalTax).toBe(outcome.record.lines.find((l) => l.lineItemId === line.id)!.taxAmount);
    }
  });
});
