/**
 * DynamoDB actions the functions need, granted explicitly on the table ARN (and only the index a
 * function queries), instead of grantReadWriteData's `index/*` wildcard.
 */
/** Item reads/writes and per-connection queries on the connector table. */
export const CONNECTOR_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:DescribeTable'] as const;
/** Powertools idempotency records. */
export const IDEMPOTENCY_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:DescribeTable'] as const;
