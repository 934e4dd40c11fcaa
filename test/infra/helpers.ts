import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, type Matcher, type Template } from 'aws-cdk-lib/assertions';
import { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { buildConnectorApp, type ConnectorStacks } from '../../lib/connector-app';
import { AdminApi } from '../../lib/constructs/admin-api';
import { FifoQueueWithDlq } from '../../lib/constructs/fifo-queue-with-dlq';
import { type Stage, stageConfig } from '../../lib/stage-config';

/** Context key `aws:cdk:bundling-stacks` (cx-api BUNDLING_STACKS): `[]` skips esbuild in assertions. */
export const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

export const FIXTURE_HANDLER = path.join(__dirname, 'fixtures', 'echo', 'handler.ts');

/** The real connector app for a stage, with bundling skipped. */
export function connectorApp(stage: Stage, extraContext: Record<string, unknown> = {}): { app: App } & ConnectorStacks {
  const app = new App({ context: { ...NO_BUNDLING, stage, ...extraContext } });
  return { app, ...buildConnectorApp(app) };
}

/** A throwaway app + stack for construct tests. */
export function testStack(): { app: App; stack: Stack } {
  const app = new App({ context: NO_BUNDLING });
  return { app, stack: new Stack(app, 'TestStack') };
}

/** A throwaway app + stack in a fixed account and region, for constructs whose ARNs or policies need them. */
export function testStackIn(id: string): { app: App; stack: Stack } {
  const app = new App({ context: NO_BUNDLING });
  return { app, stack: new Stack(app, id, { env: { account: '123456789012', region: 'eu-west-1' } }) };
}

/** The connector table (PK/SK, the GSI1 index when asked) and the idempotency table, both with point-in-time recovery. */
export function testTables(stack: Stack, options: { withIndex?: boolean } = {}): { table: TableV2; idempotency: TableV2 } {
  const table = new TableV2(stack, 'Table', {
    partitionKey: { name: 'PK', type: AttributeType.STRING },
    sortKey: { name: 'SK', type: AttributeType.STRING },
    ...(options.withIndex ? { globalSecondaryIndexes: [{ indexName: 'GSI1', partitionKey: { name: 'GSI1PK', type: AttributeType.STRING }, sortKey: { name: 'GSI1SK', type: AttributeType.STRING } }] } : {}),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  });
  const idempotency = new TableV2(stack, 'Idempotency', { partitionKey: { name: 'id', type: AttributeType.STRING }, pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true } });
  return { table, idempotency };
}

export interface PolicyStatement {
  Action: string | string[];
  Resource: unknown;
  Sid?: string;
}

/** Every statement of every IAM policy in the template. */
export function policyStatements(template: Template): PolicyStatement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: PolicyStatement[] } } }).Properties.PolicyDocument.Statement);
}

/** The secrets prefix the test stacks give the constructs. */
export const SECRETS_PREFIX = 'sphere-connector/sandbox/connections/';

/** A sandbox connector function's environment as config() reads it, plus the function's own variables. */
export function sandboxFunctionEnv(own: Record<string, unknown>): Matcher {
  return Match.objectLike({ STAGE: 'sandbox', CONNECTOR_TABLE_NAME: Match.anyValue(), IDEMPOTENCY_TABLE_NAME: Match.anyValue(), SECRETS_BACKEND: 'secrets-manager', SECRETS_PREFIX, ...own });
}

/** The admin API construct in a test stack, with the tables, the backfill queue and the HTTP API it needs. */
export function testAdminApi(stack: Stack, options: { backfillQueueName: string; withIndex?: boolean; publicUrl?: string }) {
  const { table, idempotency } = testTables(stack, { withIndex: options.withIndex ?? false });
  const backfill = new FifoQueueWithDlq(stack, 'Backfill', { queueName: options.backfillQueueName });
  const httpApi = new HttpApi(stack, 'Api', { createDefaultStage: false });
  const api = new AdminApi(stack, 'Connect', {
    config: stageConfig('sandbox'),
    httpApi,
    connectorTable: table,
    idempotencyTable: idempotency,
    secretsPrefix: SECRETS_PREFIX,
    backfillQueue: backfill.queue,
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
  });
  return { api, httpApi, backfill };
}
