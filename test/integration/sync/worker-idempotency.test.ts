/**
 * Worker idempotency (Powertools makeIdempotent keyed on the SQS message id, shared/runtime/
 * sqs-worker.ts) against the real idempotency table on dynalite: an SQS message that succeeded and
 * is delivered again (SQS is at-least-once) is not processed a second time, even though what it
 * would read has changed since; another message for the same customer is processed as usual.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { invokeHandler } from '../../../local/runtime/lambda';
import { toSqsRecord } from '../../../local/runtime/poller';
import type { LambdaHandler } from '../../../local/runtime/types';
import { messageGroupId } from '../../../shared/runtime/queue-messages';
import { createConnection, customerBody, type Harness, sequenceApi, sim, sphereRequests, sphereState, startHarness, type TestConnection } from './harness';

let h: Harness;
let c: TestConnection;
let handler: LambdaHandler;

beforeAll(async () => {
  h = await startHarness();
  // No webhook policy: the only deliveries are the ones this test makes.
  c = await createConnection(h, { policy: false });
  handler = (await import('../../../functions/sync-customer/handler')).handler as LambdaHandler;
});

afterAll(async () => {
  await h?.stop();
});

/** Deliver one SQS message to the real sync-customer handler, as the event source mapping would. */
async function deliver(messageId: string, customerId: string, receiveCount: number): Promise<SQSBatchResponse> {
  const message: Message = {
    MessageId: messageId,
    ReceiptHandle: `receipt-${messageId}-${receiveCount}`,
    Body: JSON.stringify({ kind: 'customer', connectionId: c.connection.id, trigger: 'reconcile', customerId }),
    Attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: String(Date.now()), MessageGroupId: messageGroupId(c.connection.id, customerId), MessageDeduplicationId: messageId },
  };
  const event = { Records: [toSqsRecord(message, h.runtime.queueArns['customer-sync.fifo']!, 'eu-west-1')] };
  return (await invokeHandler(handler, event, { functionName: 'sync-customer', timeoutSeconds: 30 })) as SQSBatchResponse;
}

async function completedIdempotencyRecords(): Promise<number> {
  const { Items } = await h.runtime.dynamo.client.send(new ScanCommand({ TableName: h.runtime.tableNames.idempotency }));
  return (Items ?? []).filter((i) => i.id?.S?.startsWith('worker#customerSync#') && i.status?.S === 'COMPLETED').length;
}

it('the same SQS message processed twice writes upstream once; a new message for the same customer is processed', async () => {
  const seeded = await sim<{ customers: string[] }>(h.sequence.url, 'POST', '/_sim/seed', { customers: [customerBody('Once Only Ltd')] });
  const customerId = seeded.customers[0]!;
  const sequenceReads = () => h.sequence.requests.filter((r) => r.method === 'GET' && r.path === `/api/customers/${customerId}`).length;
  const sphereWrites = async () => (await sphereRequests(h)).filter((r) => r.method === 'POST' && r.path === '/v1/customers' && r.status === 200).length;
  const sphereName = async () => (await sphereState(h)).customers.find((x) => x.external_id === customerId)?.name;

  expect(await deliver('msg-1', customerId, 1)).toEqual({ batchItemFailures: [] });
  expect(sequenceReads()).toBe(1);
  expect(await sphereWrites()).toBe(1);
  expect(await sphereName()).toBe('Once Only Ltd');
  expect(await completedIdempotencyRecords()).toBe(1);

  // The customer changes (no webhook: no policy), then SQS delivers msg-1 again: it is answered
  // from the idempotency record, so nothing is read or written. (The change arrives with its own message.)
  await sequenceApi(h, 'PUT', `/customers/${customerId}`, customerBody('Once Only Group Ltd'));
  expect(await deliver('msg-1', customerId, 2)).toEqual({ batchItemFailures: [] });
  expect(sequenceReads()).toBe(1);
  expect(await sphereWrites()).toBe(1);
  expect(await sphereName()).toBe('Once Only Ltd');
  expect(await completedIdempotencyRecords()).toBe(1);

  // A different message for the same customer is processed: the skip above was the message id.
  expect(await deliver('msg-2', customerId, 1)).toEqual({ batchItemFailures: [] });
  expect(sequenceReads()).toBe(2);
  expect(await sphereWrites()).toBe(2);
  expect(await sphereName()).toBe('Once Only Group Ltd');
  expect(await completedIdempotencyRecords()).toBe(2);
});
