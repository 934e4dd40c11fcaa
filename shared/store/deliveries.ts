/**
 * Webhook dedupe. The documented Sequence envelope has no delivery id, so the key is derived from
 * its content and signature timestamp (shared/webhooks/envelope.ts) and claimed with a conditional
 * put on `DELIVERY#<key>`; the item expires after the key's ttl (DynamoDB TTL on `ttl`). DynamoDB
 * deletes expired items only eventually (up to days later), so the claim itself ignores them.
 * Also keeps per-connection counts of notifications the connector does not consume.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SK, connectionPk, ttlAfterSeconds } from './keys';
import { ConnectorTableRepository } from './query';

/** Sort key of the per-connection webhook statistics item. */
export const WEBHOOK_STATS_SK = 'WEBHOOK_STATS';

export class DeliveryRepository extends ConnectorTableRepository {
  /**
   * true: first time this delivery is seen (now claimed for `ttlSeconds`, which the key decides:
   * shared/webhooks/envelope.ts); false: a duplicate.
   */
  async claim(connectionId: string, key: string, info: { notificationType: string; resourceId?: string }, ttlSeconds: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            PK: connectionPk(connectionId),
            SK: SK.delivery(key),
            notificationType: info.notificationType,
            ...(info.resourceId ? { resourceId: info.resourceId } : {}),
            receivedAt: new Date().toISOString(),
            ttl: ttlAfterSeconds(ttlSeconds),
          },
          ConditionExpression: 'attribute_not_exists(PK) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Undo a claim when the delivery could not be queued, so Sequence's retry is not taken for a duplicate. */
  async release(connectionId: string, key: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: { PK: connectionPk(connectionId), SK: SK.delivery(key) } }));
  }

  async isClaimed(connectionId: string, key: string): Promise<boolean> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { PK: connectionPk(connectionId), SK: SK.delivery(key) }, ConsistentRead: true }));
    return out.Item !== undefined;
  }

  /** Count a notification type the connector acknowledges but does not consume. */
  async countIgnored(connectionId: string, notificationType: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: connectionPk(connectionId), SK: WEBHOOK_STATS_SK },
        UpdateExpression: 'SET ignoredByType = if_not_exists(ignoredByType, :empty), updatedAt = :now ADD ignoredTotal :one',
        ExpressionAttributeValues: { ':empty': {}, ':now': new Date().toISOString(), ':one': 1 },
      }),
    );
    // Second step: a nested ADD needs the map to exist first (one UpdateExpression cannot do both).
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: connectionPk(connectionId), SK: WEBHOOK_STATS_SK },
        UpdateExpression: 'ADD ignoredByType.#t :one',
        ExpressionAttributeNames: { '#t': notificationType.slice(0, 100) },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  async stats(connectionId: string): Promise<{ ignoredTotal: number; ignoredByType: Record<string, number> }> {
    const out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { PK: connectionPk(connectionId), SK: WEBHOOK_STATS_SK }, ConsistentRead: true }));
    return {
      ignoredTotal: (out.Item?.ignoredTotal as number | undefined) ?? 0,
      ignoredByType: (out.Item?.ignoredByType as Record<string, number> | undefined) ?? {},
    };
  }
}
