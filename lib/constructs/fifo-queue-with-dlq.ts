import { Duration, Names, Stack, Token } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { EventSourceMapping, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MAX_RECEIVE_COUNT, QUEUES, type QueueKey, VISIBILITY_TIMEOUT_FACTOR } from '../../shared/runtime/catalogue';
import { DEFAULT_TIMEOUT } from './connector-function';

/** AWS guidance: at least 5 receives before dead-lettering, so throttled batches don't lose good messages. */
export const MIN_MAX_RECEIVE_COUNT = 5;
/**
 * What a consumer's role needs on its queue: the event source mapping receives, deletes and reads
 * the queue's attributes (Lambda docs, "Execution role permissions" for SQS); the worker may change a
 * failed message's visibility. Not sqs:GetQueueUrl, which CDK's SqsEventSource also grants and nothing calls.
 */
export const CONSUMER_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'] as const;

export interface FifoQueueWithDlqProps {
  /**
   * Physical base name, e.g. `sphere-connector-sandbox-invoice-tax`. The queue becomes `<name>.fifo` and the
   * DLQ `<name>-dlq.fifo`. An explicit name lets the DLQ's redrive-allow policy name its source queue
   * without a circular reference between the two queues. At most 71 characters (the DLQ name `<name>-dlq.fifo` must fit in 80).
   */
  readonly queueName: string;
  /** Timeout of the function that will consume the queue; visibility timeout = 6 × this. Default 30 s. */
  readonly consumerTimeout?: Duration;
  /** Receives before a message moves to the DLQ; at least 5. Default MAX_RECEIVE_COUNT (the catalogue's). */
  readonly maxReceiveCount?: number;
  /** Retention of the source queue. Default 4 days (the SQS default). */
  readonly retentionPeriod?: Duration;
}

/** A catalogue queue (QUEUES) under the stage's resource prefix, sized for its consumer's timeout. */
export function catalogueQueueProps(resourcePrefix: string, queue: QueueKey): FifoQueueWithDlqProps {
  return { queueName: `${resourcePrefix}-${QUEUES[queue].name}`, consumerTimeout: Duration.seconds(QUEUES[queue].timeoutSeconds) };
}

export interface FifoConsumerOptions {
  /** Messages per invocation (FIFO: 1–10). Default 10. */
  readonly batchSize?: number;
  /** Event source mapping maximum concurrency (2–1000): the cap on parallel calls downstream. Default 2. */
  readonly maxConcurrency?: number;
}

export interface FifoAlarmOptions {
  /** Topic that receives alarm and OK notifications. */
  readonly topic: ITopic;
  /** Alarm when the oldest message in the source queue is older than this. Default 15 minutes. */
  readonly maxMessageAge?: Duration;
}

/**
 * A FIFO work queue and its FIFO dead-letter queue, with the connector's defaults:
 * SSL enforced, SQS-managed encryption, DLQ retention 14 days, `maxReceiveCount` ≥ 5,
 * visibility timeout 6 × the consumer timeout, content-based deduplication off (producers set the
 * deduplication id), and a DLQ redrive-allow policy that only accepts this source queue.
 */
export class FifoQueueWithDlq extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly consumerTimeout: Duration;
  public readonly maxReceiveCount: number;

  constructor(scope: Construct, id: string, props: FifoQueueWithDlqProps) {
    super(scope, id);

    const maxReceiveCount = props.maxReceiveCount ?? MAX_RECEIVE_COUNT;
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < MIN_MAX_RECEIVE_COUNT) {
      throw new Error(`maxReceiveCount must be an integer ≥ ${MIN_MAX_RECEIVE_COUNT}, got ${maxReceiveCount}`);
    }
    if (!Token.isUnresolved(props.queueName) && !/^[A-Za-z0-9_-]{1,71}$/.test(props.queueName)) {
      throw new Error(
        `queueName must be 1–71 characters of letters, digits, '-' or '_' (without .fifo), got ${JSON.stringify(props.queueName)}`,
      );
    }
    this.maxReceiveCount = maxReceiveCount;
    this.consumerTimeout = props.consumerTimeout ?? DEFAULT_TIMEOUT;

    const queueName = `${props.queueName}.fifo`;
    // The source queue's ARN, built from its name: referencing `queue.queueArn` from the DLQ would make
    // the two queues depend on each other (queue → DLQ via RedrivePolicy, DLQ → queue via RedriveAllowPolicy).
    const sourceQueueArn = Stack.of(this).formatArn({ service: 'sqs', resource: queueName });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: `${props.queueName}-dlq.fifo`,
      fifo: true,
      contentBasedDeduplication: false,
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
      redriveAllowPolicy: {
        redrivePermission: RedrivePermission.BY_QUEUE,
        sourceQueues: [Queue.fromQueueArn(this, 'SourceQueueRef', sourceQueueArn)],
      },
    });

    this.queue = new Queue(this, 'Queue', {
      queueName,
      fifo: true,
      contentBasedDeduplication: false,
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
      visibilityTimeout: Duration.seconds(this.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      retentionPeriod: props.retentionPeriod,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
  }

  /**
   * Attach a consumer through an SQS event source mapping with partial batch responses
   * (`ReportBatchItemFailures`) and a maximum concurrency. The function's timeout must not exceed the
   * `consumerTimeout` the queue was sized for. Grants the function CONSUMER_ACTIONS on the queue.
   */
  public addConsumer(fn: LambdaFunction, options: FifoConsumerOptions = {}): EventSourceMapping {
    const batchSize = options.batchSize ?? 10;
    const maxConcurrency = options.maxConcurrency ?? 2;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10) {
      throw new Error(`batchSize for a FIFO queue must be 1–10, got ${batchSize}`);
    }
    if (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000) {
      throw new Error(`maxConcurrency must be 2–1000, got ${maxConcurrency}`);
    }
    const fnTimeout = fn.timeout ?? Duration.seconds(3);
    if (fnTimeout.toSeconds() > this.consumerTimeout.toSeconds()) {
      throw new Error(
        `Consumer ${fn.node.path} has timeout ${fnTimeout.toSeconds()} s but the queue was sized for ` +
          `${this.consumerTimeout.toSeconds()} s; pass consumerTimeout ≥ the function timeout`,
      );
    }
    // What SqsEventSource does, with the same construct id (so the same logical id), minus its
    // grantConsumeMessages: CONSUMER_ACTIONS instead.
    Grant.addToPrincipal({ grantee: fn, actions: [...CONSUMER_ACTIONS], resourceArns: [this.queue.queueArn] });
    return fn.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(this.queue.node)}`, {
      eventSourceArn: this.queue.queueArn,
      batchSize,
      maxConcurrency,
      reportBatchItemFailures: true,
    });
  }

  /**
   * Alarms: any message in the DLQ, and the oldest message in the source queue older than `maxMessageAge`.
   */
  public addAlarms(options: FifoAlarmOptions): { dlqDepth: Alarm; oldestMessageAge: Alarm } {
    const action = new SnsAction(options.topic);
    const maxAge = options.maxMessageAge ?? Duration.minutes(15);

    const dlqDepth = new Alarm(this, 'DlqDepthAlarm', {
      alarmDescription: `Messages in ${this.deadLetterQueue.node.path}: processing failed ${this.maxReceiveCount} times`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        statistic: 'Maximum',
        period: Duration.minutes(1),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const oldestMessageAge = new Alarm(this, 'OldestMessageAgeAlarm', {
      alarmDescription: `Oldest message in ${this.queue.node.path} older than ${maxAge.toHumanString()}`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: maxAge.toSeconds(),
      evaluationPeriods: 5,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [dlqDepth, oldestMessageAge]) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
    return { dlqDepth, oldestMessageAge };
  }
}
