/**
 * Upstream rate budgets shared by every process that uses one credential. Deployed, the sync and
 * tax functions run several Lambda instances per merchant, each with its own in-memory bucket, so
 * without this their sum could be several times Sphere's 10 writes/s.
 *
 * The budget is a shared pace (the generic cell rate algorithm): one item per scope,
 * `RATE#<scope>` / `PACE`, holds the theoretical arrival time of the next call. A process reserves
 * a few slots at a time by moving that time on atomically (a conditional set when the pace is idle,
 * an increment when it is busy), then sends each call at its slot. Calls from all processes therefore go out one
 * interval apart, after an initial `burst`, which is what a sliding-window limit such as Sphere's
 * needs; fixed per-second counters would let two processes put a window's worth each side of a
 * boundary.
 *
 * The scope key holds a fingerprint of the credential, never the credential. The item expires with
 * DynamoDB TTL a day after its last use. If the table cannot be used the call goes through
 * (reported to `onUnavailable`): the upstream's own 429 and Retry-After still protect it, and tax
 * must not stop for a counter.
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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

/** A slot this old was not used in time; using it now could exceed the budget, so it is dropped. */
const STALE_SLOT_MS = 1000;
/** Slots reserved at once (bounded by the burst; more when more callers wait): one table round trip per few calls, not per call. */
const MAX_BATCH = 5;

export class DynamoSharedPace implements SharedRateGate {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Milliseconds between calls at the sustained rate. */
  private readonly intervalMs: number;
  /** How far ahead of the pace a call may go (the burst after an idle period). */
  private readonly toleranceMs: number;
  /** Slots reserved per round trip: a burst-friendly limit (Sequence's) takes several at once. */
  private readonly batch: number;
  /** Send times this process reserved and has not used yet, earliest first. */
  private granted: number[] = [];
  /** This process's callers, one at a time: concurrent reservations would only collide on the item. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The next batch, reserved ahead while the current one is being used (burst-friendly limits only). */
  private next: Promise<number[]> | undefined;
  /** Callers of acquire() not served yet. */
  private waiting = 0;
  private readonly burst: number;
  /** Where the pace stood after this process's last reservation (epoch ms): ahead of the clock, it is still busy. */
  private reservedUntil = 0;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly scopeKey: string,
    rate: RateLimit,
    private readonly options: SharedPaceOptions = {},
  ) {
    if (!(rate.limit > 0) || !(rate.intervalMs > 0)) throw new RangeError('a shared pace needs a positive rate');
    const burst = Math.max(1, rate.burst ?? 1);
    this.intervalMs = rate.intervalMs / rate.limit;
    this.toleranceMs = (burst - 1) * this.intervalMs;
    this.burst = burst;
    this.batch = Math.min(MAX_BATCH, burst);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Resolves when this call's slot has come. Slots are handed out in arrival order. */
  acquire(): Promise<void> {
    this.waiting += 1;
    const turn = this.queue.then(async () => {
      let now = this.dropStale();
      if (this.granted.length === 0 && this.next) {
        this.granted = await this.next;
        this.next = undefined;
        now = this.dropStale();
      }
      // As many slots as there are callers waiting (a wave of parallel calls), within the burst.
      if (this.granted.length === 0) this.granted = await this.reserve(now, Math.min(this.burst, Math.max(this.batch, this.waiting)));
      const slot = this.granted.shift()!;
      // Reserve the next slots while these are being used: for the callers already queued beyond
      // them (the rest of a wave), and — where the burst is large enough that a few unused slots
      // cost little (Sequence's 25) — ahead for the next wave.
      const queued = this.waiting - 1;
      if (this.batch > 1 && !this.next) {
        if (queued > this.granted.length) this.next = this.reserve(now, Math.min(this.burst, Math.max(this.batch, queued - this.granted.length)));
        else if (this.burst >= 2 * MAX_BATCH && this.granted.length <= this.batch / 2) this.next = this.reserve(now, this.batch);
      }
      return slot - now;
    });
    void turn.finally(() => (this.waiting -= 1)).catch(() => undefined);
    this.queue = turn.catch(() => undefined);
    return turn.then(async (waitMs) => {
      if (waitMs > 0) await this.sleep(waitMs);
    });
  }

  /**
   * Reserve slots now, ahead of the calls about to follow (SharedRateGate.prepare), where unused
   * slots cost little (Sequence's burst of 25): two batches, enough for a tax calculation's first
   * wave and the reads its stored record foresees, so neither waits for a round trip of its own.
   * They are the ones the next acquire() takes; unused, they go stale within a second.
   */
  prepare(): void {
    if (this.burst < 2 * MAX_BATCH) return;
    const turn = this.queue.then(() => {
      const now = this.dropStale();
      if (this.granted.length === 0 && !this.next) this.next = this.reserve(now, 2 * MAX_BATCH);
    });
    this.queue = turn.catch(() => undefined);
  }

  /** Drops the slots too old to use; the current time. */
  private dropStale(): number {
    const now = this.now();
    while (this.granted.length > 0 && this.granted[0]! < now - STALE_SLOT_MS) this.granted.shift();
    return now;
  }

  /** Reserve the next `count` slots; their send times. One round trip when the pace is as this process last left it, two otherwise. */
  private async reserve(now: number, count: number): Promise<number[]> {
    const key = { PK: ratePk(this.scopeKey), SK: RATE_PACE_SK };
    const span = count * this.intervalMs;
    const ttl = ttlAfterSeconds(PACE_TTL_SECONDS, now);
    const claimIdle = async (): Promise<number | undefined> => {
      // Idle (the pace is behind the clock): our slots start now.
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET tat = :next, #ttl = :ttl',
            ConditionExpression: 'attribute_not_exists(tat) OR tat <= :now',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':next': now + span, ':now': now, ':ttl': ttl },
          }),
        );
        return now;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    };
    const claimBusy = async (onlyIfBusy: boolean): Promise<number | undefined> => {
      // Busy: take the slots after the last one handed out, atomically (never on an idle pace,
      // whose old time would hand out slots in the past).
      try {
        const out = await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET tat = tat + :span, #ttl = :ttl',
            ...(onlyIfBusy ? { ConditionExpression: 'tat > :now' } : {}),
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':span': span, ':ttl': ttl, ...(onlyIfBusy ? { ':now': now } : {}) },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        return Number(out.Attributes?.tat) - span;
      } catch (error) {
        if (onlyIfBusy && error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    };
    let first: number;
    try {
      // The case this process expects first (its own last reservation still ahead of the clock:
      // busy, as when the next batch is reserved during a wave), so one round trip usually does.
      if (this.reservedUntil > now) first = (await claimBusy(true)) ?? (await claimIdle()) ?? (await claimBusy(false))!;
      else first = (await claimIdle()) ?? (await claimBusy(false))!;
      this.reservedUntil = Math.max(this.reservedUntil, first + span);
    } catch (error) {
      this.options.onUnavailable?.(error);
      return [now];
    }
    return Array.from({ length: count }, (_, i) => Math.max(now, first + i * this.intervalMs - this.toleranceMs));
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
