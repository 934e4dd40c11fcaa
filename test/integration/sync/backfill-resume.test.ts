/**
 * A backfill whose chain broke half way (a page message that kept failing and was dead-lettered)
 * stays RUNNING with its saved cursor and nothing left to move it. Two things restart it, and both
 * must resume the same run from the saved cursor instead of starting again:
 *  - the merchant's `POST /connections/{id}/backfill` (the real admin route);
 *  - the scheduled reconcile, once the run has not moved for STALLED_BACKFILL_MS.
 * 110 customers (two pages: 100 + 10) and 5 products keep it short; the 500 + 100 run with a real
 * redelivery is backfill.test.ts.
 */
import { restoreLogLevel } from '../../fixtures/log-level-info'; // first: the handlers' logger is built at import
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { captureLogs, type LogCapture } from '../../../bench/lib/chaos-log-capture';
import { BACKFILL_SK, type BackfillRun } from '../../../shared/store/backfill';
import { connectionPk } from '../../../shared/store/keys';
import { STALLED_BACKFILL_MS } from '../../../shared/sync/backfill';
import { type ReconcileSummary } from '../../../shared/sync/reconcile';
import { createConnection, customerBody, type Harness, pauseWorker, queueDepth, sim, sphereRequests, sphereState, startHarness, startInterceptingProxy, type TestConnection } from './harness';
import { eventually } from '../../support/eventually';

jest.setTimeout(120_000);

const CUSTOMERS = 110;
const PRODUCTS = 5;

let h: Harness;
let c: TestConnection;
let proxy: { url: string; stop(): Promise<void> };
let logs: LogCapture;
let runReconcile: () => Promise<ReconcileSummary>;
/** Successful customer page reads (not the limit=1 totals probe), by `after` cursor. */
const served: string[] = [];
/** While on, Sequence fails every read of the second customer page (past the client's retries). */
const outage = { on: false };

beforeAll(async () => {
  logs = captureLogs();
  h = await startHarness({ visibilityTimeoutSeconds: 30, backfillVisibilityTimeoutSeconds: 2, syncMaxConcurrency: 4 });
  proxy = await startInterceptingProxy(h.sequence.url, (req) => {
    const url = new URL(req.url, 'http://proxy');
    if (req.method !== 'GET' || url.pathname !== '/api/customers' || url.searchParams.get('limit') === '1') return undefined;
    const after = url.searchParams.get('after');
    if (after && outage.on) return { status: 503, body: { error: { type: 'serviceUnavailable', message: 'Simulated outage' } } };
    served.push(after ?? '(first)');
    return undefined;
  });
  c = await createConnection(h, { policy: false, sequenceBaseUrl: `${proxy.url}/api` });
  await sim(h.sequence.url, 'POST', '/_sim/seed', {
    customers: Array.from({ length: CUSTOMERS }, (_, i) => customerBody(`Resume Customer ${String(i).padStart(3, '0')}`)),
    products: Array.from({ length: PRODUCTS }, (_, i) => ({ name: `Resume Product ${i}` })),
  });
  const handler = (await import('../../../functions/reconcile/handler')).handler;
  const context = { functionName: 'reconcile', awsRequestId: 'req-resume', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
  runReconcile = () => handler({}, context) as Promise<ReconcileSummary>;
});

afterAll(async () => {
  await h?.stop();
  await proxy?.stop();
  logs?.stop();
  restoreLogLevel();
});

const connection = async () => (await h.deps.connections.get(c.connection.id))!;
const currentRun = async () => (await h.deps.backfill.get(c.connection.id))!;

/**
 * With the outage on, wait for the second page's message to fail, then do what the DLQ would do
 * after the last receive: take it off the queue. The run is left RUNNING after page 1, and no
 * message will move it again. Sequence then recovers.
 */
async function breakTheChainAfterPageOne(): Promise<BackfillRun> {
  const poller = h.runtime.pollers.find((p) => p.binding.queueName === 'backfill.fifo')!;
  const failedBefore = poller.stats.failedRecords;
  await eventually('the second page failed', () => poller.stats.failedRecords > failedBefore, { timeoutMs: 30_000, everyMs: 20 });
  const worker = await pauseWorker(h, 'backfill.fifo');
  const queueUrl = h.runtime.queueUrls['backfill.fifo']!;
  // (Visible again once the failed receive's visibility timeout is over.)
  const failing = await eventually('the failing page message', async () => {
    const { Messages } = await h.runtime.sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
    return Messages?.[0];
  }, { timeoutMs: 20_000 });
  await h.runtime.sqs.client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: failing.ReceiptHandle! }));
  outage.on = false;
  worker.resume();
  expect(await queueDepth(h, 'backfill.fifo')).toBe(0);
  return currentRun();
}

async function completed(): Promise<void> {
  await eventually('backfill completed', async () => (await connection()).backfill.state === 'COMPLETED', { timeoutMs: 60_000, everyMs: 100 });
  await h.settle({ timeoutMs: 60_000 });
}

const customerWrites = async () => (await sphereRequests(h)).filter((r) => r.method === 'POST' && r.path === '/v1/customers' && r.status === 200).length;

it('POST /connections/{id}/backfill on a RUNNING run resumes it from the saved cursor', async () => {
  outage.on = true;
  const kicked = await h.admin.call('POST', `/connections/${c.connection.id}/backfill`);
  expect(kicked.status).toBe(202);
  const stalled = await breakTheChainAfterPageOne();
  expect(stalled).toMatchObject({ state: 'RUNNING', phase: 'customers', pageIndex: 1, cursor: expect.any(String) });
  expect((await connection()).backfill).toEqual({ state: 'RUNNING', done: 100, total: CUSTOMERS + PRODUCTS });

  const resumed = await h.admin.call('POST', `/connections/${c.connection.id}/backfill`);
  expect(resumed.status).toBe(202);
  expect(resumed.body.backfill).toMatchObject({ state: 'RUNNING', done: 100 });
  const queued = logs.lines.filter((l) => l.includes('Backfill queued') && l.includes(stalled.runId));
  expect(queued.at(-1)).toMatch(/"resumed":\s*true/);
  await completed();

  // The same run went on from the saved cursor: page 1 was read once, page 2 at the saved cursor.
  expect(served).toEqual(['(first)', stalled.cursor]);
  expect(await currentRun()).toMatchObject({ runId: stalled.runId, state: 'COMPLETED', previousRunIds: [] });
  expect((await connection()).backfill).toEqual({ state: 'COMPLETED', done: CUSTOMERS + PRODUCTS, total: CUSTOMERS + PRODUCTS });
  const state = await sphereState(h);
  expect(state.customers).toHaveLength(CUSTOMERS);
  expect(state.products).toHaveLength(PRODUCTS);
  expect(await customerWrites()).toBe(CUSTOMERS);
});

it('reconcile re-kicks a RUNNING backfill that has stalled, resuming it from the saved cursor', async () => {
  served.length = 0;
  outage.on = true;
  const restarted = await h.admin.call('POST', `/connections/${c.connection.id}/backfill?restart=true`);
  expect(restarted.status).toBe(202);
  const stalled = await breakTheChainAfterPageOne();
  expect(stalled).toMatchObject({ state: 'RUNNING', phase: 'customers', pageIndex: 1, cursor: expect.any(String) });

  // Not stalled for long enough yet: left alone.
  expect((await runReconcile()).connections).toEqual([expect.objectContaining({ connectionId: c.connection.id, backfillResumed: false })]);
  expect(await queueDepth(h, 'backfill.fifo')).toBe(0);

  // The run item has not moved for longer than STALLED_BACKFILL_MS: reconcile resumes it.
  await h.deps.db.send(
    new UpdateCommand({
      TableName: h.deps.config.connectorTableName,
      Key: { PK: connectionPk(c.connection.id), SK: BACKFILL_SK },
      UpdateExpression: 'SET updatedAt = :old',
      ExpressionAttributeValues: { ':old': new Date(Date.now() - STALLED_BACKFILL_MS - 60_000).toISOString() },
    }),
  );
  const summary = await runReconcile();
  expect(summary.connections).toEqual([expect.objectContaining({ connectionId: c.connection.id, backfillResumed: true, customersQueued: 0, productsQueued: 0 })]);
  await completed();

  // Reconcile walks the customers itself (both pages, each time) before it checks the backfill;
  // the re-kicked run then reads only the page at its saved cursor.
  expect(served).toEqual(['(first)', '(first)', stalled.cursor, '(first)', stalled.cursor, stalled.cursor]);
  const run = await currentRun();
  expect(run).toMatchObject({ runId: stalled.runId, state: 'COMPLETED' });
  expect(run.previousRunIds).toHaveLength(1);
  expect((await connection()).backfill).toEqual({ state: 'COMPLETED', done: CUSTOMERS + PRODUCTS, total: CUSTOMERS + PRODUCTS });
  // Still exactly once in Sphere; unchanged records were not written again.
  expect((await sphereState(h)).customers).toHaveLength(CUSTOMERS);
  expect(await customerWrites()).toBe(CUSTOMERS);
});
