import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConnectorFunction } from '../../lib/constructs/connector-function';
import { FifoQueueWithDlq } from '../../lib/constructs/fifo-queue-with-dlq';
import { parseStage, stageConfig, type Stage } from '../../lib/stage-config';
import { FIXTURE_HANDLER, NO_BUNDLING, connectorApp } from './helpers';

describe('stage selection', () => {
  it('defaults to sandbox and accepts production', () => {
    expect(parseStage(undefined)).toBe('sandbox');
    expect(parseStage('sandbox')).toBe('sandbox');
    expect(parseStage('production')).toBe('production');
  });

  it('rejects anything else with a clear error', () => {
    expect(() => parseStage('prod')).toThrow(/Unknown stage "prod".*stage=sandbox.*stage=production/);
    expect(() => connectorApp('staging' as Stage)).toThrow(/Unknown stage "staging"/);
  });

  it('rejects an alarmEmail that is not an address', () => {
    expect(() => connectorApp('sandbox', { alarmEmail: 'nope' })).toThrow(/alarmEmail/);
  });

  it.each<Stage>(['sandbox', 'production'])('names the %s stacks SphereConnector-<stage>-Data/-Service', (stage) => {
    const { data, service } = connectorApp(stage);
    expect(data.stackName).toBe(`SphereConnector-${stage}-Data`);
    expect(service.stackName).toBe(`SphereConnector-${stage}-Service`);
    expect(service.dependencies).toContain(data);
  });
});

describe('policy-validation gate (cdk-nag AwsSolutions, Control Tower proactive controls with cfn-guard)', () => {
  it.each<Stage>(['sandbox', 'production'])('the real %s app synthesises with zero unacknowledged findings', (stage) => {
    const { app } = connectorApp(stage, { alarmEmail: 'ops@example.com' });
    expect(() => app.synth()).not.toThrow();
  });

  it('cfn-guard ran, and every finding it acknowledges is a known one with its reason', () => {
    const { app } = connectorApp('production', { alarmEmail: 'ops@example.com' });
    const report = JSON.parse(readFileSync(path.join(app.synth().directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; suppressedViolations?: { ruleName: string; reason: string }[] }[];
    };
    const guard = report.pluginReports.find((r) => r.pluginName === 'cdk-validator-cfnguard');
    expect(guard?.conclusion).toBe('success');
    const acknowledged = guard!.suppressedViolations ?? [];
    for (const finding of acknowledged) expect(finding.reason.length).toBeGreaterThan(40);
    // A new acknowledgement is a decision: add it here, with its reason at the source.
    expect([...new Set(acknowledged.map((f) => f.ruleName))].sort()).toEqual([
      'api_gw_v2_authorization_type_configured_check', // the webhook route: HMAC, not IAM
      'cloudwatch_log_group_encrypted_check', // service-key encryption, no secrets in logs
      'cloudwatch_log_group_retention_period_check', // per-stage retention (14 / 90 days)
      'lambda_function_public_access_prohibited_check', // rule misreads Fn::Join in SourceArn
      'lambda_inside_vpc_check', // public endpoints only; a VPC would only add NAT
      'sqs_dlq_check', // the reconcile failure queue is itself a dead-letter queue
    ]);
  });

  it('the cfn-guard gate is live next to the acknowledgements: an unacknowledged finding fails synth', () => {
    const { app, service } = connectorApp('sandbox', { alarmEmail: 'ops@example.com' });
    // CT.CLOUDWATCH.PR.2 (retention under a year) and PR.3 (no KMS key), acknowledged only on the house log groups.
    new LogGroup(service, 'UnacknowledgedLogGroup', { retention: RetentionDays.ONE_WEEK });
    expect(() => app.synth()).toThrow(/CT\.CLOUDWATCH\.PR\.2[\s\S]*UnacknowledgedLogGroup/);
  });

  it('the gate is live: an unacknowledged finding fails synth', () => {
    const { app, service } = connectorApp('sandbox');
    // A plain queue raises AwsSolutions-SQS3 (no DLQ) and SQS4 (SSL not enforced).
    new Queue(service, 'Insecure');
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('the house constructs (function + FIFO queue + consumer + alarms) are nag-clean on their own', () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, 'ConstructsNag');
    const fn = new ConnectorFunction(stack, 'Worker', { name: 'echo', entry: FIXTURE_HANDLER, config: stageConfig('production') });
    const q = new FifoQueueWithDlq(stack, 'Work', { queueName: 'nag-work', consumerTimeout: fn.timeout });
    q.addConsumer(fn, { maxConcurrency: 2 });
    q.addAlarms({ topic: new Topic(stack, 'Alarms', { enforceSSL: true }) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
