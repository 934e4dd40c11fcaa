/**
 * Invoice tax calculation end to end: admin route → Sequence simulator (invoice, paged lines, groups,
 * customer, products) → Sphere simulator (ensure customer/products, calculate_tax) → line taxRates
 * written back → Sequence's own totals (computed by the simulator with the one rounding rule) equal
 * Sphere's amounts to the minor unit; the tax record of §5.1 is stored; the self-triggered
 * INVOICE_UPDATED (through the real webhook ingest and queue) ends as a no-op.
 */
import { Decimal } from '../../../shared/domain/decimal';
import { type TaxRecord } from '../../../shared/domain/invoice-tax';
import { ADDRESSES, CATEGORY, customerBody, invoiceSeed, priceBody, sim, sphereEntry, useTaxHarness } from './harness';

const h = useTaxHarness();

const { SACRAMENTO, MIAMI, TORONTO, LONDON, BERLIN, TOKYO } = ADDRESSES;

const taxPath = (invoiceId: string) => `/connections/${h.connection.id}/invoices/${invoiceId}/tax`;

function minor(amount: string, decimals: number): number {
  return new Decimal(amount).times(new Decimal(10).pow(decimals)).toNumber();
}
function money(minorUnits: number, decimals: number): string {
  return new Decimal(minorUnits).dividedBy(new Decimal(10).pow(decimals)).toFixed(decimals);
}

/** Sequence's own numbers (computed by the simulator) must match the record, and the record Sphere. */
async function expectSequenceMatchesRecord(invoiceId: string, record: TaxRecord): Promise<void> {
  const lines = await h.invoiceLines(invoiceId);
  const byId = new Map(lines.map((l) => [l.id, l]));
  expect(record.lines).toHaveLength(lines.length);
  for (const r of record.lines) {
    const line = byId.get(r.lineItemId)!;
    expect(line.totalTax).toBe(r.taxAmount);
    expect(line.taxRate).toBe(r.taxRate);
    const jurisdictionSum = r.jurisdictions.reduce((s, j) => s.plus(j.amount), new Decimal(0));
    expect(jurisdictionSum.equals(new Decimal(r.taxAmount))).toBe(true);
  }
  const invoice = await h.getInvoice(invoiceId);
  expect(new Decimal(invoice.totalTax).equals(new Decimal(record.totalTax))).toBe(true);
  if (record.calculationId) expect(invoice.metadata).toContainEqual({ key: 'sphere_tax_calculation_id', value: record.calculationId });
}

async function calculate(invoiceId: string): Promise<TaxRecord> {
  const response = await h.admin.call<TaxRecord>('POST', taxPath(invoiceId));
  if (response.status !== 200) throw new Error(`POST tax → ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

it('taxes a multi-line US invoice in two jurisdictions, matching Sphere to the cent on every line', async () => {
  const seeded = await h.seed(
    invoiceSeed({
      customer: customerBody('Capitol Widgets', SACRAMENTO),
      product: { name: 'Cloud seat', taxCategoryId: CATEGORY.saas },
      lines: [
        { title: 'Seats', quantity: '3', rate: '19.99' },
        { title: 'Add-on', quantity: '1', rate: '1.05' },
        { title: 'Overage', quantity: '7', rate: '0.35', taxRate: '0.2' },
      ],
      invoice: { lineItemGroups: [{ title: 'Services', taxCategoryId: CATEGORY.standard, lineItems: [{ title: 'Setup', quantity: '2', rate: '12.34', taxRate: '0' }] }] },
    }),
  );
  const invoiceId = seeded.invoices[0]!.id;
  const record = await calculate(invoiceId);

  expect(record).toMatchObject({ invoiceId, status: 'CALCULATED', currency: 'USD', calculationId: expect.any(String) });
  const lines = await h.invoiceLines(invoiceId);
  for (const line of lines) {
    const net = minor(line.netTotal, 2);
    const expected = sphereEntry(net, '6') + sphereEntry(net, '1.25');
    expect(line.totalTax).toBe(money(expected, 2));
  }
  const add = record.lines.find((l) => l.amount === '1.05')!;
  expect(add.taxAmount).toBe('0.07'); // 6.3→6 + 1.3125→1 cents; a flat 7.25 % would show 0.08
  for (const l of record.lines) {
    expect(l.jurisdictions.map((j) => j.name)).toEqual(['California', 'California Local (County)']);
    expect(l.jurisdictions.map((j) => j.rate)).toEqual(['0.06', '0.0125']);
    expect(l.taxabilityReason).toBe('standard_rated');
  }
  expect(record.lines.find((l) => l.amount === '24.68')!.sphereProductId).toBe(`sequence-tax-category:${CATEGORY.standard}`);
  await expectSequenceMatchesRecord(invoiceId, record);

  const stored = await h.admin.call<TaxRecord>('GET', taxPath(invoiceId));
  expect(stored.status).toBe(200);
  expect(stored.body).toEqual(record);
  const connection = await h.deps.connections.get(h.connection.id);
  expect(connection!.counts.invoicesTaxed).toBeGreaterThanOrEqual(1);
});

it('taxes a Canadian invoice with 13 % HST', async () => {
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Maple Analytics', TORONTO), product: { name: 'Analytics plan', taxCategoryId: CATEGORY.saas }, lines: [{ title: 'Plan', quantity: '1', rate: '100.00' }, { title: 'Extra', quantity: '3', rate: '11.11' }], currency: 'CAD' }));
  const record = await calculate(seeded.invoices[0]!.id);
  expect(record.lines.map((l) => l.taxAmount)).toEqual(['13.00', '4.33']); // 3333 × 13 % = 433.29 → 433
  expect(record.lines[0]!.jurisdictions).toEqual([{ name: 'Ontario', rate: '0.13', percentage: '13', amount: '13.00', taxType: 'hst', displayName: 'HST' }]);
  expect(record.totalTax).toBe('17.33');
  await expectSequenceMatchesRecord(seeded.invoices[0]!.id, record);
});

it('taxes a GBP invoice with UK VAT and a JPY invoice (no minor unit) with JCT', async () => {
  await sim(h.sphere.url, 'POST', '/_sim/seed', { registrations: ['JP'] });
  const seeded = await h.seed({
    customers: [customerBody('Albion Ltd', LONDON), customerBody('Sakura KK', TOKYO)],
    products: [{ name: 'Workspace', taxCategoryId: CATEGORY.saas }],
    prices: [priceBody('$products[0]', 'GBP'), priceBody('$products[0]', 'JPY')],
    invoices: [
      { customerId: '$customers[0]', currency: 'GBP', lineItems: [{ title: 'Workspace', quantity: '3', rate: '33.33', taxRate: '0', priceId: '$prices[0]' }] },
      { customerId: '$customers[1]', currency: 'JPY', lineItems: [{ title: 'Workspace', quantity: '3', rate: '3333', taxRate: '0', priceId: '$prices[1]' }, { title: 'Support', quantity: '1', rate: '1234', taxRate: '0', priceId: '$prices[1]' }] },
    ],
  });
  const gbp = await calculate(seeded.invoices[0]!.id);
  expect(gbp.lines[0]).toMatchObject({ amount: '99.99', taxAmount: '20.00', taxRate: '0.2' }); // 1999.8 → 2000 pence
  await expectSequenceMatchesRecord(seeded.invoices[0]!.id, gbp);

  const jpy = await calculate(seeded.invoices[1]!.id);
  expect(jpy.currency).toBe('JPY');
  expect(jpy.lines.map((l) => [l.amount, l.taxAmount])).toEqual([
    ['9999', '1000'], // 999.9 → 1000 yen
    ['1234', '123'], // 123.4 → 123 yen
  ]);
  expect(jpy.totalTax).toBe('1123');
  await expectSequenceMatchesRecord(seeded.invoices[1]!.id, jpy);
});

it('gives an exempt customer zero tax without needing tax categories, keeping the reason', async () => {
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Public School District', SACRAMENTO, 'TAX_EXEMPT'), product: { name: 'Uncategorised licence' }, lines: [{ title: 'Licence', quantity: '10', rate: '25.00', taxRate: '0.0725' }, { title: 'Ad-hoc', quantity: '1', rate: '5.00', priceId: null }] }));
  const record = await calculate(seeded.invoices[0]!.id);
  expect(record).toMatchObject({ status: 'CALCULATED', totalTax: '0.00', reason: 'customer_exempt', taxStatus: 'TAX_EXEMPT' });
  expect(record.lines.every((l) => l.taxRate === '0' && l.jurisdictions.length === 0 && l.taxabilityReason === 'customer_exempt')).toBe(true);
  await expectSequenceMatchesRecord(seeded.invoices[0]!.id, record);
});

it("records Sphere's reverse charge for an EU business customer (tax id sent, zero tax)", async () => {
  const seeded = await h.seed({
    customers: [customerBody('Berliner Software GmbH', BERLIN, 'REVERSE_CHARGED')],
    products: [{ name: 'Platform', taxCategoryId: CATEGORY.saas }],
    prices: [priceBody('$products[0]', 'EUR')],
    taxRegistrations: [{ taxIdentifier: 'DE123456789', customerId: '$customers[0]', country: 'DE' }],
    invoices: [{ customerId: '$customers[0]', currency: 'EUR', lineItems: [{ title: 'Platform', quantity: '1', rate: '500.00', taxRate: '0.19', priceId: '$prices[0]' }] }],
  });
  const record = await calculate(seeded.invoices[0]!.id);
  expect(record).toMatchObject({ totalTax: '0.00', reason: 'reverse_charge', taxStatus: 'REVERSE_CHARGED' });
  expect(record.lines[0]).toMatchObject({ taxRate: '0', taxAmount: '0.00', taxabilityReason: 'reverse_charge' });
  await expectSequenceMatchesRecord(seeded.invoices[0]!.id, record);
});

it('gives zero tax with the reason kept when the merchant has no registration in the customer state', async () => {
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Sunshine Corp', MIAMI), product: { name: 'Seat', taxCategoryId: CATEGORY.saas }, lines: [{ title: 'Seat', quantity: '2', rate: '40.00', taxRate: '0.07' }] }));
  const record = await calculate(seeded.invoices[0]!.id);
  expect(record).toMatchObject({ totalTax: '0.00', reason: 'not_collecting' });
  await expectSequenceMatchesRecord(seeded.invoices[0]!.id, record);
});

it('refuses a taxed customer line whose product has no tax category: 422 with the fix, invoice untouched, failure listed', async () => {
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Taxed Buyer Inc', SACRAMENTO), product: { name: 'Mystery Box' }, lines: [{ title: 'Box', quantity: '1', rate: '10.00', taxRate: '0.05' }] }));
  const invoiceId = seeded.invoices[0]!.id;
  const before = await h.sphereRequests();
  const response = await h.admin.call<{ error: { code: string; message: string } }>('POST', taxPath(invoiceId));
  expect(response.status).toBe(422);
  expect(response.body.error.code).toBe('product_missing_tax_category');
  expect(response.body.error.message).toContain('Assign a tax category to Mystery Box in Sequence (Settings > Products)');
  expect((await h.sphereRequests()).filter((r) => r.path === '/tax_api/calculate_tax')).toHaveLength(before.filter((r) => r.path === '/tax_api/calculate_tax').length);
  expect((await h.invoiceLines(invoiceId))[0]!.taxRate).toBe('0.05');

  const stored = await h.admin.call<TaxRecord>('GET', taxPath(invoiceId));
  // Money is printed in the currency's decimals whatever the status (a FAILED record once said "0").
  expect(stored.body).toMatchObject({ status: 'FAILED', errorCode: 'product_missing_tax_category', totalTax: '0.00' });
  const failures = await h.admin.call<{ items: { resourceType: string; resourceId: string; code: string; retryable: boolean; reason: string }[] }>('GET', `/connections/${h.connection.id}/failures`);
  expect(failures.body.items).toContainEqual(expect.objectContaining({ resourceType: 'invoice', resourceId: invoiceId, code: 'product_missing_tax_category', retryable: false }));
});

it("prints a draft without lines' zero tax in the invoice currency's decimals (USD 0.00, JPY 0)", async () => {
  const seeded = await h.seed({
    customers: [customerBody('Empty Drafts KK', SACRAMENTO)],
    invoices: ['USD', 'JPY'].map((currency) => ({ customerId: '$customers[0]', currency, lineItems: [] })),
  });
  const [usd, jpy] = seeded.invoices.map((i) => i.id) as [string, string];
  expect(await calculate(usd)).toMatchObject({ status: 'CALCULATED', reason: 'no_lines', totalTax: '0.00' });
  expect(await calculate(jpy)).toMatchObject({ status: 'CALCULATED', reason: 'no_lines', totalTax: '0' });
});

it('answers 422 when the mapped Sphere product tax code is unknown to Sphere', async () => {
  await h.deps.connections.update(h.connection.id, { taxCodes: { ...h.connection.taxCodes, byTaxCategory: { ...h.connection.taxCodes.byTaxCategory, [CATEGORY.digitalServices]: 'txcd_does_not_exist' } } });
  try {
    const seeded = await h.seed(invoiceSeed({ customer: customerBody('Digital Buyer', SACRAMENTO), product: { name: 'E-book bundle', taxCategoryId: CATEGORY.digitalServices }, lines: [{ title: 'Bundle', quantity: '1', rate: '9.99' }] }));
    const response = await h.admin.call<{ error: { code: string; message: string } }>('POST', taxPath(seeded.invoices[0]!.id));
    expect(response.status).toBe(422);
    expect(response.body.error.message).toMatch(/txcd_does_not_exist/);
  } finally {
    await h.deps.connections.update(h.connection.id, { taxCodes: h.connection.taxCodes });
  }
});

it('answers 409 for an invoice that is not a draft, and 404 for a tax record that does not exist', async () => {
  const seeded = await h.seed({
    customers: [customerBody('Final Co', SACRAMENTO)],
    invoices: [{ customerId: '$customers[0]', currency: 'USD', status: 'FINAL', lineItems: [{ title: 'x', quantity: '1', rate: '1.00', taxRate: '0' }] }],
  });
  const response = await h.admin.call<{ error: { code: string } }>('POST', taxPath(seeded.invoices[0]!.id));
  expect(response.status).toBe(409);
  expect(response.body.error.code).toBe('invoice_not_draft');
  const missing = await h.admin.call<{ error: { code: string } }>('GET', taxPath('no-such-invoice'));
  expect(missing.status).toBe(404);
  expect(missing.body.error.code).toBe('tax_record_not_found');
});

it('taxes a 130-line invoice (two pages of line items) with one calculate_tax call', async () => {
  const lines = Array.from({ length: 130 }, (_, i) => ({ title: `Usage ${i}`, quantity: String(i + 1), rate: '0.37' }));
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Big Usage LLC', SACRAMENTO), product: { name: 'API calls', taxCategoryId: CATEGORY.saas }, lines }));
  const invoiceId = seeded.invoices[0]!.id;
  const calcsBefore = (await h.sphereRequests()).filter((r) => r.path === '/tax_api/calculate_tax').length;
  const record = await calculate(invoiceId);
  expect((await h.sphereRequests()).filter((r) => r.path === '/tax_api/calculate_tax').length).toBe(calcsBefore + 1);
  expect(record.lines).toHaveLength(130);
  for (const line of await h.invoiceLines(invoiceId)) {
    const net = minor(line.netTotal, 2);
    expect(line.totalTax).toBe(money(sphereEntry(net, '6') + sphereEntry(net, '1.25'), 2));
  }
  await expectSequenceMatchesRecord(invoiceId, record);
});

it('a large invoice taxed through the admin route is written once, though its own INVOICE_UPDATEDs arrive while the writes go on', async () => {
  // 60 line PUTs take long enough for their webhooks to reach the worker mid-way; the invoice's
  // lease makes the worker wait for the admin run and then find nothing to do.
  const lines = Array.from({ length: 60 }, (_, i) => ({ title: `Usage ${i}`, quantity: String(i + 1), rate: '0.37' }));
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Race Guard LLC', SACRAMENTO), product: { name: 'Metered', taxCategoryId: CATEGORY.saas }, lines }));
  const invoiceId = seeded.invoices[0]!.id;
  await h.settle();
  const policyId = await h.registerWebhooks(['INVOICE_UPDATED']);
  try {
    await sim(h.sequence.url, 'DELETE', '/_sim/requests');
    const calcsBefore = (await h.sphereRequests()).filter((r) => r.path === '/tax_api/calculate_tax').length;

    const record = await calculate(invoiceId);
    await h.settle();

    const deliveries = h.sequence.deliveries.filter((d) => JSON.stringify(d).includes(invoiceId));
    expect(deliveries.length).toBeGreaterThanOrEqual(1);
    const writes = (await h.sequenceRequests()).filter((r) => r.path.startsWith(`/api/invoices/${invoiceId}`) && r.method !== 'GET');
    expect(writes.filter((r) => r.method === 'PUT')).toHaveLength(60);
    expect(writes.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect((await h.sphereRequests()).filter((r) => r.path === '/tax_api/calculate_tax').length).toBe(calcsBefore + 1);
    await expectSequenceMatchesRecord(invoiceId, record);
  } finally {
    await h.sequenceApi('DELETE', `/notifications/policies/${policyId}`);
  }
});

it('ends the self-triggered INVOICE_UPDATED as a no-op: no second calculation, no second write', async () => {
  const policyId = await h.registerWebhooks(['INVOICE_CREATED', 'INVOICE_UPDATED']);
  try {
    const seeded = await h.seed(invoiceSeed({ customer: customerBody('Loop Guard Ltd', SACRAMENTO), product: { name: 'Seat', taxCategoryId: CATEGORY.saas }, lines: [{ title: 'A', quantity: '1', rate: '1.05' }, { title: 'B', quantity: '4', rate: '25.00' }] }));
    const invoiceId = seeded.invoices[0]!.id;
    await sim(h.sequence.url, 'DELETE', '/_sim/requests');
    const calcsBefore = (await h.sphereRequests()).filter((r) => r.path === '/tax_api/calculate_tax').length;

    const record = await calculate(invoiceId); // 2 line PUTs + 1 metadata PATCH → 3 INVOICE_UPDATED webhooks
    await h.settle();

    const deliveries = h.sequence.deliveries.filter((d) => JSON.stringify(d).includes(invoiceId));
    expect(deliveries.length).toBeGreaterThanOrEqual(1); // the webhooks really went through ingest → queue → worker
    expect(deliveries.every((d) => d.state === 'delivered')).toBe(true);
    const writes = (await h.sequenceRequests()).filter((r) => r.path.startsWith(`/api/invoices/${invoiceId}`) && r.method !== 'GET');
    expect(writes.filter((r) => r.method === 'PUT')).toHaveLength(2); // only the admin run wrote lines
    expect(writes.filter((r) => r.method === 'PATCH')).toHaveLength(1);
    expect((await h.sphereRequests()).filter((r) => r.path === '/tax_api/calculate_tax').length).toBe(calcsBefore + 1);
    const reads = (await h.sequenceRequests()).filter((r) => r.path === `/api/invoices/${invoiceId}` && r.method === 'GET');
    expect(reads.length).toBeGreaterThanOrEqual(2); // the worker re-read the invoice and stopped there
    const stored = await h.admin.call<TaxRecord>('GET', taxPath(invoiceId));
    expect(stored.body.calculatedAt).toBe(record.calculatedAt);
  } finally {
    await h.sequenceApi('DELETE', `/notifications/policies/${policyId}`);
  }
});
