/**
 * Backfill: every Sequence customer and product queued for sync, one page per message.
 * A run first pages through the account's tax registrations into a snapshot (one call per 100
 * instead of one per customer: Sequence's budget, not Sphere's, limited the backfill), then
 * customers, then products.
 *
 * A `backfill` message names a run; the run's state (phase, saved cursor, counts) lives in the
 * `BACKFILL` item of the connection (shared/store/backfill.ts) and is the source of truth, not the
 * message. Each message reads the page at the saved cursor, queues its records, advances the run
 * with a conditional write, updates `connection.backfill` {state, done, total}, and queues the
 * next-page message (self-chaining). A crash anywhere resumes from the saved cursor: before the
 * advance, the same page is read again (its sync messages are deduplicated and idempotent);
 * after it, the next page is read. Sequence reads are paced by the client's per-key bucket; the
 * Sphere writes happen in the sync workers (per-key bucket, 10 writes/s, low maxConcurrency).
 */
import { randomUUID } from 'node:crypto';
import { type Connection } from '../domain/connection';
import { type FlowLogger, type QueueSender, type UpstreamRunner } from '../runtime/ports';
import { type BackfillMessage, type Trigger, messageGroupId, perResource } from '../runtime/queue-messages';
import { type BackfillPhase, type BackfillRun } from '../store/backfill';
import { type BackfillRunStore, type ConnectionBackfillProgress, type RegistrationSnapshotWriter } from '../store/ports';
import { type SnapshotRegistration } from '../store/registration-snapshots';
import { type SequenceClient } from '../sequence';

/** The Sequence listings a backfill pages through. */
export interface BackfillClients {
  sequence: Pick<SequenceClient, 'customerPages' | 'productPages' | 'taxRegistrationPages'>;
}

/** Starting or resuming a run: its state, the progress the connection shows, the page queue. */
export interface BackfillKickDeps {
  backfill: Pick<BackfillRunStore, 'get'>;
  connections: ConnectionBackfillProgress;
  queues: QueueSender;
}

/** What a backfill page uses: the run, the registrations snapshot, the sync queues, the connection's clients. */
export interface BackfillDeps extends BackfillKickDeps, UpstreamRunner<BackfillClients> {
  backfill: BackfillRunStore;
  registrationSnapshots: RegistrationSnapshotWriter;
  logger: FlowLogger;
}

export const BACKFILL_PAGE_SIZE = 100;
/** A RUNNING backfill whose run item has not moved for this long is re-kicked by reconcile. */
export const STALLED_BACKFILL_MS = 15 * 60 * 1000;

export type BackfillPageOutcome =
  | { kind: 'page'; phase: BackfillPhase; queued: number; completed: boolean }
  | { kind: 'ignored'; reason: 'stale_run' | 'already_completed' | 'already_advanced' };

const backfillGroup = (connectionId: string) => messageGroupId(connectionId, 'backfill');

async function firstPage<T>(pages: AsyncGenerator<{ items: T[]; nextCursor?: string | undefined; pagination: { totalResultSize?: number | null } }>) {
  const page = await pages.next();
  await pages.return(undefined);
  if (page.done) return { items: [] as T[], nextCursor: undefined, totalResultSize: undefined };
  return { items: page.value.items, nextCursor: page.value.nextCursor, totalResultSize: page.value.pagination.totalResultSize ?? undefined };
}

async function totals(clients: BackfillClients): Promise<{ customersTotal: number; productsTotal: number }> {
  const [customers, products] = await Promise.all([firstPage(clients.sequence.customerPages({}, { limit: 1 })), firstPage(clients.sequence.productPages({ limit: 1 }))]);
  return { customersTotal: customers.totalResultSize ?? 0, productsTotal: products.totalResultSize ?? 0 };
}

async function readPage(clients: BackfillClients, phase: Exclude<BackfillPhase, 'registrations'>, cursor: string | undefined, limit: number) {
  const options = { limit, ...(cursor ? { after: cursor } : {}) };
  const page = await firstPage<{ id: string }>(phase === 'customers' ? clients.sequence.customerPages({}, options) : clients.sequence.productPages(options));
  return { ids: page.items.map((i) => i.id), nextCursor: page.nextCursor, totalResultSize: page.totalResultSize };
}

/** Registrations phase: one page of the account's tax registrations into the run's snapshot (the merchant's are skipped). */
async function snapshotRegistrationPage(deps: Pick<BackfillDeps, 'registrationSnapshots'>, connection: Connection, clients: BackfillClients, run: BackfillRun, limit: number) {
  const page = await firstPage(clients.sequence.taxRegistrationPages({ limit, ...(run.cursor ? { after: run.cursor } : {}) }));
  const customers: SnapshotRegistration[] = [];
  for (const r of page.items) {
    if (r.customerId) customers.push({ id: r.id, sequenceAccountId: r.sequenceAccountId, customerId: r.customerId, taxIdentifier: r.taxIdentifier, country: r.country, ...(r.state ? { state: r.state } : {}) });
  }
  await deps.registrationSnapshots.putPage(connection.id, run.runId, customers);
  return { nextCursor: page.nextCursor, registrations: customers.length };
}

async function sendNext(deps: Pick<BackfillDeps, 'queues'>, connectionId: string, runId: string, trigger: Trigger, phase: BackfillPhase, pageIndex: number): Promise<void> {
  const message: BackfillMessage = { kind: 'backfill', connectionId, trigger, phase, runId };
  await deps.queues.send('backfill', { message, groupId: backfillGroup(connectionId), deduplicationId: `${runId}:${phase}:${pageIndex}` });
}

/** Process one backfill page message. */
export async function processBackfillPage(deps: BackfillDeps, connection: Connection, message: BackfillMessage, options: { pageSize?: number } = {}): Promise<BackfillPageOutcome> {
  const { backfill } = deps;
  const pageSize = options.pageSize ?? BACKFILL_PAGE_SIZE;
  return deps.withUpstream(connection, async (clients) => {
    let run: BackfillRun | undefined = await backfill.get(connection.id);
    if (run && run.runId !== message.runId) {
      if (run.previousRunIds.includes(message.runId)) {
        deps.logger.info('Ignoring a page message of an earlier backfill run', { runId: message.runId, currentRunId: run.runId });
        return { kind: 'ignored', reason: 'stale_run' };
      }
      run = await backfill.start(connection.id, message.runId, await totals(clients), run);
    } else if (!run) {
      run = await backfill.start(connection.id, message.runId, await totals(clients));
    }
    if (run.runId !== message.runId) return { kind: 'ignored', reason: 'stale_run' };
    if (run.state === 'COMPLETED') return { kind: 'ignored', reason: 'already_completed' };

    if (run.phase === 'registrations') {
      const page = await snapshotRegistrationPage(deps, connection, clients, run, pageSize);
      const next = page.nextCursor ? { phase: run.phase, pageIndex: run.pageIndex + 1, cursor: page.nextCursor } : { phase: 'customers' as const, pageIndex: 0 };
      if (!(await backfill.advance(run, { ...next, queuedDelta: 0, completed: false }))) {
        deps.logger.info('Backfill page already recorded by another delivery; not chaining', { runId: run.runId, phase: run.phase, pageIndex: run.pageIndex });
        return { kind: 'ignored', reason: 'already_advanced' };
      }
      const total = run.customersTotal + run.productsTotal;
      await deps.connections.setBackfill(connection.id, { state: 'RUNNING', done: 0, total });
      deps.logger.info('Backfill registrations page read', { runId: run.runId, pageIndex: run.pageIndex, registrations: page.registrations });
      await sendNext(deps, connection.id, run.runId, message.trigger, next.phase, next.pageIndex);
      return { kind: 'page', phase: run.phase, queued: 0, completed: false };
    }

    const page = await readPage(clients, run.phase, run.cursor, pageSize);
    if (run.phase === 'customers') {
      // Registrations come from the run's snapshot when it has one (read before this page, so never older than `readFrom`).
      const registrationsSnapshot = run.registrationsReadFrom ? { runId: run.runId, readFrom: run.registrationsReadFrom } : undefined;
      await deps.queues.sendMany(
        'customerSync',
        perResource(connection.id, page.ids, `backfill:${run.runId}`, (customerId) => ({
          kind: 'customer' as const,
          connectionId: connection.id,
          trigger: 'backfill' as const,
          customerId,
          ...(registrationsSnapshot ? { registrationsSnapshot } : {}),
        })),
      );
    } else {
      await deps.queues.sendMany(
        'productSync',
        perResource(connection.id, page.ids, `backfill:${run.runId}`, (productId) => ({ kind: 'product' as const, connectionId: connection.id, trigger: 'backfill' as const, productId })),
      );
    }

    const next: { phase: BackfillPhase; pageIndex: number; cursor?: string; completed: boolean } = page.nextCursor
      ? { phase: run.phase, pageIndex: run.pageIndex + 1, cursor: page.nextCursor, completed: false }
      : run.phase === 'customers'
        ? { phase: 'products', pageIndex: 0, completed: false }
        : { phase: run.phase, pageIndex: run.pageIndex + 1, completed: true };
    // Totals: Sequence's totalResultSize as the pages report it (the start-of-run probe may be stale).
    const totalUpdate =
      page.totalResultSize === undefined ? {} : run.phase === 'customers' ? { customersTotal: page.totalResultSize } : { productsTotal: page.totalResultSize };
    const advanced = await backfill.advance(run, { ...next, queuedDelta: page.ids.length, ...totalUpdate });
    if (!advanced) {
      deps.logger.info('Backfill page already recorded by another delivery; not chaining', { runId: run.runId, phase: run.phase, pageIndex: run.pageIndex });
      return { kind: 'ignored', reason: 'already_advanced' };
    }
    const done = run.queued + page.ids.length;
    const total = (totalUpdate.customersTotal ?? run.customersTotal) + (totalUpdate.productsTotal ?? run.productsTotal);
    await deps.connections.setBackfill(connection.id, { state: next.completed ? 'COMPLETED' : 'RUNNING', done, total: Math.max(total, done) });
    deps.logger.info('Backfill page queued', { runId: run.runId, phase: run.phase, pageIndex: run.pageIndex, queued: page.ids.length, done, total, completed: next.completed });
    if (!next.completed) await sendNext(deps, connection.id, run.runId, message.trigger, next.phase, next.pageIndex);
    return { kind: 'page', phase: run.phase, queued: page.ids.length, completed: next.completed };
  });
}

/**
 * Start a backfill, or resume the current one when it has not completed (for the admin
 * `POST /connections/{id}/backfill` and for reconcile's stalled-run check); `restart` always
 * starts a new run. Returns the run id.
 */
export async function queueBackfill(
  deps: BackfillKickDeps,
  connection: Connection,
  trigger: Trigger,
  options: { restart?: boolean } = {},
): Promise<{ runId: string; resumed: boolean }> {
  const run = await deps.backfill.get(connection.id);
  const resumed = run?.state === 'RUNNING' && !options.restart;
  const runId = resumed ? run.runId : randomUUID();
  const phase: BackfillPhase = resumed ? run.phase : 'registrations';
  if (!resumed) await deps.connections.setBackfill(connection.id, { state: 'QUEUED', done: 0, total: 0 });
  const message: BackfillMessage = { kind: 'backfill', connectionId: connection.id, trigger, phase, runId };
  // A unique deduplication id: a resume must go through even if a chain message is in flight (the run item serialises them).
  await deps.queues.send('backfill', { message, groupId: backfillGroup(connection.id), deduplicationId: `${runId}:kick:${randomUUID()}` });
  return { runId, resumed };
}
