import { Annotations, Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ControlTowerChecks } from './control-tower-checks';
import { DataStack } from './data-stack';
import { ServiceStack } from './service-stack';
import { SERVICE_NAME, parseStage, stageConfig, type StageConfig } from './stage-config';

export interface ConnectorStacks {
  readonly config: StageConfig;
  readonly data: DataStack;
  readonly service: ServiceStack;
}

/**
 * Add the connector's stacks for the stage named by the `stage` context (default `sandbox`) to `app`,
 * and enable the policy-validation plugins: cdk-nag's AwsSolutions checks and AWS Control Tower's proactive
 * controls run by cfn-guard (@cdklabs/cdk-validator-cfnguard); any unacknowledged finding of either fails
 * synth. Findings are acknowledged with their reason where the resource is built.
 * Shared by `bin/app.ts` and the infra tests, so the tests check exactly what deploys.
 */
export function buildConnectorApp(app: App): ConnectorStacks {
  const config = stageConfig(parseStage(app.node.tryGetContext('stage')));
  const alarmEmail: unknown = app.node.tryGetContext('alarmEmail');
  if (alarmEmail !== undefined && (typeof alarmEmail !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(alarmEmail))) {
    throw new Error(`alarmEmail context must be an e-mail address, got ${JSON.stringify(alarmEmail)}`);
  }

  const invokers: unknown = app.node.tryGetContext('directInvokerRoleArns');
  const directInvokerRoleArns = typeof invokers === 'string' && invokers.trim() !== '' ? invokers.split(',').map((a) => a.trim()) : [];
  for (const arn of directInvokerRoleArns) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(arn)) throw new Error(`directInvokerRoleArns must be comma-separated IAM role ARNs, got ${JSON.stringify(arn)}`);
  }

  const data = new DataStack(app, `${config.stackPrefix}-Data`, {
    config,
    description: `Sphere connector (${config.stage}): tables (retained data)`,
    terminationProtection: config.stage === 'production',
  });
  const service = new ServiceStack(app, `${config.stackPrefix}-Service`, {
    config,
    description: `Sphere connector (${config.stage}): API, functions, queues, alarms`,
    data,
    alarmEmail: typeof alarmEmail === 'string' ? alarmEmail : undefined,
    directInvokerRoleArns,
  });
  service.addStackDependency(data);
  if (alarmEmail === undefined) {
    Annotations.of(service).addWarningV2(
      '@sphere-connector/no-alarm-email',
      'No alarmEmail context: the alarms notify nobody (the alarm topic has no subscriber). ' +
        'Deploy with -c alarmEmail=ops@example.com, or subscribe something to the AlarmTopicArn output yourself.',
    );
  }

  for (const stack of [data, service]) {
    Tags.of(stack).add('service', SERVICE_NAME);
    Tags.of(stack).add('stage', config.stage);
  }

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ControlTowerChecks());
  return { config, data, service };
}
