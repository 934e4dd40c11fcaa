/**
 * A per-connection log of upstream calls (method, path, status, latency, request id), kept for
 * 14 days by TTL and readable through the admin API. Never bodies, never headers: those can
 * carry credentials and customer data.
 */
import { BatchWriteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { type UpstreamCallRecord } from '../http/upstream-http';
import { SK, connectionPk, ttlAfterSeconds } from './keys';
import { ConnectorTableRepository } from './query';

export const AUDIT_RETENTION_SECONDS = 14 * 24 * 3600;
const BATCH_WRITE_LIMIT = 25;
const UNPROCESSED_ATTEMPTS = 4;

export interface AuditEntry extends UpstreamCallRecord {
  at: string;
}

export class AuditLog extends ConnectorTableRepository {
  async record(connectionId: string, call: UpstreamCallRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: this.item(connectionId, call, new Date().toISOString()) }));
  }

  /**
   * Several calls in one round trip (BatchWriteItem, 25 a request): the calls of one wave end
   * together, so their records go out together. Items DynamoDB leaves unprocessed are sent again.
   */
  async recordMany(calls: readonly { connectionId: string; call: UpstreamCallRecord; at: string }[]): Promise<void> {
    const items = calls.map((c) => this.item(c.connectionId, c.call, c.at));
    await Promise.all(
      Array.from({ length: Math.ceil(items.length / BATCH_WRITE_LIMIT) }, async (_, i) => {
        let requests = items.slice(i * BATCH_WRITE_LIMIT, (i + 1) * BATCH_WRITE_LIMIT).map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
          if (attempt === UNPROCESSED_ATTEMPTS) throw new Error(`DynamoDB left ${requests.length} audit records unprocessed`);
          const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }));
          requests = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
        }
      }),
    );
  }

  private item(connectionId: string, call: UpstreamCallRecord, at: string): Record<string, unknown> {
    const entry: AuditEntry = {
      at,
      service: call.service,
      method: call.method,
      path: call.path,
      latencyMs: call.latencyMs,
      attempt: call.attempt,
      ...(call.status !== undefined ? { status: call.status } : {}),
      ...(call.requestId ? { requestId: call.requestId } : {}),
      ...(call.errorCode ? { errorCode: call.errorCode } : {}),
    };
    return { PK: connectionPk(connectionId), SK: SK.audit(at, randomBytes(4).toString('hex')), ttl: ttlAfterSeconds(AUDIT_RETENTION_SECONDS), ...entry };
  }

  /** Newest first. */
  async list(connectionId: string, limit = 100): Promise<AuditEntry[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': connectionPk(connectionId), ':prefix': 'AUDIT#' },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(({ PK: _pk, SK: _sk, ttl: _ttl, ...rest }) => rest as AuditEntry);
  }
}
