import 'aws-cdk-lib/testhelpers/jest-autoclean';
import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  CONNECTOR_BUNDLING,
  ConnectorFunction,
  PROJECT_ROOT,
  functionEntry,
} from '../../lib/constructs/connector-function';
import { stageConfig } from '../../lib/stage-config';
import { FIXTURE_HANDLER, testStack } from './helpers';

function synth(stage: 'sandbox' | 'production', overrides: { timeout?: Duration; memorySize?: number; environment?: Record<string, string> } = {}) {
  const { stack } = testStack();
  const fn = new ConnectorFunction(stack, 'Fn', {
    name: 'echo',
    entry: FIXTURE_HANDLER,
    config: stageConfig(stage),
    ...overrides,
  });
  return { fn, template: Template.fromStack(stack) };
}

describe('ConnectorFunction', () => {
  it('applies the house defaults: nodejs22.x, arm64, active tracing, 30 s, 256 MB, Powertools env', () => {
    const { template } = synth('sandbox');
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      Timeout: 30,
      MemorySize: 256,
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^FnLogGroup') } },
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'sphere-connector',
          POWERTOOLS_METRICS_NAMESPACE: 'SphereConnector',
          POWERTOOLS_LOG_LEVEL: 'DEBUG',
        },
      },
    });
  });

  it.each([
    ['sandbox', 14, 'Delete'],
    // Retained, except when the first creation rolls back: the name is fixed, so a retry would stop on "already exists".
    ['production', 90, 'RetainExceptOnCreate'],
  ] as const)('%s: explicit log group named per stage, with %i days retention (%s)', (stage, days, policy) => {
    const { template } = synth(stage);
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: days, LogGroupName: `/sphere-connector-${stage}/lambda/echo` },
      DeletionPolicy: policy,
    });
  });

  it('production logs at INFO', () => {
    synth('production').template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_LOG_LEVEL: 'INFO' }) },
    });
  });

  it('timeout, memory and extra environment are overridable', () => {
    const { template, fn } = synth('sandbox', {
      timeout: Duration.seconds(90),
      memorySize: 512,
      environment: { CONNECTOR_TABLE_NAME: 'tbl' },
    });
    expect(fn.timeout?.toSeconds()).toBe(90);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 90,
      MemorySize: 512,
      Environment: {
        Variables: Match.objectLike({ CONNECTOR_TABLE_NAME: 'tbl', NODE_OPTIONS: '--enable-source-maps' }),
      },
    });
  });

  it('uses its own role with no AWS-managed policies; logs only to its own log group', () => {
    const { template } = synth('sandbox');
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnLogGroup'), 'Arn'] },
          }),
          Match.objectLike({ Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' }),
        ]),
      },
    });
  });

  it('entries follow functions/<name>/handler.ts', () => {
    expect(functionEntry('webhook-ingest')).toBe(path.join(PROJECT_ROOT, 'functions', 'webhook-ingest', 'handler.ts'));
  });

  it('exports one esbuild configuration for every function: ESM for the Lambda runtime, the SDK inside, maps without sources', () => {
    const { banner, externalModules, ...output } = CONNECTOR_BUNDLING;
    expect(output).toEqual({ format: 'esm', target: 'node22', minify: true, sourceMap: true, sourcesContent: false, keepNames: true, mainFields: ['module', 'main'] });
    // ESM output still gives the CJS dependencies a require().
    expect(banner).toBe("import { createRequire } from 'module'; const require = createRequire(import.meta.url);");
    // Nothing external: Lambda runs the SDK version the lockfile pins, not the runtime's own.
    expect(externalModules).toEqual([]);
  });
});
