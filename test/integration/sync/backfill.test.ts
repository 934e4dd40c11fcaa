/**
 * Backfill of 500 customers (138 tax registrations, read for the whole account a page at a time)
 * and 100 products against both simulators at their real limits
 * (Sphere v1: 10 writes/s per key; Sequence: 1,500 requests/min per key), interrupted half way
 * (after 3 of 5 customer pages, 300 of 600 records) by a Sequence outage of the customer page read
 * that outlasts the client's retries, so the page message really fails and is redelivered; the
 * redelivery must resume from the run's saved cursor. Every record must end in Sphere exactly once,
 * with no 429 storm. The paced upstream calls alone take ~65 s (600 Sphere writes at 10/s,
 * ~1,600 Sequence calls at 25/s): this file holds only this test.
 */
import { SIM_TAX_CATEGORY_IDS } from '../../../local/sequence-sim/server';
import { type BackfillMessage } from '../../../shared/runtime/queue-messages';
import { createConnection, customerBody, type Harness, sim, sphereRequests, sphereState, startHarness, startInterceptingProxy, type TestConnection } from './harness';
import { eventually } from '../../support/eventually';

jest.setTimeout(150_000);

const CUSTOMERS = 500;
const PRODUCTS = 100;
const REGISTRATIONS = 138;
/** Customer pages read before the outage: 300 customers, half of the 600 records. */
const PAGES_BEFORE_OUTAGE = 3;

let h: Harness;
let c: TestConnection;
let proxy: { url: string; stop(): Promise<void> };
/** Sequence's customer page reads (not the limit=1 totals probe) as the proxy saw them. */
const pageReads: { after: string; status: number }[] = [];
const outage = { on: false };

beforeAll(async () => {
  // Worker timeouts as deployed would size them: a batch of 10 paced writes must fit (no redelivery while running).
  // Every emulated Lambda runs in this one process, so they share ONE per-key bucket per upstream: a
  // higher emulated concurrency cannot exceed Sphere's 10 writes/s or Sequence's 25 requests/s (the
  // assertions below check it); it only overlaps the local DynamoDB round trips. Deployed, each
  // instance has its own bucket, which is why the stack keeps maxConcurrency at 2.
  // The backfill's 20 s (= its emulated timeout) leaves a page room on a busy machine: its read
  // waits in the Sequence bucket behind up to 80 sync reads, and the one failed delivery must be
  // the outage's, never an emulated timeout (which, unlike Lambda's, leaves the handler running).
  // The redelivery it delays overlaps the Sphere backlog of the first 300 records.
  h = await startHarness({ visibilityTimeoutSeconds: 120, backfillVisibilityTimeoutSeconds: 20, syncMaxConcurrency: 8 });
  // The outage hits only the customer page read: the sync workers' own reads keep working, as in a
  // partial outage of one endpoint. It starts by itself right after page 3 was served (so it is
  // exactly half way, not wherever a polling test happens to notice) and lasts until the test ends it.
  proxy = await startInterceptingProxy(h.sequence.url, (req) => {
    const url = new URL(req.url, 'http://proxy');
    if (req.method !== 'GET' || url.pathname !== '/api/customers' || url.searchParams.get('limit') === '1') return undefined;
    const after = url.searchParams.get('after') ?? '(first)';
    if (outage.on) {
      pageReads.push({ after, status: 503 });
      return { status: 503, body: { error: { type: 'serviceUnavailable', message: 'Simulated outage' } } };
    }
    pageReads.push({ after, status: 200 });
    if (pageReads.filter((r) => r.status === 200).length === PAGES_BEFORE_OUTAGE) outage.on = true;
    return undefined;
  });
  // No webhook policy: the backfill alone must bring everything over.
  c = await createConnection(h, { policy: false, sequenceBaseUrl: `${proxy.url}/api`, taxCodes: { default: 'txcd_10000000', byTaxCategory: { [SIM_TAX_CATEGORY_IDS.saas]: 'txcd_10103001' } } });
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => customerBody(`Backfill Customer ${String(i).padStart(3, '0')}`));
  const products = Array.from({ length: PRODUCTS }, (_, i) => ({ name: `Product ${i}`, ...(i % 2 === 0 ? { taxCategoryId: SIM_TAX_CATEGORY_IDS.saas } : {}) }));
  // Tax registrations for every 4th customer (a second one for every 40th): 138 in all, two pages of the registrations phase.
  const taxRegistrations = customers.flatMap((_, i) => [
    ...(i % 4 === 0 ? [{ taxIdentifier: `GB${String(100000000 + i)}`, country: 'GB', customerId: `$customers[${i}]` }] : []),
    ...(i % 40 === 0 ? [{ taxIdentifier: `DE${String(200000000 + i)}`, country: 'DE', customerId: `$customers[${i}]` }] : []),
  ]);
  expect(taxRegistrations).toHaveLength(REGISTRATIONS);
  await sim(h.sequence.url, 'POST', '/_sim/seed', { customers, products, taxRegistrations });
});

afterAll(async () => {
  await h?.stop();
  await proxy?.stop();
});

it('queues every customer and product once, resumes from the saved cursor after failing half way, and writes each to Sphere exactly once', async () => {
  // What the connect flow does: mark QUEUED and queue the first page message.
  const runId = 'run-1';
  await h.deps.connections.setBackfill(c.connection.id, { state: 'QUEUED', done: 0, total: 0 });
  const first: BackfillMessage = { kind: 'backfill', connectionId: c.connection.id, trigger: 'backfill', phase: 'customers', runId };
  await h.deps.queues.send('backfill', { message: first, groupId: `${c.connection.id}:backfill`, deduplicationId: 'kick-1' });

  // Half way the page read fails more times than the client retries: the page message fails.
  const backfillWorker = h.runtime.pollers.find((p) => p.binding.queueName === 'backfill.fifo')!;
  await eventually('the page message failed', () => backfillWorker.stats.failedRecords > 0 && pageReads.some((r) => r.status === 503), { timeoutMs: 60_000, everyMs: 20 });
  const { backfill } = h.deps;
  const runAtCrash = (await backfill.get(c.connection.id))!;
  expect(runAtCrash).toMatchObject({ runId, state: 'RUNNING', phase: 'customers', pageIndex: PAGES_BEFORE_OUTAGE, cursor: expect.any(String) });
  const progressAtCrash = (await h.deps.connections.get(c.connection.id))!.backfill;
  expect(progressAtCrash).toEqual({ state: 'RUNNING', done: PAGES_BEFORE_OUTAGE * 100, total: CUSTOMERS + PRODUCTS });
  const failedReads = pageReads.filter((r) => r.status === 503);
  expect(failedReads.length).toBeGreaterThan(1); // the client retried, then gave up
  expect(new Set(failedReads.map((r) => r.after))).toEqual(new Set([runAtCrash.cursor]));
  // Sequence recovers; SQS redelivers the page message after its visibility timeout.
  outage.on = false;

  await eventually('backfill completed', async () => ((await h.deps.connections.get(c.connection.id))!.backfill.state === 'COMPLETED' ? true : undefined), { timeoutMs: 90_000, everyMs: 200 });
  await h.settle({ timeoutMs: 120_000 });

  // Resumed from the saved cursor, not restarted: the first read after the outage is the page at
  // the saved cursor, the first page was read once, and no page was read successfully twice.
  const served = pageReads.filter((r) => r.status === 200).map((r) => r.after);
  expect(served[PAGES_BEFORE_OUTAGE]).toBe(runAtCrash.cursor);
  expect(served.filter((after) => after === '(first)')).toHaveLength(1);
  expect(new Set(served).size).toBe(served.length);
  expect(served).toHaveLength(CUSTOMERS / 100);
  expect(backfillWorker.stats.failedRecords).toBe(1); // one failed delivery, then the redelivery went through
  expect((await backfill.get(c.connection.id))!).toMatchObject({ runId, state: 'COMPLETED', previousRunIds: [] });

  // Progress on the connection.
  const connection = (await h.deps.connections.get(c.connection.id))!;
  expect(connection.backfill).toEqual({ state: 'COMPLETED', done: CUSTOMERS + PRODUCTS, total: CUSTOMERS + PRODUCTS });
  expect(connection.counts.customersSynced).toBe(CUSTOMERS);
  expect(connection.counts.productsSynced).toBe(PRODUCTS);

  // Registrations were read a page at a time for the whole account (2 pages), never per customer.
  expect(h.sequence.requests.filter((r) => r.method === 'GET' && r.path === '/api/tax-registrations' && r.status === 200)).toHaveLength(2);
  expect(h.sequence.requests.filter((r) => r.path.startsWith('/api/tax-registrations/for-customer/'))).toHaveLength(0);

  // Every record in Sphere exactly once: 500 + 100 records, and exactly one successful write each.
  const state = await sphereState(h);
  expect(state.customers).toHaveLength(CUSTOMERS);
  expect(state.products).toHaveLength(PRODUCTS);
  const requests = await sphereRequests(h);
  expect(requests.filter((r) => r.method === 'POST' && r.path === '/v1/customers' && r.status === 200)).toHaveLength(CUSTOMERS);
  expect(requests.filter((r) => r.method === 'POST' && r.path === '/v1/products' && r.status === 200)).toHaveLength(PRODUCTS);
  // ... and every customer reached Sphere with the tax ids of its registrations.
  const taxIds = new Map((state.customers as { name: string; tax_ids?: { value: string }[] }[]).map((x) => [x.name, (x.tax_ids ?? []).map((t) => t.value).sort()]));
  for (let i = 0; i < CUSTOMERS; i++) {
    const expected = [...(i % 4 === 0 ? [`GB${String(100000000 + i)}`] : []), ...(i % 40 === 0 ? [`DE${String(200000000 + i)}`] : [])].sort();
    expect([i, taxIds.get(`Backfill Customer ${String(i).padStart(3, '0')}`)]).toEqual([i, expected]);
  }
  const codes = (state.products as { external_id: string; name: string; tax_code: string }[]).map((p) => p.tax_code);
  expect(codes.filter((x) => x === 'txcd_10103001')).toHaveLength(PRODUCTS / 2);
  expect(codes.filter((x) => x === 'txcd_10000000')).toHaveLength(PRODUCTS / 2);

  // Paced under Sphere's 10 writes/s: no 429 storm. A few edge-of-window 429s (honoured via Retry-After)
  // happen when a loaded machine delays paced calls into one window; unpaced, hundreds would: at most 2 %.
  const writes = requests.filter((r) => r.method === 'POST');
  expect(writes.filter((r) => r.status === 429).length).toBeLessThanOrEqual(Math.ceil((CUSTOMERS + PRODUCTS) * 0.02));
  const perSecond = new Map<number, number>();
  for (const w of writes.filter((r) => r.status === 200)) perSecond.set(Math.floor(Date.parse(w.time) / 1000), (perSecond.get(Math.floor(Date.parse(w.time) / 1000)) ?? 0) + 1);
  expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(11);

  // A late duplicate of a page message of this (completed) run changes nothing.
  const before = (await sphereRequests(h)).length;
  await h.deps.queues.send('backfill', { message: first, groupId: `${c.connection.id}:backfill`, deduplicationId: 'kick-late' });
  await h.settle();
  expect((await h.deps.connections.get(c.connection.id))!.backfill.done).toBe(CUSTOMERS + PRODUCTS);
  expect((await sphereRequests(h)).length).toBe(before);
});
