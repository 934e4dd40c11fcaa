/**
 * Failure records: everything that failed for a connection, why, and how to retry it. A record
 * exists while the resource is failing and is cleared by the next success, so the connection's
 * `failures` counter is the number of open failures.
 */
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type ClassifiedError } from '../domain/errors';
import { SK, connectionPk } from '../store/keys';
import { queryAllByPrefix } from '../store/query';
import { type ConnectionRepository } from '../store/connections';

export type FailedResourceType = 'customer' | 'product' | 'invoice' | 'credit_note' | 'transaction';

/** What to send again to retry: the queue (by logical name) and the message body. */
export interface RetryInstruction {
  queue: string;
  body: Record<string, unknown>;
}

export interface FailureRecord {
  connectionId: string;
  resourceType: FailedResourceType;
  resourceId: string;
  kind: ClassifiedError['kind'];
  code: string;
  message: string;
  fix?: string;
  /** True when retrying unchanged may succeed (transient); user errors need the fix first. */
  retryable: boolean;
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
  retry: RetryInstruction;
}

/**
 * Something that went through but an operator should look at (e.g. Sphere recorded other tax than
 * the document shows): listed beside the failures, never retried, not counted as a failure.
 */
export interface WarningRecord {
  connectionId: string;
  resourceType: FailedResourceType;
  resourceId: string;
  code: string;
  message: string;
  fix?: string;
  /** Amounts and ids behind the warning, for reconciliation. */
  details?: Record<string, string>;
  recordedAt: string;
}

export interface FailureInput {
  connectionId: string;
  resourceType: FailedResourceType;
  resourceId: string;
  error: ClassifiedError;
  retry: RetryInstruction;
}

/** The record after one more failure of the resource; `previous` is its open record, if any. */
export function nextFailureRecord(input: FailureInput, previous: Pick<FailureRecord, 'attempts' | 'firstFailedAt'> | undefined, now = new Date().toISOString()): FailureRecord {
  return {
    connectionId: input.connectionId,
    resourceType: input.resourceType,
    resourceId: input.resourceId,
    kind: input.error.kind,
    code: input.error.code,
    message: input.error.message,
    ...(input.error.fix ? { fix: input.error.fix } : {}),
    retryable: input.error.retryable,
    attempts: (previous?.attempts ?? 0) + 1,
    firstFailedAt: previous?.firstFailedAt ?? now,
    lastFailedAt: now,
    retry: input.retry,
  };
}

function strip<T = FailureRecord>(item: Record<string, unknown>): T {
  const { PK: _pk, SK: _sk, ...rest } = item;
  return rest as unknown as T;
}

export class FailureRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly connections: ConnectionRepository,
  ) {}

  async record(input: FailureInput): Promise<FailureRecord> {
    const key = { PK: connectionPk(input.connectionId), SK: SK.failure(input.resourceType, input.resourceId) };
    const previous = (await this.db.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }))).Item as FailureRecord | undefined;
    const record = nextFailureRecord(input, previous);
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { ...key, ...record } }));
    if (!previous) await this.connections.increment(input.connectionId, 'failures', 1);
    return record;
  }

  /** The resource succeeded: drop its failure record (if any) and move the counter. */
  async resolve(connectionId: string, resourceType: FailedResourceType, resourceId: string): Promise<boolean> {
    const out = await this.db.send(
      new DeleteCommand({ TableName: this.tableName, Key: { PK: connectionPk(connectionId), SK: SK.failure(resourceType, resourceId) }, ReturnValues: 'ALL_OLD' }),
    );
    if (out.Attributes) {
      await this.connections.increment(connectionId, 'failures', -1);
      return true;
    }
    return false;
  }

  async get(connectionId: string, resourceType: FailedResourceType, resourceId: string): Promise<FailureRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { PK: connectionPk(connectionId), SK: SK.failure(resourceType, resourceId) }, ConsistentRead: true }),
    );
    return out.Item ? strip(out.Item) : undefined;
  }

  async list(connectionId: string): Promise<FailureRecord[]> {
    return (await queryAllByPrefix(this.db, this.tableName, connectionPk(connectionId), 'FAILURE#')).map((item) => strip(item));
  }

  /** Keep a warning about a resource (one per resource; a repeat overwrites it). */
  async recordWarning(warning: Omit<WarningRecord, 'recordedAt'>): Promise<void> {
    const key = { PK: connectionPk(warning.connectionId), SK: SK.warning(warning.resourceType, warning.resourceId) };
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { ...key, ...warning, recordedAt: new Date().toISOString() } }));
  }

  async listWarnings(connectionId: string): Promise<WarningRecord[]> {
    return (await queryAllByPrefix(this.db, this.tableName, connectionPk(connectionId), 'WARNING#')).map((item) => strip<WarningRecord>(item));
  }
}
