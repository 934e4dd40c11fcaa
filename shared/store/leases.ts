/**
 * Short exclusive leases under a connection: `CONN#<id>` / `LEASE#<name>`. One holder at a time,
 * claimed with a conditional put; a holder that dies loses the lease when it expires, so nothing
 * stays locked for longer than `ttlMs` (DynamoDB TTL removes the item later still).
 *
 * Why: the invoice-tax core is reached three ways (queue, admin route, direct invocation). The
 * queue serialises its own messages per invoice, the other two do not, so without a lease the
 * INVOICE_UPDATED our own line PUTs cause could be calculated while those PUTs are still running.
 *
 * A released lease stays as a tombstone (`expiresAt` 0, `releasedAt`) until TTL removes it, so the
 * next holder learns when the previous one finished (`Lease.quietSince`): work that read upstream
 * state while the lease was being claimed can tell whether those reads may predate another
 * holder's writes, and read again only then.
 */
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SK, connectionPk, ttlAfterSeconds } from './keys';

export interface Lease {
  connectionId: string;
  name: string;
  holder: string;
  /**
   * Epoch ms since which no other holder can have been working under this lease: when the previous
   * holder released it or its lease ran out; 0 when it was not held before (or longer ago than the TTL).
   */
  quietSince: number;
}

export class LeaseRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The lease, or undefined while another holder has it. */
  async tryAcquire(connectionId: string, name: string, ttlMs: number): Promise<Lease | undefined> {
    const holder = randomUUID();
    const now = this.now();
    try {
      const out = await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { PK: connectionPk(connectionId), SK: SK.lease(name), holder, expiresAt: now + ttlMs, ttl: ttlAfterSeconds(Math.ceil(ttlMs / 1000) + 3600, now) },
          ConditionExpression: 'attribute_not_exists(PK) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': now },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const previous = out.Attributes;
      const quietSince = previous ? Number(previous.releasedAt ?? previous.expiresAt ?? 0) : 0;
      return { connectionId, name, holder, quietSince };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** Give the lease back (a tombstone saying when); a lease that expired and was taken by someone else is left to them. */
  async release(lease: Lease): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: connectionPk(lease.connectionId), SK: SK.lease(lease.name) },
          UpdateExpression: 'SET expiresAt = :free, releasedAt = :now',
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': lease.holder, ':free': 0, ':now': this.now() },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

/** A lease while `withLease` holds it for some work. */
export interface LeaseHold extends Lease {
  /**
   * Writes the lease does not need to protect, added by the work when it succeeds: they run beside
   * the release instead of one round trip before it.
   */
  besideRelease: (() => Promise<unknown>)[];
}

export interface LeaseWait {
  /** How long the lease is held at most (longer than the work can take). */
  ttlMs: number;
  /** How long to wait for a held lease before giving up with `busy()`. */
  waitMs: number;
  pollMs: number;
  /** The error thrown when the lease stayed taken for `waitMs`. */
  busy: () => Error;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Run `work` holding the named lease, waiting for it up to `waitMs`. */
export async function withLease<T>(repo: Pick<LeaseRepository, 'tryAcquire' | 'release'>, connectionId: string, name: string, wait: LeaseWait, work: (lease: LeaseHold) => Promise<T>): Promise<T> {
  const sleep = wait.sleep ?? realSleep;
  const deadline = Date.now() + wait.waitMs;
  let lease = await repo.tryAcquire(connectionId, name, wait.ttlMs);
  while (!lease) {
    if (Date.now() >= deadline) throw wait.busy();
    await sleep(wait.pollMs);
    lease = await repo.tryAcquire(connectionId, name, wait.ttlMs);
  }
  const hold: LeaseHold = { ...lease, besideRelease: [] };
  let result: T;
  try {
    result = await work(hold);
  } catch (error) {
    await repo.release(lease);
    throw error;
  }
  await Promise.all([repo.release(lease), ...hold.besideRelease.map((write) => write())]);
  return result;
}
