/**
 * Embedded DynamoDB: dynalite on 127.0.0.1, in memory or persisted in LevelDB under the data
 * dir, with the connector's tables created from the same key schema as the CDK stack's
 * (CONNECTOR_TABLE, IDEMPOTENCY_TABLE in shared/store/keys.ts).
 *
 * Differences from AWS to keep in mind: dynalite has no UpdateTimeToLive (so TTL is never
 * configured and expired items are never deleted locally; Powertools idempotency checks its own
 * `expiration`, and repositories that rely on TTL must also filter by `ttl` when reading), no
 * transactions, no Streams, no PartiQL.
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { CONNECTOR_TABLE, IDEMPOTENCY_TABLE } from '../../shared/store/keys';

export const DEFAULT_TABLE_NAMES = { connector: 'sphere-connector-local', idempotency: 'sphere-connector-local-idempotency' } as const;

export interface TableNames {
  connector: string;
  idempotency: string;
}

/** The connector table: single-table PK/SK, one GSI, TTL on `ttl` (set by CDK, not locally). */
export function connectorTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [CONNECTOR_TABLE.partitionKey, CONNECTOR_TABLE.sortKey, ...CONNECTOR_TABLE.indexes.flatMap((i) => [i.partitionKey, i.sortKey])].map((name) => ({
      AttributeName: name,
      AttributeType: 'S',
    })),
    KeySchema: [
      { AttributeName: CONNECTOR_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: CONNECTOR_TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: CONNECTOR_TABLE.indexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

/** The Powertools idempotency table: partition key `id`, TTL `expiration` (not applied locally). */
export function idempotencyTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, AttributeType: 'S' }],
    KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: 'HASH' }],
  };
}

export interface EmbeddedDynamo {
  endpoint: string;
  port: number;
  tables: TableNames;
  client: DynamoDBClient;
  /** Answers DescribeTable for every table. */
  healthy(): Promise<boolean>;
  stop(): Promise<void>;
}

export interface StartDynamoOptions {
  port?: number;
  host?: string;
  /** LevelDB directory; in memory when absent. */
  path?: string;
  tables?: Partial<TableNames>;
  region?: string;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/** Create a table unless it exists; wait until it is ACTIVE. */
export async function ensureTable(client: DynamoDBClient, input: CreateTableCommandInput): Promise<void> {
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw error;
  }
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`Table ${input.TableName} did not become ACTIVE`);
}

export async function startDynamo(options: StartDynamoOptions = {}): Promise<EmbeddedDynamo> {
  if (options.path) mkdirSync(options.path, { recursive: true });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://${host}:${port}`;
  const tables: TableNames = { ...DEFAULT_TABLE_NAMES, ...options.tables };
  const client = new DynamoDBClient({
    endpoint,
    region: options.region ?? process.env.AWS_REGION ?? 'eu-west-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    client.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  try {
    await ensureTable(client, connectorTableDefinition(tables.connector));
    await ensureTable(client, idempotencyTableDefinition(tables.idempotency));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoint,
    port,
    tables,
    client,
    async healthy() {
      if (stopped) return false;
      try {
        for (const name of [tables.connector, tables.idempotency]) {
          const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
          if (Table?.TableStatus !== 'ACTIVE') return false;
        }
        return true;
      } catch {
        return false;
      }
    },
    stop,
  };
}
