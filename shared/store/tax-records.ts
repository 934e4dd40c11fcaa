/**
 * Invoice tax records (§5.1): the last calculation for an invoice, its per-line jurisdiction
 * breakdown and the input hash that makes a repeated calculation a no-op. One item per invoice,
 * `CONN#<id>` / `INVOICE#<invoiceId>`.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { type TaxRecord } from '../domain/invoice-tax';
import { SK, connectionPk } from './keys';
import { ConnectorTableRepository } from './query';

export class TaxRecordRepository extends ConnectorTableRepository {
  get(connectionId: string, invoiceId: string): Promise<TaxRecord | undefined> {
    return this.getItem<TaxRecord>(connectionId, SK.invoice(invoiceId), 'connectionId');
  }

  async put(connectionId: string, record: TaxRecord): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { PK: connectionPk(connectionId), SK: SK.invoice(record.invoiceId), connectionId, ...record } }),
    );
  }
}
