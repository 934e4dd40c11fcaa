/**
 * Invoice tax records (§5.1): the last calculation for an invoice, its per-line jurisdiction
 * breakdown and the input hash that makes a repeated calculation a no-op. One item per invoice,
 * `CONN#<id>` / `INVOICE#<invoiceId>`.
 *
 * The lines are stored as one JSON string (`linesJson`), not a nested DynamoDB map: a 100-line
 * record as a map is thousands of typed values that the SDK and the table (de)serialise on every
 * calculation's read and write, on the critical path of the tax (issue 15); as a string it is one
 * value, and a quarter smaller. Records stored with a `lines` map before are read as they are.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { type TaxRecord } from '../domain/invoice-tax';
import { SK, connectionPk } from './keys';
import { ConnectorTableRepository } from './query';

export class TaxRecordRepository extends ConnectorTableRepository {
  async get(connectionId: string, invoiceId: string): Promise<TaxRecord | undefined> {
    const stored = await this.getItem<TaxRecord & { linesJson?: string }>(connectionId, SK.invoice(invoiceId), 'connectionId');
    if (!stored) return undefined;
    const { linesJson, ...record } = stored;
    return typeof linesJson === 'string' ? { ...record, lines: JSON.parse(linesJson) as TaxRecord['lines'] } : record;
  }

  async put(connectionId: string, record: TaxRecord): Promise<void> {
    const { lines, ...rest } = record;
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { PK: connectionPk(connectionId), SK: SK.invoice(record.invoiceId), connectionId, ...rest, linesJson: JSON.stringify(lines) } }),
    );
  }
}
