/**
 * DynamoDB actions the functions need, granted explicitly on the table ARN (and only the index a
 * function queries), instead of grantReadWriteData's `index/*` wildcard. No DescribeTable: no code
 * calls it (the IAM proof, test/integration/iam, lists every call each function makes).
 */
/** Item reads/writes and per-connection queries on the connector table. */
export const CONNECTOR_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'] as const;
/** On an index only queries apply: the connection list (GSI1). */
export const CONNECTIONS_INDEX_ACTIONS = ['dynamodb:Query'] as const;
/** The backfill writes a page of registration snapshots at once (shared/store/registration-snapshots.ts). */
export const REGISTRATION_SNAPSHOT_ACTIONS = ['dynamodb:BatchWriteItem'] as const;
/** Powertools idempotency records. */
export const IDEMPOTENCY_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'] as const;
