import { Tags, Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
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
 * and enable the cdk-nag AwsSolutions checks (any unacknowledged finding fails synth).
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
    connectorTable: data.connectorTable,
    idempotencyTable: data.idempotencyTable,
    secretsPrefix: data.secretsPrefix,
    alarmEmail: typeof alarmEmail === 'string' ? alarmEmail : undefined,
    directInvokerRoleArns,
  });
  service.addStackDependency(data);

  for (const stack of [data, service]) {
    Tags.of(stack).add('service', SERVICE_NAME);
    Tags.of(stack).add('stage', config.stage);
  }

  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { config, data, service };
}
