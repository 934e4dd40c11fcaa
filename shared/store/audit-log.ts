/**
 * A per-connection log of upstream calls (method, path, status, latency, request id), kept for
 * 14 days by TTL and readable through the admin API. Never bodies, never headers: those can
 * carry credentials and customer data.
 */
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { type UpstreamCallRecord } from '../http/upstream-http';
import { SK, connectionPk, ttlAfterSeconds } from './keys';

export const AUDIT_RETENTION_SECONDS = 14 * 24 * 3600;

export interface AuditEntry extends UpstreamCallRecord {
  at: string;
}

export class AuditLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(connectionId: string, call: UpstreamCallRecord): Promise<void> {
    const at = new Date().toISOString();
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
    await this.db.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { PK: connectionPk(connectionId), SK: SK.audit(at, randomBytes(4).toString('hex')), ttl: ttlAfterSeconds(AUDIT_RETENTION_SECONDS), ...entry },
      }),
    );
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
