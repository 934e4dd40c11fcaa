/** The connector table on dynalite for one store test file: started before its tests, stopped after. */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type EmbeddedDynamo, startDynamo } from '../../../local/runtime/dynamo';

export interface ConnectorTable {
  db: DynamoDBDocumentClient;
  name: string;
}

export function useConnectorTable(): ConnectorTable {
  let dynamo: EmbeddedDynamo | undefined;
  const table = {} as ConnectorTable;
  beforeAll(async () => {
    dynamo = await startDynamo();
    table.db = DynamoDBDocumentClient.from(dynamo.client);
    table.name = dynamo.tables.connector;
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  return table;
}
