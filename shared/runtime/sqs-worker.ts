/**
 * The one way a queue worker processes an SQS batch, for every worker:
 *  - Powertools FIFO batch processing with partial failures; a failure holds back only the rest of
 *    its own message group, so one bad resource never blocks the others;
 *  - each record parsed against its queue's schema; a record that no longer parses is moved to the
 *    DLQ at once with the reason (never retried in a loop);
 *  - messages of missing or DISCONNECTED connections are dropped with a log line;
 *  - Powertools idempotency on the SQS message id, so a message that succeeded but was redelivered
 *    is not processed twice;
 *  - errors classified by the shared taxonomy: user errors become a failure record and are not
 *    retried; retryable errors and bugs are retried by SQS and, on the last receive, also leave a
 *    failure record before the DLQ takes them, so nothing fails silently;
 *  - a retryable failure is returned to the queue soon: ChangeMessageVisibility with the jittered,
 *    growing delay of `queueRetryDelaySeconds` (its Retry-After when the upstream gave one), also
 *    for the records of its group held back behind it, instead of the queue's visibility timeout.
 *    The records stay in `batchItemFailures` either way, so receive counts and the DLQ still apply.
 */
import {
  EventType,
  SqsFifoMessageGroupShortCircuitError,
  SqsFifoPartialProcessorAsync,
  SqsFifoShortCircuitError,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { type Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand, type SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { findConnection } from '../connections/lookup';
import { type Connection, acceptsWork } from '../domain/connection';
import { classifyError } from '../domain/errors';
import { type QueueRetryPolicy, queueRetryDelaySeconds } from '../domain/retry-policy';
import { type ConnectionRepository } from '../store/connections';
import { type FailedResourceType, type FailureRepository } from '../failures/records';
import { MAX_RECEIVE_COUNT, METRICS, QUEUES, type QueueKey, type QueueMessage } from './catalogue';
import { type Dependencies } from './dependencies';
import { instrumentedHandler } from './invocation';
import { recordFailureMetrics } from './observability';

export interface WorkerDependencies {
  connections: ConnectionRepository;
  failures: FailureRepository;
  sqs: SQSClient;
  /** Where unparseable messages go at once. */
  deadLetterQueueUrl?: string;
  /**
   * The source queue, for ChangeMessageVisibility on retryable failures. Without it a failed
   * message waits out the queue's visibility timeout (logged once).
   */
  queueUrl?: string;
  /** Delays of retryable failures (default QUEUE_RETRY_BACKOFF in shared/domain/retry-policy.ts). */
  retryBackoff?: QueueRetryPolicy;
  random?: () => number;
  /** The source queue's maxReceiveCount: on this receive a failing message is about to be dead-lettered. */
  maxReceiveCount: number;
  logger: Logger;
  metrics?: Metrics;
  /** Powertools idempotency table; omitted only in unit tests of the pure flow. */
  idempotency?: { client: DynamoDBClient; tableName: string; expiresAfterSeconds?: number };
}

export interface WorkerContext {
  connection: Connection;
  record: SQSRecord;
  /** Receive count of this message (1 on first delivery). */
  receiveCount: number;
}

export interface WorkerDefinition<K extends QueueKey> {
  queue: K;
  /** What a failure of this message is about, for the failure record. */
  failureTarget: (message: QueueMessage<K>) => { resourceType: FailedResourceType; resourceId: string };
  handle: (message: QueueMessage<K>, ctx: WorkerContext) => Promise<void>;
}

export class UnparseableMessageError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnparseableMessageError';
  }
}

export function createSqsWorker<K extends QueueKey>(definition: WorkerDefinition<K>, deps: WorkerDependencies) {
  const schema = QUEUES[definition.queue].schema;

  async function moveToDeadLetterQueue(record: SQSRecord, reason: string): Promise<void> {
    if (!deps.deadLetterQueueUrl) throw new UnparseableMessageError(reason); // SQS redrive will get it there instead
    await deps.sqs.send(
      new SendMessageCommand({
        QueueUrl: deps.deadLetterQueueUrl,
        MessageBody: record.body,
        MessageGroupId: record.attributes.MessageGroupId ?? 'unparseable',
        MessageDeduplicationId: record.messageId,
        MessageAttributes: { connectorRejectReason: { DataType: 'String', StringValue: reason.slice(0, 1000) } },
      }),
    );
  }

  async function processRecord(record: SQSRecord): Promise<string> {
    let message: QueueMessage<K>;
    try {
      const parsed = schema.safeParse(JSON.parse(record.body));
      if (!parsed.success) throw new UnparseableMessageError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
      message = parsed.data as QueueMessage<K>;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      deps.logger.error('Queued message no longer parses; moved to the DLQ', { queue: definition.queue, messageId: record.messageId, reason });
      deps.metrics?.addMetric(METRICS.unparseableMessages, MetricUnit.Count, 1);
      await moveToDeadLetterQueue(record, reason);
      return 'dead-lettered';
    }

    const target = definition.failureTarget(message);
    const logKeys = { connectionId: message.connectionId, resourceType: target.resourceType, resourceId: target.resourceId, messageId: record.messageId };
    deps.logger.appendKeys(logKeys);
    try {
      const connection = await findConnection(deps, message.connectionId);
      if (!connection || !acceptsWork(connection)) {
        deps.logger.info('Dropping message for a missing or disconnected connection', { status: connection?.status ?? 'MISSING' });
        return 'dropped';
      }
      const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
      try {
        await definition.handle(message, { connection, record, receiveCount });
        await deps.failures.resolve(message.connectionId, target.resourceType, target.resourceId);
        // Sync lag: from the moment the change was queued to the moment it is done.
        const sentAt = Number(record.attributes.SentTimestamp);
        if (Number.isFinite(sentAt) && sentAt > 0) {
          deps.metrics?.singleMetric().addDimension('queue', definition.queue).addMetric(METRICS.syncLag, MetricUnit.Milliseconds, Math.max(0, Date.now() - sentAt));
        }
        return 'processed';
      } catch (error) {
        const classified = classifyError(error);
        const lastAttempt = receiveCount >= deps.maxReceiveCount;
        if (classified.kind === 'user' || lastAttempt) {
          await deps.failures.record({
            connectionId: message.connectionId,
            resourceType: target.resourceType,
            resourceId: target.resourceId,
            error: classified,
            retry: { queue: definition.queue, body: { ...(message as Record<string, unknown>), trigger: 'retry' } },
          });
          if (deps.metrics) recordFailureMetrics(deps.metrics, message.connectionId, classified.code);
        }
        if (classified.kind === 'user') {
          deps.logger.warn('Not retrying: the merchant must fix this first', { error: classified });
          return 'failed-user';
        }
        deps.logger.error(lastAttempt ? 'Giving up: last receive before the DLQ' : 'Will retry', { error: classified, receiveCount });
        throw error;
      }
    } finally {
      deps.logger.removeKeys(Object.keys(logKeys));
    }
  }

  const idempotencyConfig = new IdempotencyConfig({ eventKeyJmesPath: 'messageId', expiresAfterSeconds: deps.idempotency?.expiresAfterSeconds ?? 3600 });
  const recordHandler = deps.idempotency
    ? makeIdempotent(processRecord, {
        persistenceStore: new DynamoDBPersistenceLayer({ tableName: deps.idempotency.tableName, awsSdkV3Client: deps.idempotency.client }),
        config: idempotencyConfig,
        keyPrefix: `worker#${definition.queue}`,
      })
    : processRecord;

  // The queue's own visibility timeout, read once: a retry delay never exceeds it (the queue would
  // retry then anyway), so a short test queue keeps its short retries.
  let visibilityTimeout: Promise<number | undefined> | undefined;
  function queueVisibilityTimeout(queueUrl: string): Promise<number | undefined> {
    visibilityTimeout ??= deps.sqs
      .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['VisibilityTimeout'] }))
      .then(({ Attributes }) => {
        const seconds = Number(Attributes?.VisibilityTimeout);
        return Number.isInteger(seconds) && seconds > 0 ? seconds : undefined;
      })
      .catch((error: unknown) => {
        visibilityTimeout = undefined; // ask again next time
        deps.logger.warn('Could not read the queue visibility timeout; retry delays are not capped by it', { queue: definition.queue, error: errorSummary(error) });
        return undefined;
      });
    return visibilityTimeout;
  }

  let warnedNoQueueUrl = false;
  async function returnWithBackoff(failed: SQSRecord[], errors: Error[]): Promise<void> {
    if (failed.length === 0) return;
    const queueUrl = deps.queueUrl;
    if (!queueUrl) {
      if (!warnedNoQueueUrl) deps.logger.warn('No source queue URL: failed messages wait out the visibility timeout', { queue: definition.queue });
      warnedNoQueueUrl = true;
      return;
    }
    const limitSeconds = await queueVisibilityTimeout(queueUrl);
    const delays = retryDelays(failed, errors, (receiveCount, retryAfterMs) =>
      queueRetryDelaySeconds({ receiveCount, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), ...(limitSeconds !== undefined ? { limitSeconds } : {}) }, deps.retryBackoff, deps.random),
    );
    const results = await Promise.allSettled(
      delays.map(({ record, delaySeconds }) =>
        deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: delaySeconds })),
      ),
    );
    results.forEach((result, i) => {
      const { record, delaySeconds } = delays[i]!;
      if (result.status === 'fulfilled') {
        deps.logger.info('Message returned to the queue for a retry', { messageId: record.messageId, retryInSeconds: delaySeconds });
      } else {
        // Still in batchItemFailures: the queue retries it after its visibility timeout instead.
        deps.logger.warn('Could not shorten the retry delay; the message waits out the visibility timeout', { messageId: record.messageId, error: errorSummary(result.reason) });
        deps.metrics?.addMetric(METRICS.retryDelayNotSet, MetricUnit.Count, 1);
      }
    });
  }

  const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    idempotencyConfig.registerLambdaContext(context);
    const processor = new SqsFifoPartialProcessorAsync();
    const response = await processPartialResponse(event, recordHandler, processor, { context, skipGroupOnError: true, throwOnFullBatchFailure: false });
    await returnWithBackoff(processor.failureMessages as SQSRecord[], processor.errors);
    return response;
  };
  // Lambda context (request id, cold start) on every log line, an X-Ray segment per batch, and the
  // audit log and metrics flushed before the batch answer (workers have no logMetrics middleware).
  return instrumentedHandler(handler, { logger: deps.logger, ...(deps.metrics ? { metrics: deps.metrics } : {}) });
}

/**
 * Which failed records to return early, and when: a retryable failure after its own delay, and the
 * records of its message group held back behind it (FIFO short circuit) with the same delay, so the
 * group resumes in order at once instead of after the visibility timeout. Other failures (bugs, and
 * records held back behind one) are left to the visibility timeout.
 */
function retryDelays(
  failed: SQSRecord[],
  errors: Error[],
  delayFor: (receiveCount: number, retryAfterMs: number | undefined) => number,
): { record: SQSRecord; delaySeconds: number }[] {
  const groupDelays = new Map<string, number | undefined>();
  const out: { record: SQSRecord; delaySeconds: number }[] = [];
  failed.forEach((record, i) => {
    const error = errors[i];
    const group = record.attributes.MessageGroupId ?? record.messageId;
    let delaySeconds: number | undefined;
    if (error instanceof SqsFifoMessageGroupShortCircuitError || error instanceof SqsFifoShortCircuitError) {
      delaySeconds = groupDelays.get(group);
    } else {
      const classified = classifyError(error);
      delaySeconds = classified.retryable ? delayFor(Number(record.attributes.ApproximateReceiveCount ?? '1'), classified.retryAfterMs) : undefined;
      if (!groupDelays.has(group)) groupDelays.set(group, delaySeconds);
    }
    if (delaySeconds !== undefined) out.push({ record, delaySeconds });
  });
  return out;
}

function errorSummary(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Worker dependencies from the process dependencies: the source queue URL comes from its
 * `<QUEUE>_QUEUE_URL` (every worker function has it), the DLQ URL from `<QUEUE>_DLQ_URL`.
 */
export function workerDependencies(deps: Dependencies, queue: QueueKey, env: NodeJS.ProcessEnv = process.env): WorkerDependencies {
  const deadLetterQueueUrl = env[QUEUES[queue].dlqEnvVar];
  const queueUrl = env[QUEUES[queue].envVar];
  return {
    connections: deps.connections,
    failures: deps.failures,
    sqs: deps.sqs,
    ...(deadLetterQueueUrl ? { deadLetterQueueUrl } : {}),
    ...(queueUrl ? { queueUrl } : {}),
    maxReceiveCount: MAX_RECEIVE_COUNT,
    logger: deps.logger,
    metrics: deps.metrics,
    idempotency: { client: deps.dynamo, tableName: deps.config.idempotencyTableName },
  };
}

export { EventType };
