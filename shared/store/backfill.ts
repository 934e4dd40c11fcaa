/**
 * The state of a connection's backfill run: which phase, the saved Sequence cursor, how much was
 * queued. One item per connection (`BACKFILL`); each page advances it with a conditional write on
 * (runId, phase, pageIndex), so a redelivered or duplicated page message can never advance it
 * twice, and a crash resumes from the saved cursor instead of restarting.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { connectionPk } from './keys';
import { ConnectorTableRepository } from './query';

export const BACKFILL_SK = 'BACKFILL';

/** A run reads every tax registration first (so customers need no registration read each), then customers, then products. */
export type BackfillPhase = 'registrations' | 'customers' | 'products';

export interface BackfillRun {
  connectionId: string;
  runId: string;
  state: 'RUNNING' | 'COMPLETED';
  phase: BackfillPhase;
  /** Cursor of the next page to read in `phase` (absent: the phase's first page). */
  cursor?: string;
  /** Pages done in the current phase. */
  pageIndex: number;
  customersTotal: number;
  productsTotal: number;
  /** When the registrations phase started: the snapshot is no older than this (absent: a run without one). */
  registrationsReadFrom?: string;
  /** Records queued for sync so far in this run. */
  queued: number;
  startedAt: string;
  updatedAt: string;
  completedAt?: string;
  /** Earlier run ids: a stale page message of one of them is ignored. */
  previousRunIds: string[];
}

const key = (connectionId: string) => ({ PK: connectionPk(connectionId), SK: BACKFILL_SK });

export class BackfillRepository extends ConnectorTableRepository {
  async get(connectionId: string): Promise<BackfillRun | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key(connectionId), ConsistentRead: true }));
    if (!out.Item) return undefined;
    const { PK: _pk, SK: _sk, ...rest } = out.Item;
    return rest as BackfillRun;
  }

  /**
   * Start `runId` unless it is already the current run. Returns the current run afterwards
   * (a concurrent start of the same run is harmless).
   */
  async start(connectionId: string, runId: string, totals: { customersTotal: number; productsTotal: number }, previous?: BackfillRun): Promise<BackfillRun> {
    const now = new Date().toISOString();
    const run: BackfillRun = {
      connectionId,
      runId,
      state: 'RUNNING',
      phase: 'registrations',
      pageIndex: 0,
      registrationsReadFrom: now,
      customersTotal: totals.customersTotal,
      productsTotal: totals.productsTotal,
      queued: 0,
      startedAt: now,
      updatedAt: now,
      previousRunIds: previous ? [previous.runId, ...previous.previousRunIds].slice(0, 20) : [],
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key(connectionId), ...run },
          ConditionExpression: previous ? 'runId = :prev' : 'attribute_not_exists(PK)',
          ...(previous ? { ExpressionAttributeValues: { ':prev': previous.runId } } : {}),
        }),
      );
      return run;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.get(connectionId);
      if (!current) throw error;
      return current;
    }
  }

  /**
   * Record one finished page: only if the run is still at (runId, phase, pageIndex). false: someone
   * else already advanced it (duplicate message), nothing was written.
   */
  async advance(
    run: Pick<BackfillRun, 'connectionId' | 'runId' | 'phase' | 'pageIndex'>,
    next: { phase: BackfillPhase; pageIndex: number; cursor?: string; queuedDelta: number; completed: boolean; customersTotal?: number; productsTotal?: number },
  ): Promise<boolean> {
    const now = new Date().toISOString();
    const sets = ['phase = :nphase', 'pageIndex = :nidx', 'updatedAt = :now', '#state = :state'];
    const values: Record<string, unknown> = {
      ':run': run.runId,
      ':phase': run.phase,
      ':idx': run.pageIndex,
      ':nphase': next.phase,
      ':nidx': next.pageIndex,
      ':now': now,
      ':state': next.completed ? 'COMPLETED' : 'RUNNING',
      ':delta': next.queuedDelta,
    };
    if (next.cursor !== undefined) {
      sets.push('#cursor = :cursor');
      values[':cursor'] = next.cursor;
    }
    if (next.completed) {
      sets.push('completedAt = :now');
    }
    if (next.customersTotal !== undefined) {
      sets.push('customersTotal = :ct');
      values[':ct'] = next.customersTotal;
    }
    if (next.productsTotal !== undefined) {
      sets.push('productsTotal = :pt');
      values[':pt'] = next.productsTotal;
    }
    const remove = next.cursor === undefined ? ' REMOVE #cursor' : '';
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key(run.connectionId),
          UpdateExpression: `SET ${sets.join(', ')} ADD queued :delta${remove}`,
          ConditionExpression: 'runId = :run AND phase = :phase AND pageIndex = :idx AND #state = :running',
          ExpressionAttributeNames: { '#state': 'state', '#cursor': 'cursor' },
          ExpressionAttributeValues: { ...values, ':running': 'RUNNING' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
