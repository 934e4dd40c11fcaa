import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConnectorFunction } from '../../lib/constructs/connector-function';
import { INVOICE_TAX_TIMEOUT, InvoiceTax } from '../../lib/constructs/invoice-tax';
import { stageConfig } from '../../lib/stage-config';
import { FIXTURE_HANDLER, SECRETS_PREFIX, connectorApp, policyStatements, sandboxFunctionEnv, testStackIn, testTables } from './helpers';

const INVOKER = 'arn:aws:iam::123456789012:role/billing-workflow';

function build(options: { nag?: boolean } = {}) {
  const { app, stack } = testStackIn('InvoiceTaxTest');
  const { table, idempotency } = testTables(stack);
  const topic = new Topic(stack, 'Alarms', { enforceSSL: true });
  const flow = new InvoiceTax(stack, 'InvoiceTax', {
    config: stageConfig('sandbox'),
    connectorTable: table,
    idempotencyTable: idempotency,
    secretsPrefix: SECRETS_PREFIX,
    directInvokerRoleArns: [INVOKER],
    alarmTopic: topic,
  });
  const adminFn = new ConnectorFunction(stack, 'Admin', { name: 'admin-api', config: stageConfig('sandbox'), entry: FIXTURE_HANDLER });
  flow.grantAdminFunction(adminFn);
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, flow, adminFn, template: Template.fromStack(stack) };
}

describe('InvoiceTax construct', () => {
  const { template, stack, flow } = build();

  it('creates the invoice-tax and exemptions FIFO queues, each with a FIFO DLQ and redrive after 5 receives', () => {
    for (const name of ['sphere-connector-sandbox-invoice-tax', 'sphere-connector-sandbox-exemptions']) {
      template.hasResourceProperties('AWS::SQS::Queue', { QueueName: `${name}.fifo`, FifoQueue: true, RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }) });
      template.hasResourceProperties('AWS::SQS::Queue', { QueueName: `${name}-dlq.fifo`, FifoQueue: true });
    }
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'sphere-connector-sandbox-invoice-tax.fifo', VisibilityTimeout: INVOICE_TAX_TIMEOUT.toSeconds() * 6 });
  });

  it('hosts calculate-invoice-tax and exemptions with the environment config() needs', () => {
    for (const description of [Match.stringLikeRegexp('^Invoice tax'), Match.stringLikeRegexp('^Exemption changes')]) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: description,
        Runtime: 'nodejs22.x',
        Environment: {
          Variables: sandboxFunctionEnv({ INVOICE_TAX_QUEUE_URL: Match.anyValue(), EXEMPTIONS_QUEUE_URL: Match.anyValue() }),
        },
      });
    }
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Invoice tax'), Timeout: 120, Environment: { Variables: Match.objectLike({ INVOICE_TAX_DLQ_URL: Match.anyValue() }) } });
  });

  it('consumes each queue through an event source mapping with partial batch failures and a concurrency cap', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 2 },
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('InvoiceTaxQueue'), 'Arn'] },
    });
  });

  it('grants the table, read-only secrets under the prefix, and sending to both queues', () => {
    const statements = policyStatements(template);
    const secrets = statements.filter((s) => s.Sid === 'ReadConnectionSecretsUnderPrefix');
    expect(secrets).toHaveLength(2);
    for (const s of secrets) {
      expect(s.Action).toBe('secretsmanager:GetSecretValue');
      expect(JSON.stringify(stack.resolve(s.Resource))).toContain(`secret:${SECRETS_PREFIX}*`);
    }
    expect(statements.some((s) => JSON.stringify(s.Action).includes('secretsmanager:DeleteSecret'))).toBe(false);
    const sends = statements.filter((s) => JSON.stringify(s.Action).includes('sqs:SendMessage'));
    expect(sends.length).toBeGreaterThanOrEqual(6); // 2 functions × 2 queues + DLQs + admin
    expect(statements.filter((s) => s.Sid === 'ConnectorTableItems')).toHaveLength(2);
    expect(JSON.stringify(statements.map((s) => stack.resolve(s.Resource)))).not.toContain('/index/');
  });

  it('lets the named role invoke calculate-invoice-tax directly', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: INVOKER,
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('CalculateInvoiceTax'), 'Arn'] },
    });
  });

  it('alarms on DLQ depth and message age for both queues', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }] });
  });

  it('wires the admin function: queue URLs in its environment and send rights', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ INVOICE_TAX_QUEUE_URL: Match.anyValue(), EXEMPTIONS_QUEUE_URL: Match.anyValue() }) },
      Handler: 'index.handler',
      Description: Match.absent(),
    });
    expect(flow.calculateFunction.timeout?.toSeconds()).toBe(120);
  });
});

it('passes cdk-nag AwsSolutions checks (synth throws on an unacknowledged finding)', () => {
  const { app, stack } = build({ nag: true });
  expect(() => app.synth()).not.toThrow();
  const errors = stack.node
    .findAll()
    .flatMap((c) => c.node.metadata)
    .filter((m) => m.type === 'aws:cdk:error' || m.type === 'aws:cdk:warning')
    .map((m) => String(m.data));
  expect(errors.filter((e) => /AwsSolutions/.test(e))).toEqual([]);
});

it('wired into the real service stack (env-agnostic), the whole app stays nag-clean', () => {
  const { app, service } = connectorApp('production');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
  // The admin function serves the invoice and failure routes, so it gets the invoice-tax queue.
  Template.fromStack(service).hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ INVOICE_TAX_QUEUE_URL: Match.anyValue(), EXEMPTIONS_QUEUE_URL: Match.anyValue() }) },
    Description: Match.stringLikeRegexp('[Aa]dmin'),
  });
});
