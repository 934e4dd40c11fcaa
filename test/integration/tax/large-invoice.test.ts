/**
 * Issue 15: a bounded answer for large invoices. The admin tax and finalize routes sit behind API
 * Gateway (29 s); a 600-line invoice whose every line changes needs ~600 line PUTs at Sequence's
 * 1,500 a minute (≈ 25 s). When the writes cannot be done within the route's budget
 * (ADMIN_TAX_BUDGET_MS, lowered here so the test stays short) the route answers 202 with the tax
 * record to follow, and the invoice-tax worker finishes: the record turns CALCULATED, Sequence
 * shows Sphere's tax on every line; a handed-over "finalise with tax" finalises only after that,
 * and the invoice stays DRAFT until then. Both simulators answer every call after a fixed latency.
 */
import { type TaxRecord } from '../../../shared/domain/invoice-tax';
import { setUpstreamLatency } from '../../../local/upstream-waves';
import { DEFAULT_OPTIONS } from '../../../shared/domain/connection';
import { ADDRESSES, CATEGORY, customerBody, priceBody, useTaxHarness } from './harness';

const BUDGET_MS = 3_000;
const h = useTaxHarness(
  {
    connection: { options: { ...DEFAULT_OPTIONS, calculateOnDraft: false } },
    env: { ADMIN_TAX_BUDGET_MS: String(BUDGET_MS) },
    // The worker's 600 line PUTs take ~25 s: the message must stay invisible meanwhile (deployed: 6 × 120 s).
    visibilityTimeoutSeconds: 120,
  },
  { beforeStop: (started) => setUpstreamLatency({ sequenceUrl: started.sequence.url, sphereUrl: started.sphere.url }, 0) },
);

beforeAll(async () => {
  await setUpstreamLatency({ sequenceUrl: h.sequence.url, sphereUrl: h.sphere.url }, 10);
});

const { SACRAMENTO } = ADDRESSES;

async function seedInvoice(lines: number): Promise<string> {
  const seeded = await h.seed({
    customers: [customerBody(`Large Buyer ${lines}`, SACRAMENTO)],
    products: [{ name: 'Widget', taxCategoryId: CATEGORY.standard }],
    prices: [priceBody('$products[0]', 'USD')],
    invoices: [
      {
        customerId: '$customers[0]',
        currency: 'USD',
        lineItems: Array.from({ length: lines }, (_, i) => ({ title: `Line ${i + 1}`, quantity: String(1 + (i % 3)), rate: `${10 + (i % 50)}.25`, taxRate: '0', priceId: '$prices[0]' })),
      },
    ],
  });
  return seeded.invoices[0]!.id;
}

async function expectTaxWrittenOnEveryLine(invoiceId: string, count: number): Promise<TaxRecord> {
  const record = await h.admin.call<TaxRecord>('GET', `/connections/${h.connection.id}/invoices/${invoiceId}/tax`);
  expect(record).toMatchObject({ status: 200, body: { status: 'CALCULATED', invoiceId } });
  expect(record.body.lines).toHaveLength(count);
  const lines = await h.invoiceLines(invoiceId);
  expect(lines).toHaveLength(count);
  const byId = new Map(record.body.lines.map((l) => [l.lineItemId, l]));
  for (const line of lines) expect(line.totalTax).toBe(byId.get(line.id)!.taxAmount);
  expect(lines.every((l) => l.totalTax !== '0.00')).toBe(true);
  return record.body;
}

it('answers 202 for a 600-line invoice whose every line changes, and the worker writes the tax', async () => {
  const invoiceId = await seedInvoice(600);
  const taxRecordUrl = `/connections/${h.connection.id}/invoices/${invoiceId}/tax`;
  const answer = await h.admin.call<TaxRecord & { taxRecordUrl: string }>('POST', taxRecordUrl);
  expect(answer.status).toBe(202);
  expect(answer.body).toMatchObject({ status: 'PENDING', invoiceId, taxRecordUrl, reason: expect.stringContaining('worker finishes the calculation') });
  expect(answer.headers.get('location')).toBe(taxRecordUrl);
  // Following the URL shows the pending record until the worker is done.
  expect((await h.admin.call<TaxRecord>('GET', taxRecordUrl)).body.status).toBe('PENDING');

  await h.runtime.drain({ timeoutMs: 110_000 });
  await expectTaxWrittenOnEveryLine(invoiceId, 600);
}, 150_000);

it('a handed-over "finalise with tax" leaves the invoice DRAFT until the worker has written the tax, then finalises it', async () => {
  const invoiceId = await seedInvoice(60);
  const answer = await h.admin.call<{ invoice: { id: string; status: string }; taxRecord: TaxRecord; taxRecordUrl: string }>('POST', `/connections/${h.connection.id}/invoices/${invoiceId}/finalize`);
  expect(answer.status).toBe(202);
  expect(answer.body).toMatchObject({ invoice: { id: invoiceId, status: 'DRAFT' }, taxRecord: { status: 'PENDING', reason: expect.stringContaining('then finalises the invoice') } });
  expect((await h.getInvoice(invoiceId)).status).toBe('DRAFT');

  await h.runtime.drain({ timeoutMs: 60_000 });
  await expectTaxWrittenOnEveryLine(invoiceId, 60);
  expect((await h.getInvoice(invoiceId)).status).toBe('FINAL');
}, 120_000);
