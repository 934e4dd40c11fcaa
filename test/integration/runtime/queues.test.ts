/**
 * The SQS pollers against fauxqs, with a scripted handler wired like a real worker: partial batch
 * failures, whole-batch retries, redrive to the DLQ after maxReceiveCount, the Lambda-shaped
 * records, and the concurrency limit.
 */
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalRuntime, type LocalRuntime, type QueueBinding } from '../../../local/runtime';
import { interpretBatchResponse } from '../../../local/runtime/poller';
import { deliveries, reset, stats } from '../../fixtures/handlers/sqs-scripted';
import { eventually } from '../../support/eventually';

const load = () => import('../../fixtures/handlers/sqs-scripted');

const bindings: QueueBinding[] = [
  { queueName: 'work.fifo', dlqName: 'work-dlq.fifo', functionName: 'worker', load, envVar: 'WORK_QUEUE_URL', dlqEnvVar: 'WORK_DLQ_URL', batchSize: 10, visibilityTimeoutSeconds: 1, maxReceiveCount: 3, maxConcurrency: 2 },
  { queueName: 'slow.fifo', dlqName: 'slow-dlq.fifo', functionName: 'slow-worker', load, envVar: 'SLOW_QUEUE_URL', dlqEnvVar: 'SLOW_DLQ_URL', batchSize: 1, visibilityTimeoutSeconds: 5, maxReceiveCount: 3, maxConcurrency: 2 },
];

let runtime: LocalRuntime;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'queues-'));
  runtime = await startLocalRuntime({ port: 0, dataDir, inMemory: true, routes: [], queues: bindings, log: () => undefined });
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(() => reset());

const workUrl = () => runtime.queueUrls['work.fifo']!;
const dlqUrl = () => runtime.queueUrls['work-dlq.fifo']!;

async function send(id: string, extra: Record<string, unknown> = {}, group = id, queueUrl = workUrl()) {
  const result = await runtime.sqs.client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({ id, ...extra }),
      MessageGroupId: group,
      MessageDeduplicationId: `${id}-${Date.now()}-${Math.random()}`,
      MessageAttributes: { trigger: { DataType: 'String', StringValue: 'webhook' } },
    }),
  );
  return result.MessageId!;
}

async function dlqMessages() {
  const { Messages } = await runtime.sqs.client.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl(), MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ['All'] }));
  return Messages ?? [];
}

it('creates FIFO queues with a FIFO DLQ and the redrive policy, and exports their URLs', async () => {
  const { Attributes } = await runtime.sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: workUrl(), AttributeNames: ['All'] }));
  expect(Attributes?.FifoQueue).toBe('true');
  expect(JSON.parse(Attributes!.RedrivePolicy!)).toEqual({ deadLetterTargetArn: runtime.queueArns['work-dlq.fifo'], maxReceiveCount: 3 });
  expect(runtime.queueArns['work-dlq.fifo']).toMatch(/^arn:aws:sqs:[a-z0-9-]+:\d{12}:work-dlq\.fifo$/);
  expect(process.env.WORK_QUEUE_URL).toBe(workUrl());
  expect(process.env.WORK_DLQ_URL).toBe(dlqUrl());
});

it('delivers Lambda-shaped SQS records and deletes them on success', async () => {
  const messageId = await send('ok-1');
  await runtime.drain();
  expect(deliveries).toHaveLength(1);
  const { record, functionName } = deliveries[0]!;
  expect(functionName).toBe('worker');
  expect(record).toMatchObject({
    messageId,
    body: JSON.stringify({ id: 'ok-1' }),
    eventSource: 'aws:sqs',
    eventSourceARN: runtime.queueArns['work.fifo'],
    awsRegion: process.env.AWS_REGION,
    messageAttributes: { trigger: { stringValue: 'webhook', dataType: 'String' } },
  });
  expect(record.receiptHandle).toBeTruthy();
  expect(record.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
  expect(record.attributes).toMatchObject({ ApproximateReceiveCount: '1', MessageGroupId: 'ok-1', SenderId: expect.any(String) });
  expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
  expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThan(0);
  expect(record.attributes.MessageDeduplicationId).toBeTruthy();
  expect(await dlqMessages()).toHaveLength(0);
});

it('retries only the failing record of a batch; the others are deleted', async () => {
  // Different groups, so all three can be in one batch (FIFO delivers one group in order).
  await runtime.sqs.client.send(
    new SendMessageBatchCommand({
      QueueUrl: workUrl(),
      Entries: [
        { Id: 'a', MessageBody: JSON.stringify({ id: 'a' }), MessageGroupId: 'ga', MessageDeduplicationId: `a-${Date.now()}` },
        { Id: 'b', MessageBody: JSON.stringify({ id: 'b', failTimes: 1 }), MessageGroupId: 'gb', MessageDeduplicationId: `b-${Date.now()}` },
        { Id: 'c', MessageBody: JSON.stringify({ id: 'c' }), MessageGroupId: 'gc', MessageDeduplicationId: `c-${Date.now()}` },
      ],
    }),
  );
  await runtime.drain();
  const byId = (id: string) => deliveries.filter((d) => d.id === id);
  expect(byId('a')).toHaveLength(1);
  expect(byId('c')).toHaveLength(1);
  expect(byId('b').map((d) => d.receiveCount)).toEqual([1, 2]);
  expect(byId('b')[1]!.batchSize).toBe(1); // the retry carries only the failed record
  expect(await dlqMessages()).toHaveLength(0);
});

it('moves a message that fails maxReceiveCount (3) times to the DLQ', async () => {
  const messageId = await send('poison', { failTimes: -1 });
  await eventually('three deliveries', () => deliveries.length >= 3, { timeoutMs: 15_000, everyMs: 50 });
  await eventually('one message in the DLQ', async () => {
    const { Attributes } = await runtime.sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl(), AttributeNames: ['ApproximateNumberOfMessages'] }));
    return Attributes?.ApproximateNumberOfMessages === '1';
  }, { timeoutMs: 15_000, everyMs: 50 });
  await runtime.drain();
  expect(deliveries.map((d) => d.receiveCount)).toEqual([1, 2, 3]);
  const dead = await dlqMessages();
  expect(dead).toHaveLength(1);
  expect(dead[0]!.MessageId).toBe(messageId);
  expect(JSON.parse(dead[0]!.Body!)).toEqual({ id: 'poison', failTimes: -1 });
});

it('leaves the whole batch to retry when the handler throws', async () => {
  await send('throws-once', { throw: true, failTimes: 0 });
  // A thrower fails every time: it reaches the DLQ after 3 receives, never deleted in between.
  await eventually('three deliveries', () => deliveries.length >= 3, { timeoutMs: 15_000, everyMs: 50 });
  await runtime.drain();
  expect(deliveries.map((d) => d.receiveCount)).toEqual([1, 2, 3]);
  const dead = await dlqMessages();
  expect(dead.map((m) => JSON.parse(m.Body!).id)).toContain('throws-once');
});

it('keeps at most maxConcurrency batches in flight', async () => {
  // batchSize 1, six groups: six invocations, never more than two at once.
  await Promise.all(Array.from({ length: 6 }, (_, i) => send(`slow-${i}`, { delayMs: 300 }, `g${i}`, runtime.queueUrls['slow.fifo']!)));
  await runtime.drain();
  const slow = deliveries.filter((d) => d.id.startsWith('slow-'));
  expect(slow).toHaveLength(6);
  expect(slow.every((d) => d.batchSize === 1 && d.functionName === 'slow-worker')).toBe(true);
  expect(stats.maxConcurrentSeen).toBe(2);
});

describe('interpretBatchResponse (event source mapping rules)', () => {
  const ids = ['m1', 'm2'];
  it.each([
    [undefined, 'partial', []],
    [null, 'partial', []],
    [{}, 'partial', []],
    [{ batchItemFailures: [] }, 'partial', []],
    [{ batchItemFailures: null }, 'partial', []],
    [{ batchItemFailures: [{ itemIdentifier: 'm2' }] }, 'partial', ['m2']],
    [{ batchItemFailures: [{ itemIdentifier: '' }] }, 'retry-all', []],
    [{ batchItemFailures: [{ itemIdentifier: 'unknown' }] }, 'retry-all', []],
    [{ batchItemFailures: [{ itemIdentifer: 'm1' }] }, 'retry-all', []],
    [{ batchItemFailures: 'm1' }, 'retry-all', []],
    ['ok', 'retry-all', []],
  ])('%j → %s %j', (result, kind, failed) => {
    const outcome = interpretBatchResponse(result, ids);
    expect(outcome.kind).toBe(kind);
    if (outcome.kind === 'partial') expect([...outcome.failedMessageIds]).toEqual(failed);
  });
});
