/**
 * The scheduled reconcile (functions/reconcile) finds customers and products whose Sphere copy is
 * missing or stale and queues their sync; it reports counts.
 */
import type { Context } from 'aws-lambda';
import { type ReconcileSummary } from '../../../shared/sync/reconcile';
import { createConnection, customerBody, sequenceApi, sim, sphereState, type TestConnection, useHarness } from './harness';

const h = useHarness();
let c: TestConnection;
let runReconcile: () => Promise<ReconcileSummary>;

beforeAll(async () => {
  c = await createConnection(h, { policy: false });
  const handler = (await import('../../../functions/reconcile/handler')).handler;
  const context = { functionName: 'reconcile', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
  runReconcile = () => handler({}, context) as Promise<ReconcileSummary>;
});

it('queues what is missing, then nothing, then what went stale or vanished from Sphere', async () => {
  // Created without any webhook (no policy): nothing in Sphere yet.
  await sim(h.sequence.url, 'POST', '/_sim/seed', { customers: [customerBody('Drift A'), customerBody('Drift B')], products: [{ name: 'Widget' }] });
  const first = await runReconcile();
  expect(first.totals).toEqual({ checked: 3, customersQueued: 2, productsQueued: 1, invoicesQueued: 0 });
  await h.settle();
  expect((await sphereState(h)).customers).toHaveLength(2);

  // Everything in step: nothing to do.
  const second = await runReconcile();
  expect(second.totals).toEqual({ checked: 3, customersQueued: 0, productsQueued: 0, invoicesQueued: 0 });

  // A missed change (a tax registration sends no webhook), a changed tax-code mapping, and a Sphere copy that vanished.
  const customers = await sequenceApi<{ items: { id: string; legalName: string }[] }>(h, 'GET', '/customers');
  const a = customers.items.find((x) => x.legalName === 'Drift A')!;
  await sequenceApi(h, 'POST', '/tax-registrations', { customerId: a.id, taxIdentifier: 'US-EIN-12-3456789', country: 'US' });
  await h.deps.connections.update(c.connection.id, { taxCodes: { default: 'txcd_20030000', byTaxCategory: {} } });
  await sim(h.sphere.url, 'POST', '/_sim/reset');
  const third = await runReconcile();
  expect(third.totals).toEqual({ checked: 3, customersQueued: 2, productsQueued: 1, invoicesQueued: 0 });
  await h.settle();
  const state = await sphereState(h);
  expect(state.customers).toHaveLength(2);
  expect((state.products as { tax_code: string }[])[0]!.tax_code).toBe('txcd_20030000');
  const link = await h.deps.links.getCustomer(c.connection.id, a.id);
  expect(link?.registrationsHash).toBeDefined();
  expect(third.connections[0]).toMatchObject({ connectionId: c.connection.id, backfillResumed: false });
});
