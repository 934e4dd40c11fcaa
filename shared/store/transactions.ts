/**
 * The state of each Sphere transaction the connector records (`CONN#<id>` / `TXN#<documentId>`):
 * an invoice's debit, its cancellation, a credit note's credit. The Sphere side is idempotent by
 * construction (upsert by external_id = the Sequence document id, identical body on a retry); this
 * record lets the flow skip work already done and shows what was recorded.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SK, connectionPk } from './keys';
import { ConnectorTableRepository } from './query';

export type TransactionState = 'RECORDED' | 'CANCELLED' | 'NOTHING_TO_CANCEL';

export interface TransactionRecord {
  /** The Sequence invoice or credit note id, also Sphere's external_id. */
  documentId: string;
  documentType: 'invoice' | 'credit_note';
  type: 'debit' | 'credit';
  state: TransactionState;
  originalTransactionId?: string;
  currency?: string;
  subtotal?: string;
  tax?: string;
  /** The tax on the Sequence document, when it differs from what Sphere recorded (`tax`). */
  documentTax?: string;
  /** Sphere's recorded tax minus the document's (absolute amounts): a reconciliation warning. */
  taxDifference?: string;
  recordedAt?: string;
  cancelledAt?: string;
  updatedAt: string;
}

export class TransactionRepository extends ConnectorTableRepository {
  get(connectionId: string, documentId: string): Promise<TransactionRecord | undefined> {
    return this.getItem<TransactionRecord>(connectionId, SK.transaction(documentId), 'connectionId');
  }

  /**
   * Store a newly recorded transaction. Returns false when a record already existed (a concurrent or
   * repeated run got there first), so counters move once.
   */
  async putRecorded(connectionId: string, record: TransactionRecord): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { PK: connectionPk(connectionId), SK: SK.transaction(record.documentId), connectionId, ...record },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Mark the transaction cancelled (or that there was nothing to cancel). */
  async markCancelled(connectionId: string, documentId: string, state: 'CANCELLED' | 'NOTHING_TO_CANCEL', base: Omit<TransactionRecord, 'state' | 'updatedAt'>): Promise<void> {
    const now = new Date().toISOString();
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: connectionPk(connectionId), SK: SK.transaction(documentId) },
        UpdateExpression:
          'SET #state = :state, documentId = :doc, cancelledAt = :now, updatedAt = :now, connectionId = :conn, documentType = if_not_exists(documentType, :dt), #type = if_not_exists(#type, :type)',
        ExpressionAttributeNames: { '#state': 'state', '#type': 'type' },
        ExpressionAttributeValues: { ':doc': documentId, ':state': state, ':now': now, ':conn': connectionId, ':dt': base.documentType, ':type': base.type },
      }),
    );
  }
}
