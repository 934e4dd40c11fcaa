import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { ConnectorFunction } from '../../lib/constructs/connector-function';
import { FifoQueueWithDlq } from '../../lib/constructs/fifo-queue-with-dlq';
import { stageConfig } from '../../lib/stage-config';
import { FIXTURE_HANDLER, testStack } from './helpers';

const QUEUE = 'AWS::SQS::Queue';

function consumer(stack: Stack, timeout?: Duration): ConnectorFunction {
  return new ConnectorFunction(stack, 'Worker', {
    name: 'echo',
    entry: FIXTURE_HANDLER,
    config: stageConfig('sandbox'),
    timeout,
  });
}

describe('FifoQueueWithDlq', () => {
  function build(props: { maxReceiveCount?: number; timeout?: Duration; batchSize?: number; maxConcurrency?: number } = {}) {
    const { stack } = testStack();
    const fn = consumer(stack, props.timeout);
    const q = new FifoQueueWithDlq(stack, 'Work', {
      queueName: 'sc-test-work',
      consumerTimeout: fn.timeout,
      maxReceiveCount: props.maxReceiveCount,
    });
    q.addConsumer(fn, { batchSize: props.batchSize, maxConcurrency: props.maxConcurrency });
    return { stack, q, template: Template.fromStack(stack) };
  }

  it('creates a FIFO queue and a FIFO DLQ, both SSE (SQS-managed), no content-based dedup', () => {
    const { template } = build();
    template.resourceCountIs(QUEUE, 2);
    template.allResourcesProperties(QUEUE, {
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      ContentBasedDeduplication: false,
    });
    template.hasResourceProperties(QUEUE, { QueueName: 'sc-test-work.fifo' });
    template.hasResourceProperties(QUEUE, { QueueName: 'sc-test-work-dlq.fifo', MessageRetentionPeriod: 14 * 24 * 3600 });
  });

  it('redrives to the DLQ after maxReceiveCount ≥ 5 and sizes visibility at 6 × the consumer timeout', () => {
    const { template } = build({ timeout: Duration.seconds(45), maxReceiveCount: 8 });
    template.hasResourceProperties(QUEUE, {
      QueueName: 'sc-test-work.fifo',
      VisibilityTimeout: 270,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkDeadLetterQueue'), 'Arn'] },
        maxReceiveCount: 8,
      },
    });
  });

  it('defaults: maxReceiveCount 5, visibility 180 s for the 30 s default timeout', () => {
    const { template } = build();
    template.hasResourceProperties(QUEUE, {
      QueueName: 'sc-test-work.fifo',
      VisibilityTimeout: 180,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
  });

  it('the DLQ accepts redrive only from its source queue', () => {
    const { template } = build();
    template.hasResourceProperties(QUEUE, {
      QueueName: 'sc-test-work-dlq.fifo',
      RedriveAllowPolicy: {
        redrivePermission: 'byQueue',
        sourceQueueArns: [
          {
            'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':sc-test-work\\.fifo$')])],
          },
        ],
      },
    });
  });

  it('both queues deny non-TLS access', () => {
    const { template } = build();
    template.resourceCountIs('AWS::SQS::QueuePolicy', 2);
    template.allResourcesProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('attaches the consumer with partial batch responses and a maximum concurrency', () => {
    const { template } = build({ batchSize: 5, maxConcurrency: 3 });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WorkQueue'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 5,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
  });

  it('consumer defaults: batch 10, maximum concurrency 2', () => {
    build().template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('rejects maxReceiveCount below 5', () => {
    const { stack } = testStack();
    expect(() => new FifoQueueWithDlq(stack, 'Q', { queueName: 'q', maxReceiveCount: 4 })).toThrow(/maxReceiveCount/);
  });

  it('rejects a consumer whose timeout exceeds what the queue was sized for', () => {
    const { stack } = testStack();
    const q = new FifoQueueWithDlq(stack, 'Q', { queueName: 'q', consumerTimeout: Duration.seconds(30) });
    expect(() => q.addConsumer(consumer(stack, Duration.seconds(60)))).toThrow(/consumerTimeout/);
  });

  it('rejects maxConcurrency below 2 and FIFO batch sizes above 10', () => {
    const { stack } = testStack();
    const q = new FifoQueueWithDlq(stack, 'Q', { queueName: 'q' });
    const fn = consumer(stack);
    expect(() => q.addConsumer(fn, { maxConcurrency: 1 })).toThrow(/maxConcurrency/);
    expect(() => q.addConsumer(fn, { batchSize: 11 })).toThrow(/batchSize/);
  });

  it('rejects queue names that cannot become valid FIFO names', () => {
    const { stack } = testStack();
    expect(() => new FifoQueueWithDlq(stack, 'Q', { queueName: 'bad.name' })).toThrow(/queueName/);
    expect(() => new FifoQueueWithDlq(stack, 'Q2', { queueName: 'x'.repeat(72) })).toThrow(/queueName/);
  });

  it('adds DLQ-depth and oldest-message alarms routed to a topic', () => {
    const { stack } = testStack();
    const q = new FifoQueueWithDlq(stack, 'Q', { queueName: 'q' });
    const topic = new Topic(stack, 'Alarms');
    q.addAlarms({ topic, maxMessageAge: Duration.minutes(10) });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 600,
    });
  });
});
