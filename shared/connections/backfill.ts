/**
 * Triggering the backfill from the admin API. Queueing itself (QUEUED before sending, so a fast
 * worker's RUNNING is never overwritten; resume of an unfinished run) is the sync flow's.
 */
import { type Connection } from '../domain/connection';
import { type FlowLogger } from '../runtime/ports';
import { type Trigger } from '../runtime/queue-messages';
import { type ConnectionLookup, type ConnectionUpdates } from '../store/ports';
import { type BackfillKickDeps, queueBackfill as queueSyncBackfill } from '../sync/backfill';
import { requireConnection } from './lookup';
import { describeFailure } from './webhook-policy';

/** What the admin trigger uses: the sync flow's kick, plus the connection read back or marked with the error. */
export interface BackfillTriggerDeps extends BackfillKickDeps {
  connections: BackfillKickDeps['connections'] & ConnectionLookup & Pick<ConnectionUpdates, 'update'>;
  logger: FlowLogger;
}

/**
 * Queue the backfill (resuming an unfinished run, or a new one with `restart`) through the sync
 * flow's one way of doing it; on failure the backfill progress is left as it was and `lastError`
 * says why. Never throws for a queue failure.
 */
export async function queueBackfill(deps: BackfillTriggerDeps, connection: Connection, trigger: Trigger, options: { restart?: boolean } = {}): Promise<Connection> {
  const previous = connection.backfill;
  try {
    const { runId, resumed } = await queueSyncBackfill(deps, connection, trigger, options);
    deps.logger.info('Backfill queued', { connectionId: connection.id, runId, resumed, trigger });
  } catch (error) {
    const failure = describeFailure(error);
    deps.logger.error('Could not queue the backfill', { connectionId: connection.id, code: failure.code, errorName: error instanceof Error ? error.name : typeof error, errorMessage: error instanceof Error ? error.message : '' });
    return deps.connections.update(connection.id, {
      backfill: previous,
      lastError: { code: 'backfill_not_queued', message: `The backfill could not be queued (${failure.code}); retry with POST /connections/${connection.id}/backfill`, at: new Date().toISOString() },
    });
  }
  return (await deps.connections.get(connection.id)) ?? connection;
}

export interface StartBackfillOptions {
  /** Queue a new run even when one is QUEUED or RUNNING (a stuck run). */
  restart?: boolean;
}

/**
 * `POST /connections/{id}/backfill`: a QUEUED run is left alone (its first message is on its way:
 * the call answers the current progress); a RUNNING run is resumed from its saved cursor (its chain
 * may have broken, e.g. a page message dead-lettered; a second kick of a healthy chain is harmless
 * because the run item and the FIFO group serialise the pages); otherwise a new run starts.
 * `restart` always starts a new run.
 */
export async function startBackfill(deps: BackfillTriggerDeps, connectionId: string, options: StartBackfillOptions = {}): Promise<Connection> {
  const connection = await requireConnection(deps, connectionId, { live: 'be backfilled' });
  if (connection.backfill.state === 'QUEUED' && !options.restart) return connection;
  return queueBackfill(deps, connection, 'admin', { restart: options.restart === true });
}
