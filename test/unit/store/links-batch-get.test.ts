/**
 * The tax calculation reads a customer's and its products' links in one BatchGetItem: keys DynamoDB
 * leaves unprocessed (throttling) are asked again, and a table that keeps refusing is a retryable failure.
 */
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { LinkRepository } from '../../../shared/store/links';

const TABLE = 'connector';
const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
const table = mockClient(db);
afterEach(() => table.reset());
afterAll(() => table.restore());

const customer = { PK: 'CONN#c1', SK: 'CUSTOMER#cus_1', connectionId: 'c1', customerId: 'cus_1', sphereCustomerId: 'cus_1', archived: false, lastSyncedAt: 'x' };
const product = { PK: 'CONN#c1', SK: 'PRODUCT#p1', connectionId: 'c1', productId: 'p1', sphereProductId: 'p1', taxCode: 't', lastSyncedAt: 'x' };

it('asks again for the keys left unprocessed', async () => {
  table
    .on(BatchGetCommand)
    .resolvesOnce({ Responses: { [TABLE]: [customer] }, UnprocessedKeys: { [TABLE]: { Keys: [{ PK: 'CONN#c1', SK: 'PRODUCT#p1' }] } } })
    .resolvesOnce({ Responses: { [TABLE]: [product] } });
  const links = await new LinkRepository(db, TABLE).getCustomerAndProducts('c1', 'cus_1', ['p1', 'p2', 'p1']);
  expect(links.customer).toMatchObject({ customerId: 'cus_1' });
  expect(links.customer).not.toHaveProperty('PK');
  expect([...links.products.keys()]).toEqual(['p1', 'p2']);
  expect(links.products.get('p1')).toMatchObject({ sphereProductId: 'p1' });
  expect(links.products.get('p2')).toBeUndefined();
  const calls = table.commandCalls(BatchGetCommand);
  expect(calls).toHaveLength(2);
  expect(calls[0]!.args[0].input.RequestItems?.[TABLE]).toMatchObject({ ConsistentRead: true });
  expect(calls[1]!.args[0].input.RequestItems?.[TABLE]?.Keys).toEqual([{ PK: 'CONN#c1', SK: 'PRODUCT#p1' }]);
});

it('gives up with a retryable error when DynamoDB keeps leaving keys unprocessed', async () => {
  table.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [] }, UnprocessedKeys: { [TABLE]: { Keys: [{ PK: 'CONN#c1', SK: 'CUSTOMER#cus_1' }] } } });
  await expect(new LinkRepository(db, TABLE).getCustomerAndProducts('c1', 'cus_1', [])).rejects.toMatchObject({ kind: 'retryable', code: 'dynamodb_throttled' });
});
