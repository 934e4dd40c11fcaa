/**
 * The reference for cold-start ratios (bench/cold-start.ts): about the smallest useful Lambda of
 * this stack — the Powertools Logger and one DynamoDB client, built at module scope as the
 * connector's functions build theirs, bundled the same way. Each function's import time is
 * reported as a multiple of this one's, measured in the same run, so the figure holds across machines.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';

const logger = new Logger();
const dynamo = new DynamoDBClient({});

export const handler = async (event: { id?: string }): Promise<unknown> => {
  logger.info('reference handler', { id: event.id });
  const out = await dynamo.send(new GetItemCommand({ TableName: process.env.CONNECTOR_TABLE_NAME ?? 'table', Key: { PK: { S: event.id ?? 'x' }, SK: { S: 'META' } } }));
  return out.Item ?? null;
};
