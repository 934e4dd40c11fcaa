/**
 * Invoice tax records (§5.1): the last calculation for an invoice, its per-line jurisdiction
 * breakdown and the input hash that makes a repeated calculation a no-op. One item per invoice,
 * `CONN#<id>` / `INVOICE#<invoiceId>`.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type TaxRecord } from '../domain/invoice-tax';
import { SK, connectionPk } from './keys';

export class TaxRecordRepository {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(connectionId: string, invoiceId: string): Promise<TaxRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { PK: connectionPk(connectionId), SK: SK.invoice(invoiceId) }, ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { PK: _pk, SK: _sk, connectionId: _c, ...rest } = out.Item;
    return rest as TaxRecord;
  }

  async put(connectionId: string, record: TaxRecord): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { PK: connectionPk(connectionId), SK: SK.invoice(record.invoiceId), connectionId, ...record } }),
    );
  }
}
