import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { SyncFlows } from '../../lib/constructs/sync-flows';
import { stageConfig } from '../../lib/stage-config';
import { testStack } from './helpers';

function build() {
  const { stack } = testStack();
  const table = new TableV2(stack, 'Table', { partitionKey: { name: 'PK', type: AttributeType.STRING }, sortKey: { name: 'SK', type: AttributeType.STRING } });
  const idempotency = new TableV2(stack, 'Idem', { partitionKey: { name: 'id', type: AttributeType.STRING } });
  const invoiceTaxQueue = new Queue(stack, 'InvoiceTax', { fifo: true, queueName: 'it-invoice-tax.fifo' });
  const exemptionsQueue = new Queue(stack, 'Exemptions', { fifo: true, queueName: 'it-exemptions.fifo' });
  const flows = new SyncFlows(stack, 'Sync', {
    config: stageConfig('sandbox'),
    httpApi: new HttpApi(stack, 'Api'),
    connectorTable: table,
    idempotencyTable: idempotency,
    secretsPrefix: 'sphere-connector/sandbox/connections/',
    secretsArnPattern: Stack.of(stack).formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: 'sphere-connector/sandbox/connections/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    invoiceTaxQueue,
    exemptionsQueue,
    alarmTopic: new Topic(stack, 'Alarms'),
  });
  return { stack, flows, template: Template.fromStack(stack) };
}

const { stack, flows, template } = build();

function policyOf(fnLogicalIdPrefix: string): string {
  const policies = template.findResources('AWS::IAM::Policy');
  const entries = Object.entries(policies).filter(([id]) => id.startsWith(fnLogicalIdPrefix));
  return JSON.stringify(entries.map(([, p]) => p.Properties.PolicyDocument));
}

const idOf = (construct: { node: { defaultChild?: unknown } } & object) => stack.getLogicalId((construct as { node: { defaultChild: never } }).node.defaultChild);

describe('SyncFlows', () => {
  it('routes POST /webhooks/sequence/{connectionId} to webhook-ingest without API auth (HMAC in the function)', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /webhooks/sequence/{connectionId}', AuthorizationType: 'NONE' });
  });

  it('creates FIFO queues with FIFO DLQs, maxReceiveCount ≥ 5 and visibility 6 × the 60 s worker timeout', () => {
    for (const name of ['customer-sync', 'product-sync', 'backfill']) {
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `sphere-connector-sandbox-${name}.fifo`,
        FifoQueue: true,
        VisibilityTimeout: 360,
        RedrivePolicy: { maxReceiveCount: Match.anyValue(), deadLetterTargetArn: Match.anyValue() },
      });
      template.hasResourceProperties('AWS::SQS::Queue', { QueueName: `sphere-connector-sandbox-${name}-dlq.fifo`, FifoQueue: true });
    }
    for (const q of [flows.customerSyncQueue, flows.productSyncQueue, flows.backfillQueue]) expect(q.maxReceiveCount).toBeGreaterThanOrEqual(5);
    for (const fn of [flows.syncCustomer, flows.syncProduct, flows.backfill]) expect(fn.timeout!.toSeconds() * 6).toBeLessThanOrEqual(360);
  });

  it('consumes each queue with partial batch responses and maxConcurrency 2', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    template.allResourcesProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
      BatchSize: 10,
    });
  });

  it('runs reconcile on an hourly EventBridge schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [idOf(flows.reconcile), 'Arn'] } })],
    });
  });

  it('records reconcile invocations that fail after their retries in a failure queue, and alarms on it', () => {
    const failureQueue = idOf(flows.reconcileFailureQueue);
    // Lambda's asynchronous invocation: 2 retries, then the failure destination.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: idOf(flows.reconcile) },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [failureQueue, 'Arn'] } } },
    });
    // An event EventBridge cannot deliver (after its own 2 retries) lands in the same queue.
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [idOf(flows.reconcile), 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [failureQueue, 'Arn'] } } })],
    });
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'sphere-connector-sandbox-reconcile-failures', SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [failureQueue, 'QueueName'] } }],
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
      OKActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
  });

  it('alarms on DLQ depth and oldest message age of each queue', () => {
    // Three DLQs and the reconcile failure queue.
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible' }, 4);
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage' }, 3);
  });

  it('gives each function its queue URLs and table names', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CUSTOMER_SYNC_QUEUE_URL: Match.anyValue(), INVOICE_TAX_QUEUE_URL: Match.anyValue(), SECRETS_BACKEND: 'secrets-manager' }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CUSTOMER_SYNC_QUEUE_URL: Match.anyValue(), CUSTOMER_SYNC_DLQ_URL: Match.anyValue(), EXEMPTIONS_QUEUE_URL: Match.anyValue() }) },
    });
  });

  it('grants least privilege: webhook ingest may send to customer-sync and invoice-tax only, and never touches the idempotency table', () => {
    const webhook = policyOf('SyncWebhookIngestServiceRole');
    expect(webhook).toContain(stack.getLogicalId(flows.customerSyncQueue.queue.node.defaultChild as never));
    expect(webhook).toContain('InvoiceTax');
    expect(webhook).not.toContain(stack.getLogicalId(flows.productSyncQueue.queue.node.defaultChild as never));
    expect(webhook).not.toContain('Idem');
    expect(webhook).not.toMatch(/sqs:ReceiveMessage/);
    expect(webhook).toContain('secretsmanager:GetSecretValue');
    expect(webhook).not.toMatch(/secretsmanager:(PutSecretValue|CreateSecret|DeleteSecret)/);

    const product = policyOf('SyncSyncProductServiceRole');
    expect(product).not.toContain('Exemptions');
    expect(product).not.toContain('InvoiceTax');
    const customer = policyOf('SyncSyncCustomerServiceRole');
    expect(customer).toContain('Exemptions');
    expect(customer).not.toContain('InvoiceTax');
  });

  it('never grants a wildcard action or wildcard resource beyond X-Ray', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    for (const policy of Object.values(policies)) {
      for (const statement of policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]) {
        const actions = ([] as string[]).concat(statement.Action);
        expect(actions.some((a) => a === '*' || a.endsWith(':*'))).toBe(false);
        if (statement.Resource === '*') expect(actions.every((a) => a.startsWith('xray:'))).toBe(true);
      }
    }
  });
});
