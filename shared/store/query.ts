/** Reads the repositories share: one item of a connection, every item under a sort-key prefix, an item without its keys. */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { connectionPk } from './keys';

/** An item as its repository returns it: without the table keys, nor the attributes in `alsoOmit` (e.g. a connectionId it repeats). */
export function withoutKeys<T>(item: Record<string, unknown>, ...alsoOmit: string[]): T {
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) if (key !== 'PK' && key !== 'SK' && !alsoOmit.includes(key)) rest[key] = value;
  return rest as T;
}

/** One item of a connection's partition (consistent read), without its keys; undefined when there is none. */
export async function getConnectionItem<T>(db: DynamoDBDocumentClient, tableName: string, connectionId: string, sk: string, ...alsoOmit: string[]): Promise<T | undefined> {
  const out = await db.send(new GetCommand({ TableName: tableName, Key: { PK: connectionPk(connectionId), SK: sk }, ConsistentRead: true }));
  return out.Item ? withoutKeys<T>(out.Item, ...alsoOmit) : undefined;
}

/** Every item of one partition whose sort key starts with `prefix`, following LastEvaluatedKey (consistent reads). */
export async function queryAllByPrefix(db: DynamoDBDocumentClient, tableName: string, pk: string, prefix: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    items.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** A repository over the connector table: the client and the table name, given once. */
export abstract class ConnectorTableRepository {
  constructor(
    protected readonly db: DynamoDBDocumentClient,
    protected readonly tableName: string,
  ) {}

  /** One item of a connection's partition (consistent read), without its keys (and `alsoOmit`). */
  protected getItem<T>(connectionId: string, sk: string, ...alsoOmit: string[]): Promise<T | undefined> {
    return getConnectionItem<T>(this.db, this.tableName, connectionId, sk, ...alsoOmit);
  }
}
