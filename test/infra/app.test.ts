import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { App, Stack, Validations } from 'aws-cdk-lib';
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

describe('cdk-nag AwsSolutions gate', () => {
  it.each<Stage>(['sandbox', 'production'])('the real %s app synthesises with zero unacknowledged findings', (stage) => {
    const { app } = connectorApp(stage, { alarmEmail: 'ops@example.com' });
    expect(() => app.synth()).not.toThrow();
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
