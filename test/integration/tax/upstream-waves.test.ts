/**
 * Issue 15: the order of the upstream calls of one admin tax calculation, not its speed. With both
 * simulators answering every call after a fixed latency, the calls that stand one after another
 * ("waves", local/upstream-waves.ts) are read from their request logs: the data dependencies allow
 * {invoice, line items, groups} → {customer, registrations, products} → calculate_tax →
 * {line PUT, metadata PATCH}; once the invoice has a tax record, the customer and products it names
 * are read beside the invoice, so the first two waves are one, and an unchanged invoice stops after
 * it. The connector's own DynamoDB work (lease, links, tax record, audit log, shared pace) must not
 * split a wave.
 */
import { clearUpstreamCalls, describeWaves, readUpstreamCalls, setUpstreamLatency, upstreamWaves } from '../../../local/upstream-waves';
import { DEFAULT_OPTIONS } from '../../../shared/domain/connection';
import { LEASE_CLOCK_MARGIN_MS } from '../../../shared/tax/calculate';
import { CATEGORY, customerBody, priceBody, useTaxHarness } from './harness';

// Far above the scheduling jitter of a loaded machine (CI once stalled > 100 ms between two
// parallel reads), so calls that go out together stay together: the reads the tax record foresees
// leave one DynamoDB read after the invoice's, and must still count in its wave.
const LATENCY_MS = 400;

const h = useTaxHarness(
  { connection: { options: { ...DEFAULT_OPTIONS, calculateOnDraft: false } } },
  { beforeStop: (started) => setUpstreamLatency({ sequenceUrl: started.sequence.url, sphereUrl: started.sphere.url }, 0) },
);

it('recalculates in three dependent upstream waves, and confirms an unchanged invoice in one', async () => {
  const sims = { sequenceUrl: h.sequence.url, sphereUrl: h.sphere.url };
  const seeded = await h.seed({
    customers: [customerBody('Capitol Widgets', { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' })],
    products: [
      { name: 'Cloud seat', taxCategoryId: CATEGORY.saas },
      { name: 'Implementation', taxCategoryId: CATEGORY.standard },
    ],
    prices: [priceBody('$products[0]', 'USD'), priceBody('$products[1]', 'USD')],
    invoices: [
      {
        customerId: '$customers[0]',
        currency: 'USD',
        lineItems: [
          { title: 'Seats', quantity: '3', rate: '19.99', taxRate: '0', priceId: '$prices[0]' },
          { title: 'Onboarding', quantity: '1', rate: '500.00', taxRate: '0', priceId: '$prices[1]' },
        ],
      },
    ],
  });
  const invoiceId = seeded.invoices[0]!.id;
  const taxPath = `/connections/${h.connection.id}/invoices/${invoiceId}/tax`;
  // The first calculation puts the customer and products in Sphere (more waves: the ensure step).
  expect((await h.admin.call('POST', taxPath)).status).toBe(200);

  await setUpstreamLatency(sims, LATENCY_MS);
  const calculateAndReadWaves = async () => {
    // The invoice lease was released more than the clock margin ago, so the reads made while it is
    // claimed count (closer to another holder's release they are made again: tested in leases.test.ts).
    await new Promise((resolve) => setTimeout(resolve, LEASE_CLOCK_MARGIN_MS + 50));
    await clearUpstreamCalls(sims);
    const response = await h.admin.call<{ status: string }>('POST', taxPath);
    expect(response).toMatchObject({ status: 200, body: { status: 'CALCULATED' } });
    return describeWaves(upstreamWaves(await readUpstreamCalls(sims))).map((wave) => wave.split(' + ').sort());
  };

  const unchanged = await calculateAndReadWaves();
  const firstWave = ['GET /customers/{id}', 'GET /invoices/{id}', 'GET /invoices/{id}/line-item-groups', 'GET /invoices/{id}/line-items', 'GET /products/{id}', 'GET /products/{id}', 'GET /tax-registrations/for-customer/{id}'];
  expect(unchanged).toEqual([firstWave]);

  await h.sequenceApi('PUT', `/invoices/${invoiceId}/line-items/${seeded.invoices[0]!.lineItemIds[0]}`, {
    title: 'Seats',
    quantity: '4',
    rate: '19.99',
    priceId: seeded.prices[0],
    taxRate: '0',
    externalIds: [],
  });
  const oneLineChanged = await calculateAndReadWaves();
  expect(oneLineChanged).toEqual([
    firstWave,
    ['POST /tax_api/calculate_tax'],
    ['PATCH /invoices/{id}', 'PUT /invoices/{id}/line-items/{id}'],
  ]);
}, 120_000);
