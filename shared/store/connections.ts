/**
 * Connections in DynamoDB. Uniqueness of a live connection per Sequence account + environment is
 * a conditional write on a lock item (dynalite has no transactions, so the lock goes first and is
 * released if the connection record cannot be written).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type BackfillProgress, type Connection, type ConnectionError, type ConnectionStatus, type CounterName } from '../domain/connection';
import { CONNECTIONS_GSI_PK, CONNECTIONS_INDEX, SK, accountLockPk, connectionPk } from './keys';

export class AccountAlreadyConnectedError extends Error {
  constructor(readonly existingConnectionId: string) {
    super(`This Sequence account is already connected in this environment (connection ${existingConnectionId})`);
    this.name = 'AccountAlreadyConnectedError';
  }
}

const ITEM_ONLY = ['PK', 'SK', 'GSI1PK', 'GSI1SK'] as const;

function toConnection(item: Record<string, unknown> | undefined): Connection | undefined {
  if (!item) return undefined;
  const copy: Record<string, unknown> = { ...item };
  for (const k of ITEM_ONLY) delete copy[k];
  return copy as unknown as Connection;
}

export class ConnectionRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Told of every counter move, after it is stored (the metrics mirror the counters). */
    private readonly onIncrement?: (connectionId: string, counter: CounterName, by: number) => void,
  ) {}

  async get(connectionId: string): Promise<Connection | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { PK: connectionPk(connectionId), SK: SK.meta }, ConsistentRead: true }));
    return toConnection(out.Item);
  }

  async list(): Promise<Connection[]> {
    const items: Connection[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: CONNECTIONS_INDEX,
          KeyConditionExpression: 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': CONNECTIONS_GSI_PK },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) items.push(toConnection(item)!);
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * Claim the Sequence account for this connection, then write the connection. A claim held by a
   * DISCONNECTED connection may be taken over; any other claim → AccountAlreadyConnectedError.
   */
  async create(connection: Connection): Promise<void> {
    const lockKey = { PK: accountLockPk(connection.environment, connection.sequenceAccountId), SK: SK.lock };
    const existing = await this.db.send(new GetCommand({ TableName: this.tableName, Key: lockKey, ConsistentRead: true }));
    const holder = existing.Item?.connectionId as string | undefined;
    if (holder && holder !== connection.id) {
      const current = await this.get(holder);
      if (current && current.status !== 'DISCONNECTED') throw new AccountAlreadyConnectedError(holder);
    }
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...lockKey, connectionId: connection.id },
          ConditionExpression: holder ? 'connectionId = :holder' : 'attribute_not_exists(PK)',
          ...(holder ? { ExpressionAttributeValues: { ':holder': holder } } : {}),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const raced = await this.db.send(new GetCommand({ TableName: this.tableName, Key: lockKey, ConsistentRead: true }));
        throw new AccountAlreadyConnectedError(String(raced.Item?.connectionId ?? 'unknown'));
      }
      throw error;
    }
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            PK: connectionPk(connection.id),
            SK: SK.meta,
            GSI1PK: CONNECTIONS_GSI_PK,
            GSI1SK: `${connection.createdAt}#${connection.id}`,
            ...connection,
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: lockKey, ConditionExpression: 'connectionId = :id', ExpressionAttributeValues: { ':id': connection.id } })).catch(() => undefined);
      throw error;
    }
  }

  /** Release the account claim of a connection (after disconnect or a failed create). */
  async releaseAccount(connection: Pick<Connection, 'id' | 'environment' | 'sequenceAccountId'>): Promise<void> {
    try {
      await this.db.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { PK: accountLockPk(connection.environment, connection.sequenceAccountId), SK: SK.lock },
          ConditionExpression: 'connectionId = :id',
          ExpressionAttributeValues: { ':id': connection.id },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Set top-level fields (never keys); `clear` removes optional ones (a resolved `lastError`).
   * Returns the updated connection.
   */
  async update(connectionId: string, fields: Partial<Omit<Connection, 'id' | 'createdAt' | 'counts'>>, options: { clear?: 'lastError'[] } = {}): Promise<Connection> {
    const entries = Object.entries({ ...fields, updatedAt: new Date().toISOString() }).filter(([, v]) => v !== undefined);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = entries.map(([k, v], i) => {
      names[`#f${i}`] = k;
      values[`:v${i}`] = v;
      return `#f${i} = :v${i}`;
    });
    const removes = (options.clear ?? []).filter((k) => !(k in fields)).map((k, i) => {
      names[`#r${i}`] = k;
      return `#r${i}`;
    });
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: connectionPk(connectionId), SK: SK.meta },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toConnection(out.Attributes)!;
  }

  /** A connection set ACTIVE works again: whatever `lastError` it showed is resolved and removed. */
  async setStatus(connectionId: string, status: ConnectionStatus, lastError?: ConnectionError): Promise<Connection> {
    return this.update(connectionId, { status, ...(lastError ? { lastError } : {}) }, status === 'ACTIVE' ? { clear: ['lastError'] } : {});
  }

  /**
   * An upstream refused the connection's stored credential in a flow (not the credentials test):
   * record it as `lastError`; an ACTIVE connection becomes ERROR, as the test endpoint would make
   * it (its queued work is still processed, see acceptsWork). A DISCONNECTED or missing connection
   * is left alone. Returns whether anything was recorded.
   */
  async recordCredentialRefusal(connectionId: string, lastError: ConnectionError): Promise<boolean> {
    const attempt = async (condition: string, values: Record<string, string>, setStatusToError: boolean) => {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { PK: connectionPk(connectionId), SK: SK.meta },
            UpdateExpression: `SET lastError = :e, updatedAt = :now${setStatusToError ? ', #status = :error' : ''}`,
            ConditionExpression: condition,
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':e': lastError, ':now': new Date().toISOString(), ...values },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    };
    return (
      (await attempt('#status = :active', { ':active': 'ACTIVE', ':error': 'ERROR' }, true)) ||
      (await attempt('#status IN (:error, :pending)', { ':error': 'ERROR', ':pending': 'PENDING' }, false))
    );
  }

  /** Atomic counter moves; concurrent workers never lose an increment. */
  async increment(connectionId: string, counter: CounterName, by = 1): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: connectionPk(connectionId), SK: SK.meta },
        UpdateExpression: 'ADD #counts.#c :by SET updatedAt = :now',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: { '#counts': 'counts', '#c': counter },
        ExpressionAttributeValues: { ':by': by, ':now': new Date().toISOString() },
      }),
    );
    this.onIncrement?.(connectionId, counter, by);
  }

  async setBackfill(connectionId: string, backfill: BackfillProgress): Promise<void> {
    await this.update(connectionId, { backfill });
  }
}
