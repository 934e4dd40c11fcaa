/**
 * Upstream rate budgets shared by every process that uses one credential. Deployed, the sync and
 * tax functions run several Lambda instances per merchant, each with its own in-memory bucket, so
 * without this their sum could be several times Sphere's 10 writes/s.
 *
 * The budget is a shared pace (the generic cell rate algorithm): one item per scope,
 * `RATE#<scope>` / `PACE`, holds the theoretical arrival time of the next call. A caller reserves
 * its slot by moving that time on by one interval with a conditional update (retrying when another
 * process moved it first), then waits until its slot. Calls from all processes therefore go out one
 * interval apart, after an initial `burst`, which is what a sliding-window limit such as Sphere's
 * needs; fixed per-second counters would let two processes put a window's worth each side of a
 * boundary.
 *
 * The scope key holds a fingerprint of the credential, never the credential. The item expires with
 * DynamoDB TTL a day after its last use. If the table cannot be used the call goes through
 * (reported to `onUnavailable`): the upstream's own 429 and Retry-After still protect it, and tax
 * must not stop for a counter.
 */
import { GetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type RateLimit, type SharedRateGate, type SharedRateGateFactory } from '../http/rate-limiter';
import { ttlAfterSeconds } from './keys';

export const ratePk = (scopeKey: string) => `RATE#${scopeKey}`;
export const RATE_PACE_SK = 'PACE';
const PACE_TTL_SECONDS = 24 * 3600;

export interface SharedPaceOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told when the table could not be used and the call went through unguarded. */
  onUnavailable?: (error: unknown) => void;
}

export class DynamoSharedPace implements SharedRateGate {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Milliseconds between calls at the sustained rate. */
  private readonly intervalMs: number;
  /** How far ahead of the pace a call may go (the burst after an idle period). */
  private readonly toleranceMs: number;
  /** This process's reservations, one at a time: concurrent ones would only collide on the item. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly scopeKey: string,
    rate: RateLimit,
    private readonly options: SharedPaceOptions = {},
  ) {
    if (!(rate.limit > 0) || !(rate.intervalMs > 0)) throw new RangeError('a shared pace needs a positive rate');
    this.intervalMs = rate.intervalMs / rate.limit;
    this.toleranceMs = (Math.max(1, rate.burst ?? 1) - 1) * this.intervalMs;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Resolves when this call's slot has come. Reservations are made in arrival order. */
  acquire(): Promise<void> {
    const reserved = this.queue.then(() => this.reserve());
    this.queue = reserved.then(() => undefined);
    return reserved.then(async (waitMs) => {
      if (waitMs > 0) await this.sleep(waitMs);
    });
  }

  /** Reserve the next slot; how long to wait for it. */
  private async reserve(): Promise<number> {
    const key = { PK: ratePk(this.scopeKey), SK: RATE_PACE_SK };
    try {
      for (;;) {
        const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
        const previous = typeof out.Item?.tat === 'number' ? out.Item.tat : undefined;
        const now = this.now();
        const slot = Math.max(now, previous ?? 0);
        const sendAt = Math.max(now, slot - this.toleranceMs);
        try {
          await this.db.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: key,
              UpdateExpression: 'SET tat = :next, #ttl = :ttl',
              ConditionExpression: previous === undefined ? 'attribute_not_exists(tat)' : 'tat = :previous',
              ExpressionAttributeNames: { '#ttl': 'ttl' },
              ExpressionAttributeValues: { ':next': slot + this.intervalMs, ':ttl': ttlAfterSeconds(PACE_TTL_SECONDS, now), ...(previous === undefined ? {} : { ':previous': previous }) },
            }),
          );
        } catch (error) {
          if (error instanceof ConditionalCheckFailedException) continue; // another process took that slot: read again
          throw error;
        }
        return sendAt - now;
      }
    } catch (error) {
      this.options.onUnavailable?.(error);
      return 0;
    }
  }
}

/**
 * The factory the upstream clients take: one shared pace per credential scope and rate in this
 * process (clients are built per invocation; their reservations must still queue together).
 */
export function dynamoRateGates(db: DynamoDBDocumentClient, tableName: string, options: SharedPaceOptions = {}): SharedRateGateFactory {
  const gates = new Map<string, DynamoSharedPace>();
  return (scopeKey, rate) => {
    const id = `${scopeKey}|${rate.limit}/${rate.intervalMs}/${rate.burst ?? 1}`;
    let gate = gates.get(id);
    if (!gate) {
      gate = new DynamoSharedPace(db, tableName, scopeKey, rate, options);
      gates.set(id, gate);
    }
    return gate;
  };
}
