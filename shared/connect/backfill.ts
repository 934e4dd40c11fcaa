/**
 * Triggering the backfill: mark the connection's backfill QUEUED (before sending, so a fast worker's
 * RUNNING is never overwritten), then put the first message on the backfill queue. The backfill
 * itself (pages, progress, resume) is the sync flow's worker.
 */
import { randomUUID } from 'node:crypto';
import { type Connection } from '../domain/connection';
import { type Dependencies } from '../runtime/dependencies';
import { type Trigger, messageGroupId } from '../runtime/queue-messages';
import { requireConnection, requireLive } from './lookup';
import { describeFailure } from './webhook-policy';

/** Queue the backfill; on failure the backfill stays NOT_STARTED and `lastError` says why. Never throws for a queue failure. */
export async function queueBackfill(deps: Pick<Dependencies, 'connections' | 'queues' | 'logger'>, connection: Connection, trigger: Trigger): Promise<Connection> {
  const runId = randomUUID();
  const previous = connection.backfill;
  await deps.connections.setBackfill(connection.id, { state: 'QUEUED', done: 0, total: 0 });
  try {
    await deps.queues.send('backfill', {
      message: { kind: 'backfill', connectionId: connection.id, trigger, phase: 'customers', runId },
      groupId: messageGroupId(connection.id, 'backfill'),
    });
  } catch (error) {
    const failure = describeFailure(error);
    deps.logger.error('Could not queue the backfill', { connectionId: connection.id, code: failure.code, errorName: error instanceof Error ? error.name : typeof error, errorMessage: error instanceof Error ? error.message : '' });
    return deps.connections.update(connection.id, {
      backfill: previous,
      lastError: { code: 'backfill_not_queued', message: `The backfill could not be queued (${failure.code}); retry with POST /connections/${connection.id}/backfill`, at: new Date().toISOString() },
    });
  }
  deps.logger.info('Backfill queued', { connectionId: connection.id, runId, trigger });
  return (await deps.connections.get(connection.id)) ?? connection;
}

export interface StartBackfillOptions {
  /** Queue a new run even when one is QUEUED or RUNNING (a stuck run). */
  restart?: boolean;
}

/**
 * `POST /connections/{id}/backfill`: queue a run unless one is already QUEUED or RUNNING (then the
 * call is a no-op answering the current progress; `restart` forces a new run).
 */
export async function startBackfill(deps: Dependencies, connectionId: string, options: StartBackfillOptions = {}): Promise<Connection> {
  const connection = await requireConnection(deps, connectionId);
  requireLive(connection, 'be backfilled');
  const inProgress = connection.backfill.state === 'QUEUED' || connection.backfill.state === 'RUNNING';
  if (inProgress && !options.restart) return connection;
  return queueBackfill(deps, connection, 'admin');
}
