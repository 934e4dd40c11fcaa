/**
 * Backfill of 500 customers (138 tax registrations, read for the whole account a page at a time)
 * and 100 products against both simulators at their real limits
 * (Sphere v1: 10 writes/s per key; Sequence: 1,500 requests/min per key), interrupted half way by
 * a Sequence outage and resumed from the saved cursor. Every record must end in Sphere exactly
 * once, with no 429 storm. The paced upstream calls alone take ~65 s (600 Sphere writes at 10/s,
 * ~1,600 Sequence calls at 25/s): this file holds only this test (~85 s).
 */
import { SIM_TAX_CATEGORY_IDS } from '../../../local/sequence-sim/server';
import { type BackfillMessage } from '../../../shared/runtime/queue-messages';
import { syncStores } from '../../../shared/sync/stores';
import { type Harness, type TestConnection, createConnection, customerBody, settle, sim, sphereRequests, sphereState, startHarness, waitFor } from './harness';

jest.setTimeout(150_000);

const CUSTOMERS = 500;
const PRODUCTS = 100;
const REGISTRATIONS = 138;

let h: Harness;
let c: TestConnection;

beforeAll(async () => {
  // Worker timeouts as deployed would size them: a batch of 10 paced writes must fit (no redelivery while running).
  // Every emulated Lambda runs in this one process, so they share ONE per-key bucket per upstream: a
  // higher emulated concurrency cannot exceed Sphere's 10 writes/s or Sequence's 25 requests/s (the
  // assertions below check it); it only overlaps the local DynamoDB round trips. Deployed, each
  // instance has its own bucket, which is why the stack keeps maxConcurrency at 2.
  h = await startHarness({ visibilityTimeoutSeconds: 120, backfillVisibilityTimeoutSeconds: 5, syncMaxConcurrency: 8 });
  // No webhook policy: the backfill alone must bring everything over.
  c = await createConnection(h, { policy: false, taxCodes: { default: 'txcd_10000000', byTaxCategory: { [SIM_TAX_CATEGORY_IDS.saas]: 'txcd_10103001' } } });
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
});

it('queues every customer and product once, survives an interruption half way, and writes each to Sphere exactly once', async () => {
  // What the connect flow does: mark QUEUED and queue the first page message.
  const runId = 'run-1';
  await h.deps.connections.setBackfill(c.connection.id, { state: 'QUEUED', done: 0, total: 0 });
  const first: BackfillMessage = { kind: 'backfill', connectionId: c.connection.id, trigger: 'backfill', phase: 'customers', runId };
  await h.deps.queues.send('backfill', { message: first, groupId: `${c.connection.id}:backfill`, deduplicationId: 'kick-1' });

  // Interrupt half way: once 2 of 5 customer pages are done, Sequence goes down for a while.
  const { backfill } = syncStores(h.deps);
  // The run record's cursor advances just before the connection's progress is written, so wait
  // for both: reading progress between the two writes would see the previous page's count.
  const halfWay = await waitFor('half way', async () => {
    const run = await backfill.get(c.connection.id);
    if (!run || run.phase !== 'customers' || run.pageIndex < 2) return undefined;
    const progress = (await h.deps.connections.get(c.connection.id))!.backfill;
    return progress.done >= 200 ? run : undefined;
  }, 60_000, 20);
  await sim(h.sequence.url, 'POST', '/_sim/faults', { errorRate: 1, statuses: [503] });
  const progressAtCrash = (await h.deps.connections.get(c.connection.id))!.backfill;
  expect(progressAtCrash.state).toBe('RUNNING');
  expect(progressAtCrash.done).toBeGreaterThanOrEqual(200);
  expect(progressAtCrash.done).toBeLessThan(CUSTOMERS + PRODUCTS);
  expect(progressAtCrash.total).toBe(CUSTOMERS + PRODUCTS);
  // Let at least one backfill page attempt fail, then Sequence recovers.
  await waitFor('a failed page read', () => h.sequence.requests.some((r) => r.path === '/api/customers' && r.status === 503), 30_000, 20);
  await sim(h.sequence.url, 'POST', '/_sim/faults', { errorRate: 0 });

  await waitFor('backfill completed', async () => ((await h.deps.connections.get(c.connection.id))!.backfill.state === 'COMPLETED' ? true : undefined), 60_000, 200);
  await settle(h, 120_000);

  // Progress on the connection.
  const connection = (await h.deps.connections.get(c.connection.id))!;
  expect(connection.backfill).toEqual({ state: 'COMPLETED', done: CUSTOMERS + PRODUCTS, total: CUSTOMERS + PRODUCTS });
  expect(connection.counts.customersSynced).toBe(CUSTOMERS);
  expect(connection.counts.productsSynced).toBe(PRODUCTS);

  // Resumed, not restarted: after the outage no page was read successfully twice.
  const pageReads = h.sequence.requests.filter((r) => r.method === 'GET' && r.path === '/api/customers' && r.status === 200 && !/limit=1(&|$)/.test(r.query));
  const cursors = pageReads.map((r) => new URLSearchParams(r.query).get('after') ?? '(first)');
  expect(new Set(cursors).size).toBe(cursors.length);
  expect(cursors).toHaveLength(CUSTOMERS / 100);
  expect(halfWay.cursor).toBeDefined();

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

  // Paced under Sphere's 10 writes/s: no 429 storm (at most a stray edge-of-window 429, honoured via Retry-After).
  const writes = requests.filter((r) => r.method === 'POST');
  expect(writes.filter((r) => r.status === 429).length).toBeLessThanOrEqual(3);
  const perSecond = new Map<number, number>();
  for (const w of writes.filter((r) => r.status === 200)) perSecond.set(Math.floor(Date.parse(w.time) / 1000), (perSecond.get(Math.floor(Date.parse(w.time) / 1000)) ?? 0) + 1);
  expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(11);

  // A late duplicate of a page message of this (completed) run changes nothing.
  const before = (await sphereRequests(h)).length;
  await h.deps.queues.send('backfill', { message: first, groupId: `${c.connection.id}:backfill`, deduplicationId: 'kick-late' });
  await settle(h);
  expect((await h.deps.connections.get(c.connection.id))!.backfill.done).toBe(CUSTOMERS + PRODUCTS);
  expect((await sphereRequests(h)).length).toBe(before);
});
