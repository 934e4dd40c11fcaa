/**
 * DynamoDB actions the functions need, granted explicitly on the table ARN (and only the index a
 * function queries), instead of grantReadWriteData's `index/*` wildcard. No DescribeTable: no code
 * calls it (the IAM proof, test/integration/iam, lists every call each function makes).
 */
/**
 * Item reads/writes and per-connection queries on the connector table. BatchWriteItem: every function
 * that calls an upstream writes its audit entries a wave at a time (shared/store/audit-log.ts), and the
 * backfill its registration snapshots a page at a time (shared/store/registration-snapshots.ts).
 * BatchGetItem: a tax calculation reads its customer's and products' links in one round trip
 * (shared/store/links.ts).
 */
export const CONNECTOR_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;
/** On an index only queries apply: the connection list (GSI1). */
export const CONNECTIONS_INDEX_ACTIONS = ['dynamodb:Query'] as const;
/** Powertools idempotency records. */
export const IDEMPOTENCY_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;
