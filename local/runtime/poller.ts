/**
 * One SQS poller per queue binding, behaving like the Lambda event source mapping with
 * `ReportBatchItemFailures` and `ScalingConfig.MaximumConcurrency`:
 *  - long-polls ReceiveMessage (all system and message attributes) and builds the real SQS event;
 *  - invokes the handler with at most `maxConcurrency` batches in flight;
 *  - success → deletes every record not listed in `batchItemFailures`; listed ones stay in the
 *    queue, untouched, and reappear after the visibility timeout, or sooner when the worker set
 *    their visibility (ChangeMessageVisibility, which fauxqs honours as SQS does);
 *  - the handler throws, times out, or returns an invalid response (not an object with an array
 *    `batchItemFailures`, or an `itemIdentifier` that is empty or not in the batch) → the whole
 *    batch is left to retry;
 *  - after `maxReceiveCount` receives SQS itself (fauxqs honours RedrivePolicy) moves the message
 *    to the DLQ.
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { createHash } from 'node:crypto';
import { invokeHandler, lazyHandler } from './lambda';
import type { QueueBinding } from './types';

export interface PollerOptions {
  binding: QueueBinding;
  client: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  /** Long-poll wait, seconds (default 1, so stop() is quick). */
  waitTimeSeconds?: number;
  log?: (line: string) => void;
}

export interface PollerStats {
  batches: number;
  received: number;
  deleted: number;
  failedRecords: number;
  failedBatches: number;
}

export interface Poller {
  readonly binding: QueueBinding;
  readonly stats: PollerStats;
  readonly running: boolean;
  /** In-flight invocations right now. */
  inFlight(): number;
  /** Resolves once no invocation is in flight. */
  idle(): Promise<void>;
  /** Resolves once the queue has no visible, in-flight or delayed messages and nothing is running. */
  drain(options?: { timeoutMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** The batch outcome the event source mapping derives from a handler result. */
export type BatchOutcome = { kind: 'partial'; failedMessageIds: Set<string> } | { kind: 'retry-all'; reason: string };

export function interpretBatchResponse(result: unknown, messageIds: string[]): BatchOutcome {
  // A handler that returns nothing (or null) reports success for every record.
  if (result === undefined || result === null) return { kind: 'partial', failedMessageIds: new Set() };
  if (typeof result !== 'object') return { kind: 'retry-all', reason: 'handler returned a non-object response' };
  const failures = (result as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'partial', failedMessageIds: new Set() };
  if (!Array.isArray(failures)) return { kind: 'retry-all', reason: 'batchItemFailures is not an array' };
  const known = new Set(messageIds);
  const failed = new Set<string>();
  for (const item of failures as unknown[]) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id.length === 0 || !known.has(id)) {
      return { kind: 'retry-all', reason: 'batchItemFailures has an empty or unknown itemIdentifier' };
    }
    failed.add(id);
  }
  return { kind: 'partial', failedMessageIds: failed };
}

function md5(text: string): string {
  return createHash('md5').update(text, 'utf8').digest('hex');
}

/** An SQS message as the Lambda event source mapping puts it in `Records[]`. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const a = message.Attributes ?? {};
  const attributes: SQSRecord['attributes'] = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? '000000000000',
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    ...(a.MessageGroupId !== undefined ? { MessageGroupId: a.MessageGroupId } : {}),
    ...(a.MessageDeduplicationId !== undefined ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
    ...(a.SequenceNumber !== undefined ? { SequenceNumber: a.SequenceNumber } : {}),
    ...(a.AWSTraceHeader !== undefined ? { AWSTraceHeader: a.AWSTraceHeader } : {}),
  };
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  const body = message.Body ?? '';
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body,
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? md5(body),
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function startPoller(options: PollerOptions): Poller {
  const { binding, client, queueUrl, queueArn, region } = options;
  const batchSize = Math.min(Math.max(binding.batchSize ?? 10, 1), 10);
  const maxConcurrency = Math.max(binding.maxConcurrency ?? 2, 1);
  const waitTimeSeconds = options.waitTimeSeconds ?? 1;
  const log = options.log ?? ((line: string) => console.log(line));
  const getHandler = lazyHandler(binding.functionName, binding.load);
  const stats: PollerStats = { batches: 0, received: 0, deleted: 0, failedRecords: 0, failedBatches: 0 };
  const inFlight = new Set<Promise<void>>();
  const abort = new AbortController();
  let running = true;
  let slotFreed: (() => void) | undefined;

  async function deleteRecords(records: SQSRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 10) {
      const chunk = records.slice(i, i + 10);
      const result = await client.send(
        new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })) }),
      );
      stats.deleted += result.Successful?.length ?? 0;
      if (result.Failed && result.Failed.length > 0) log(`  [${binding.functionName}] could not delete ${result.Failed.length} message(s): ${result.Failed.map((f) => f.Code).join(', ')}`);
    }
  }

  async function runBatch(messages: Message[]): Promise<void> {
    const records = messages.map((m) => toSqsRecord(m, queueArn, region));
    const event: SQSEvent = { Records: records };
    stats.batches += 1;
    stats.received += records.length;
    const started = Date.now();
    let outcome: BatchOutcome;
    try {
      const handler = await getHandler();
      const result = await invokeHandler(handler, event, {
        functionName: binding.functionName,
        timeoutSeconds: binding.timeoutSeconds ?? Math.max(binding.visibilityTimeoutSeconds, 1),
        ...(binding.memoryMb ? { memoryMb: binding.memoryMb } : {}),
        region,
      });
      outcome = interpretBatchResponse(result, records.map((r) => r.messageId));
    } catch (error) {
      const name = error instanceof Error ? error.name : typeof error;
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      outcome = { kind: 'retry-all', reason: `handler failed: ${name}: ${message}` };
    }
    const ms = Date.now() - started;
    if (outcome.kind === 'retry-all') {
      stats.failedBatches += 1;
      stats.failedRecords += records.length;
      log(`SQS ${binding.queueName} → ${binding.functionName} ${records.length} record(s) all left to retry (${outcome.reason}) ${ms}ms`);
      return;
    }
    const succeeded = records.filter((r) => !outcome.failedMessageIds.has(r.messageId));
    stats.failedRecords += outcome.failedMessageIds.size;
    await deleteRecords(succeeded);
    log(`SQS ${binding.queueName} → ${binding.functionName} ${succeeded.length} ok, ${outcome.failedMessageIds.size} failed ${ms}ms`);
  }

  async function loop(): Promise<void> {
    while (running) {
      if (inFlight.size >= maxConcurrency) {
        await new Promise<void>((resolve) => {
          slotFreed = resolve;
        });
        continue;
      }
      let messages: Message[] = [];
      try {
        const result = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: waitTimeSeconds,
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        messages = result.Messages ?? [];
      } catch (error) {
        if (!running) break;
        log(`  [${binding.functionName}] ReceiveMessage failed: ${error instanceof Error ? error.message : String(error)}`);
        await sleep(500);
        continue;
      }
      if (messages.length === 0 || !running) continue; // (a message received during stop reappears after its visibility timeout)
      const task: Promise<void> = runBatch(messages)
        .catch((error: unknown) => log(`  [${binding.functionName}] batch bookkeeping failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => {
          inFlight.delete(task);
          const wake = slotFreed;
          slotFreed = undefined;
          wake?.();
        });
      inFlight.add(task);
    }
  }

  const loopDone = loop();

  async function idle(): Promise<void> {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  }

  async function queueEmpty(): Promise<boolean> {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    return ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'].every((k) => Number((Attributes as Record<string, string> | undefined)?.[k] ?? '0') === 0);
  }

  return {
    binding,
    stats,
    get running() {
      return running;
    },
    inFlight: () => inFlight.size,
    idle,
    async drain({ timeoutMs = 20_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (inFlight.size === 0 && (await queueEmpty()) && inFlight.size === 0) return;
        if (Date.now() > deadline) throw new Error(`Queue ${binding.queueName} did not drain within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    async stop() {
      if (!running) return loopDone;
      running = false;
      abort.abort();
      const wake = slotFreed;
      slotFreed = undefined;
      wake?.();
      await loopDone;
      await idle();
    },
  };
}
