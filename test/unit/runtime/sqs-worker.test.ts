/**
 * The shared SQS worker's retry path: a retryable failure is returned to the queue with a short,
 * growing delay (ChangeMessageVisibility) and still reported in batchItemFailures; every way the
 * visibility change can fail leaves the record a batch item failure (the queue then retries it at
 * its visibility timeout). SQS and DynamoDB are aws-sdk-client-mock: these are error paths.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { type Connection, DEFAULT_OPTIONS, zeroCounts } from '../../../shared/domain/connection';
import { UpstreamRateLimitedError, UpstreamUnavailableError, UserActionRequiredError } from '../../../shared/domain/errors';
import { SK } from '../../../shared/store/keys';
import { ConnectionRepository } from '../../../shared/store/connections';
import { FailureRepository } from '../../../shared/failures/records';
import { type WorkerDependencies, createSqsWorker } from '../../../shared/runtime/sqs-worker';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/connector-invoice-tax.fifo';

const connection: Connection = {
  id: 'conn_1', name: 'acme', status: 'ACTIVE', environment: 'sandbox', sequenceAccountId: 'acc',
  sequenceBaseUrl: 'http://sequence.test/api', sphereBaseUrl: 'http://sphere.test',
  taxCodes: { default: 'txcd_10000000', byTaxCategory: {} }, options: DEFAULT_OPTIONS, counts: zeroCounts(),
  backfill: { state: 'NOT_STARTED', done: 0, total: 0 }, createdAt: '2026-11-21T00:00:00Z', updatedAt: '2026-11-21T00:00:00Z',
};

const sqsMock = mockClient(SQSClient);
const tableMock = mockClient(DynamoDBDocumentClient);

function record(messageId: string, invoiceId: string, receiveCount = 1, group = `conn_1:${invoiceId}`): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: JSON.stringify({ kind: 'invoice', connectionId: 'conn_1', trigger: 'webhook', invoiceId }),
    attributes: { ApproximateReceiveCount: String(receiveCount), SentTimestamp: '1', SenderId: 'x', ApproximateFirstReceiveTimestamp: '1', MessageGroupId: group },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:connector-invoice-tax.fifo',
    awsRegion: 'eu-west-1',
  };
}

/** A worker whose handler fails per invoice id as `outcomes` says. */
function worker(outcomes: Record<string, () => void>, extra: Partial<WorkerDependencies> = {}) {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const connections = new ConnectionRepository(db, 'table');
  const handled: string[] = [];
  const deps: WorkerDependencies = {
    connections,
    failures: new FailureRepository(db, 'table', connections),
    sqs: new SQSClient({ region: 'eu-west-1' }),
    queueUrl: QUEUE_URL,
    maxReceiveCount: 5,
    logger: new Logger({ logLevel: 'SILENT' }),
    random: () => 1, // the top of each jitter range
    ...extra,
  };
  const handler = createSqsWorker(
    {
      queue: 'invoiceTax',
      failureTarget: (m) => ({ resourceType: 'invoice', resourceId: m.kind === 'invoice' ? m.invoiceId : m.creditNoteId }),
      handle: async (m) => {
        const id = m.kind === 'invoice' ? m.invoiceId : m.creditNoteId;
        handled.push(id);
        outcomes[id]?.();
      },
    },
    deps,
  );
  return { handler: (event: SQSEvent) => handler(event, { functionName: 'calculate-invoice-tax', getRemainingTimeInMillis: () => 60_000 } as unknown as Context), handled };
}

const unavailable = () => {
  throw new UpstreamUnavailableError('upstream_server_error', 'sphere failed POST /tax_api/calculate_tax with HTTP 503');
};

function visibilityChanges(): { ReceiptHandle?: string; VisibilityTimeout?: number }[] {
  return sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((c) => ({ ReceiptHandle: c.args[0].input.ReceiptHandle, VisibilityTimeout: c.args[0].input.VisibilityTimeout }));
}

beforeEach(() => {
  sqsMock.reset();
  tableMock.reset();
  tableMock.on(GetCommand).callsFake((input: { Key: { SK: string } }) => (input.Key.SK === SK.meta ? { Item: connection } : {}));
  tableMock.on(PutCommand).resolves({});
  tableMock.on(DeleteCommand).resolves({});
  tableMock.on(UpdateCommand).resolves({});
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { VisibilityTimeout: '720' } });
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
});

afterAll(() => {
  sqsMock.restore();
  tableMock.restore();
});

describe('SQS worker: retryable failures go back to the queue with a growing delay', () => {
  it('sets the failed record and the records of its group held behind it to the backoff delay; other groups are untouched', async () => {
    const { handler, handled } = worker({ inv_a: unavailable });
    const response = await handler({ Records: [record('m1', 'inv_a', 2, 'g-a'), record('m2', 'inv_a2', 2, 'g-a'), record('m3', 'inv_b', 1, 'g-b')] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }] });
    expect(handled).toEqual(['inv_a', 'inv_b']);
    // Receive 2: ceiling 5 × 4 = 20 s, at the top of the jitter range.
    expect(visibilityChanges()).toEqual([
      { ReceiptHandle: 'rh-m1', VisibilityTimeout: 20 },
      { ReceiptHandle: 'rh-m2', VisibilityTimeout: 20 },
    ]);
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)[0]!.args[0].input.QueueUrl).toBe(QUEUE_URL);
  });

  it("honours the upstream's Retry-After, capped by the queue's visibility timeout", async () => {
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { VisibilityTimeout: '90' } });
    const { handler } = worker({
      inv_a: () => {
        throw new UpstreamRateLimitedError('sequence rate-limited GET /invoices/inv_a', { retryAfterMs: 42_000 });
      },
      inv_b: () => {
        throw new UpstreamRateLimitedError('sequence rate-limited GET /invoices/inv_b', { retryAfterMs: 600_000 });
      },
    });
    await handler({ Records: [record('m1', 'inv_a', 1, 'g-a'), record('m2', 'inv_b', 1, 'g-b')] });
    expect(visibilityChanges()).toEqual([
      { ReceiptHandle: 'rh-m1', VisibilityTimeout: 42 },
      { ReceiptHandle: 'rh-m2', VisibilityTimeout: 90 },
    ]);
  });

  it('still reports the record as a batch item failure when ChangeMessageVisibility fails', async () => {
    sqsMock.on(ChangeMessageVisibilityCommand).rejects(Object.assign(new Error('Access denied'), { name: 'AccessDenied' }));
    const { handler } = worker({ inv_a: unavailable });
    const response = await handler({ Records: [record('m1', 'inv_a', 3)] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(visibilityChanges()).toEqual([{ ReceiptHandle: 'rh-m1', VisibilityTimeout: 80 }]);
  });

  it('still reports the failure when the visibility timeout cannot be read, and then does not cap the delay', async () => {
    sqsMock.on(GetQueueAttributesCommand).rejects(new Error('throttled'));
    const { handler } = worker({ inv_a: unavailable });
    const response = await handler({ Records: [record('m1', 'inv_a', 4)] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(visibilityChanges()).toEqual([{ ReceiptHandle: 'rh-m1', VisibilityTimeout: 300 }]);
  });

  it('on the last receive records the failure and still returns the message early, so the DLQ takes it soon', async () => {
    const { handler } = worker({ inv_a: unavailable });
    const response = await handler({ Records: [record('m1', 'inv_a', 5)] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(tableMock.commandCalls(PutCommand).some((c) => String(c.args[0].input.Item?.SK).startsWith('FAILURE#invoice#inv_a'))).toBe(true);
    expect(visibilityChanges()).toEqual([{ ReceiptHandle: 'rh-m1', VisibilityTimeout: 300 }]);
  });

  it('leaves bugs to the visibility timeout and does not retry user errors', async () => {
    const { handler } = worker({
      inv_bug: () => {
        throw new TypeError('undefined is not a function');
      },
      inv_user: () => {
        throw new UserActionRequiredError('customer_tax_location_invalid', 'Sphere cannot locate the address', { fix: 'Correct the address' });
      },
    });
    const response = await handler({ Records: [record('m1', 'inv_bug', 1, 'g-1'), record('m2', 'inv_user', 1, 'g-2')] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(visibilityChanges()).toEqual([]);
  });

  it('without the source queue URL reports the failure and leaves the delay to the queue', async () => {
    const { handler } = worker({ inv_a: unavailable }, { queueUrl: undefined });
    const response = await handler({ Records: [record('m1', 'inv_a')] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    expect(visibilityChanges()).toEqual([]);
  });
});
