/**
 * Tax records keep their lines as one JSON string attribute (cheap to write and read on the tax's
 * critical path); records stored earlier with a `lines` map are still read as they were.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type TaxRecord } from '../../../shared/domain/invoice-tax';
import { TaxRecordRepository } from '../../../shared/store/tax-records';
import { useConnectorTable } from './dynamo-table';

const table = useConnectorTable();

const record: TaxRecord = {
  invoiceId: 'inv_1',
  status: 'CALCULATED',
  calculationId: 'taxcalc_1',
  currency: 'USD',
  customerId: 'cus_1',
  taxStatus: 'TAXED',
  lines: [
    {
      lineItemId: 'li_1',
      amount: '100.00',
      taxAmount: '7.25',
      taxRate: '0.0725',
      jurisdictions: [{ name: 'CALIFORNIA', rate: '0.06', percentage: '6', amount: '6.00', taxType: 'sales_tax', displayName: 'California' }],
      sphereProductId: 'prod_1',
    },
  ],
  totalTax: '7.25',
  inputHash: 'h',
  calculatedAt: '2026-12-03T00:00:00.000Z',
  updatedAt: '2026-12-03T00:00:00.000Z',
};

it('stores the lines as one JSON string and reads the record back as it was', async () => {
  const records = new TaxRecordRepository(table.db, table.name);
  await records.put('conn_1', record);
  const raw = await table.db.send(new GetCommand({ TableName: table.name, Key: { PK: 'CONN#conn_1', SK: 'INVOICE#inv_1' } }));
  expect(typeof raw.Item?.linesJson).toBe('string');
  expect(raw.Item).not.toHaveProperty('lines');
  expect(await records.get('conn_1', 'inv_1')).toEqual(record);
});

it('reads a record stored with a lines map', async () => {
  await table.db.send(new PutCommand({ TableName: table.name, Item: { PK: 'CONN#conn_2', SK: 'INVOICE#inv_1', connectionId: 'conn_2', ...record } }));
  expect(await new TaxRecordRepository(table.db, table.name).get('conn_2', 'inv_1')).toEqual(record);
});
