import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConnectorFunction } from '../../lib/constructs/connector-function';
import { FifoQueueWithDlq } from '../../lib/constructs/fifo-queue-with-dlq';
import { ConnectorOperations, addOperationsRoutes } from '../../lib/constructs/operations';
import { METRICS_NAMESPACE, SERVICE_NAME, stageConfig } from '../../lib/stage-config';
import { ADMIN_ROUTES } from '../../shared/runtime/catalogue';
import { FIXTURE_HANDLER, NO_BUNDLING, testAdminApi, testStackIn } from './helpers';

const ALARM = 'AWS::CloudWatch::Alarm';

function build(options: { nag?: boolean; apiServerErrorAlarm?: boolean; asArrays?: boolean } = {}) {
  const app = new App({ context: NO_BUNDLING });
  const stack = new Stack(app, 'OperationsTest');
  const config = stageConfig('production');
  const fn = (id: string) => new ConnectorFunction(stack, id, { name: `echo-${id.toLowerCase()}`, entry: FIXTURE_HANDLER, config });
  const ingest = fn('WebhookIngest');
  const tax = fn('CalculateInvoiceTax');
  const invoiceTax = new FifoQueueWithDlq(stack, 'InvoiceTax', { queueName: 'ops-test-invoice-tax', consumerTimeout: tax.timeout });
  invoiceTax.addConsumer(tax);
  const customerSync = new FifoQueueWithDlq(stack, 'CustomerSync', { queueName: 'ops-test-customer-sync' });
  const httpApi = new HttpApi(stack, 'Api', { createDefaultStage: false });
  const alarmTopic = new Topic(stack, 'Alarms', { enforceSSL: true });
  const operations = new ConnectorOperations(stack, 'Operations', {
    functions: options.asArrays ? [ingest, tax] : { 'webhook-ingest': ingest, 'calculate-invoice-tax': tax },
    queues: options.asArrays ? [invoiceTax, customerSync] : { invoiceTax, customerSync },
    httpApi,
    alarmTopic,
    metricsNamespace: METRICS_NAMESPACE,
    dashboardName: 'sphere-connector-test',
    maxMessageAge: Duration.minutes(10),
    ...(options.apiServerErrorAlarm !== undefined ? { apiServerErrorAlarm: options.apiServerErrorAlarm } : {}),
  });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, operations, template: Template.fromStack(stack) };
}

function alarmsOf(template: Template): Array<Record<string, unknown>> {
  return Object.values(template.findResources(ALARM)).map((r) => (r as { Properties: Record<string, unknown> }).Properties);
}

describe('ConnectorOperations', () => {
  let defaultBuild: ReturnType<typeof build> | undefined;
  const built = () => (defaultBuild ??= build());
  it('alarms on Errors and Throttles of every function', () => {
    const { template } = built();
    for (const metricName of ['Errors', 'Throttles']) {
      const alarms = alarmsOf(template).filter((a) => a.MetricName === metricName && a.Namespace === 'AWS/Lambda');
      expect(alarms).toHaveLength(2);
      for (const alarm of alarms) {
        expect(alarm).toMatchObject({ Statistic: 'Sum', Period: 300, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
      }
    }
    template.hasResourceProperties(ALARM, {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^CalculateInvoiceTax') } }],
      AlarmDescription: Match.stringLikeRegexp('calculate-invoice-tax'),
    });
  });

  it('alarms on DLQ depth ≥ 1 and the oldest message age of every queue', () => {
    const { template } = built();
    const dlq = alarmsOf(template).filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(dlq).toHaveLength(2);
    for (const alarm of dlq) expect(alarm).toMatchObject({ Threshold: 1, Statistic: 'Maximum', Period: 60 });
    const age = alarmsOf(template).filter((a) => a.MetricName === 'ApproximateAgeOfOldestMessage');
    expect(age).toHaveLength(2);
    for (const alarm of age) expect(alarm).toMatchObject({ Threshold: 600 });
  });

  it('alarms on the custom Failures metric as Powertools emits it (namespace + service dimension)', () => {
    const { template } = built();
    template.hasResourceProperties(ALARM, {
      Namespace: METRICS_NAMESPACE,
      MetricName: 'Failures',
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on API 5xx unless the stack already does', () => {
    built().template.hasResourceProperties(ALARM, { Namespace: 'AWS/ApiGateway', MetricName: '5xx', Threshold: 5 });
    expect(alarmsOf(build({ apiServerErrorAlarm: false }).template).filter((a) => a.MetricName === '5xx')).toHaveLength(0);
  });

  it('routes every alarm and its return to OK to the one topic', () => {
    const { template, operations } = built();
    const alarms = alarmsOf(template);
    // 2 functions × 2 + 2 queues × 2 + failures + API 5xx
    expect(alarms).toHaveLength(10);
    expect(operations.alarms).toHaveLength(10);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([expect.objectContaining({ Ref: expect.stringMatching(/^Alarms/) })]);
      expect(alarm.OKActions).toEqual([expect.objectContaining({ Ref: expect.stringMatching(/^Alarms/) })]);
    }
  });

  it('reuses queue alarms a flow construct already added instead of duplicating them', () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'ReuseTest');
    const topic = new Topic(stack, 'Alarms', { enforceSSL: true });
    const q = new FifoQueueWithDlq(stack, 'Work', { queueName: 'ops-reuse-work' });
    const existing = q.addAlarms({ topic });
    const operations = new ConnectorOperations(stack, 'Operations', { functions: {}, queues: { work: q }, httpApi: new HttpApi(stack, 'Api', { createDefaultStage: false }), alarmTopic: topic });
    expect(operations.queueAlarms.work).toEqual(existing);
    expect(alarmsOf(Template.fromStack(stack)).filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toHaveLength(1);
  });

  it('names functions and queues from an array by their construct ids', () => {
    const { operations } = build({ asArrays: true });
    expect(Object.keys(operations.functionAlarms)).toEqual(['WebhookIngest', 'CalculateInvoiceTax']);
    expect(Object.keys(operations.queueAlarms)).toEqual(['InvoiceTax', 'CustomerSync']);
  });

  it('builds a dashboard with the API, every function, every queue, the custom metrics and failures by connection', () => {
    const { template, stack } = built();
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'sphere-connector-test' });
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0] as { Properties: { DashboardBody: unknown } };
    const body = JSON.stringify(stack.resolve(dashboard.Properties.DashboardBody));
    for (const title of ['API requests', 'API 4xx / 5xx', 'API latency (ms)', 'λ webhook-ingest', 'λ calculate-invoice-tax', 'Queue invoiceTax', 'Queue customerSync', 'Failures recorded', 'Failures by connection', 'Alarms']) {
      expect(body).toContain(title);
    }
    for (const metric of ['Invocations', 'Duration', 'ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible', 'WebhookAccepted', 'UnparseableMessages', '4xx', 'Latency']) {
      expect(body).toContain(metric);
    }
    expect(body).toContain(`SEARCH('{${METRICS_NAMESPACE},connectionId,service} MetricName=\\\\\\"Failures\\\\\\"', 'Sum', 300)`);
  });

  it('is cdk-nag clean (AwsSolutions)', () => {
    const { app } = build({ nag: true });
    expect(() => app.synth()).not.toThrow();
  });
});

describe('addOperationsRoutes', () => {
  function buildWithAdminApi() {
    const { app, stack } = testStackIn('OperationsRoutesTest');
    const { api: adminApi, httpApi, backfill } = testAdminApi(stack, { backfillQueueName: 'ops-test-backfill' });
    const invoiceTax = new FifoQueueWithDlq(stack, 'InvoiceTax', { queueName: 'ops-test-invoice-tax' });
    addOperationsRoutes(adminApi, httpApi, { backfill, invoiceTax });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    return { app, stack, template: Template.fromStack(stack) };
  }

  it('adds the IAM-authorised routes, the queue URLs, the grants and the admin policy, nag-clean', () => {
    const { app, template } = buildWithAdminApi();
    for (const route of ADMIN_ROUTES.operations) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `${route.method} ${route.path}`, AuthorizationType: 'AWS_IAM' });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          INVOICE_TAX_QUEUE_URL: { Ref: Match.stringLikeRegexp('^InvoiceTaxQueue') },
          INVOICE_TAX_DLQ_URL: { Ref: Match.stringLikeRegexp('^InvoiceTaxDeadLetterQueue') },
          BACKFILL_DLQ_URL: { Ref: Match.stringLikeRegexp('^BackfillDeadLetterQueue') },
        }),
      },
    });
    const statement = (action: string[] | string, resource: string) =>
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Action: action, Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp(resource), 'Arn'] } })]),
        },
      });
    statement(['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'], '^InvoiceTaxDeadLetterQueue');
    statement('sqs:SendMessage', '^InvoiceTaxQueue');
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'InvokeOperationsRoutes', Action: 'execute-api:Invoke' })]) },
    });
    expect(() => app.synth()).not.toThrow();
  });
});
