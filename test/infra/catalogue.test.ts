/**
 * The stack, the local runtime's wiring and the admin function all follow the one catalogue
 * (shared/runtime/catalogue.ts): the synthesized HTTP routes and SQS event sources equal it, the
 * local wiring hosts the same, and the admin function's router serves exactly its admin routes.
 * A drift between the local twin and AWS fails here instead of silently.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Template } from 'aws-cdk-lib/assertions';
import { stageConfig } from '../../lib/stage-config';
import { queues as localQueues, routes as localRoutes } from '../../local/wiring';
import { ADMIN_FUNCTION_NAME, ALL_ADMIN_ROUTES, MAX_RECEIVE_COUNT, QUEUES, QUEUE_KEYS, VISIBILITY_TIMEOUT_FACTOR, WEBHOOK_ROUTE } from '../../shared/runtime/catalogue';
import { connectorApp } from './helpers';

type Resource = { Type: string; Properties: Record<string, unknown> };

const STAGE = 'sandbox';
const { resourcePrefix } = stageConfig(STAGE);
const { service } = connectorApp(STAGE);
const resources = Template.fromStack(service).toJSON().Resources as Record<string, Resource>;

function logicalIdOf(value: unknown): string {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  const id = v?.Ref ?? v?.['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`Not a reference: ${JSON.stringify(value)}`);
  return id;
}

function ofType(type: string): [string, Resource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}

/** A function's name in the stack: its log group is `/<prefix>/lambda/<name>` (ConnectorFunction). */
function functionName(functionId: string): string {
  const logGroup = resources[logicalIdOf((resources[functionId]!.Properties.LoggingConfig as { LogGroup: unknown }).LogGroup)]!;
  return String(logGroup.Properties.LogGroupName).replace(`/${resourcePrefix}/lambda/`, '');
}

function env(functionId: string): Record<string, unknown> {
  return ((resources[functionId]!.Properties.Environment as { Variables?: Record<string, unknown> }).Variables ?? {}) as Record<string, unknown>;
}

/** `POST /dlq/{queue}/redrive` → the function it is integrated with, and its authorisation. */
function stackRoutes(): { key: string; functionName: string; authorization: string }[] {
  return ofType('AWS::ApiGatewayV2::Route').map(([, route]) => {
    // Target: `integrations/<integration id>`, written as an Fn::Join.
    const target = JSON.stringify(route.Properties.Target);
    const integrationId = /"Ref":"([^"]+)"/.exec(target)![1]!;
    return {
      key: String(route.Properties.RouteKey),
      functionName: functionName(logicalIdOf(resources[integrationId]!.Properties.IntegrationUri)),
      authorization: String(route.Properties.AuthorizationType),
    };
  });
}

/** Every SQS event source mapping: the queue (physical name without the prefix), the function, and the settings. */
function stackEventSources() {
  return ofType('AWS::Lambda::EventSourceMapping').map(([, mapping]) => {
    const queueId = logicalIdOf(mapping.Properties.EventSourceArn);
    const functionId = logicalIdOf(mapping.Properties.FunctionName);
    const queue = resources[queueId]!.Properties;
    const redrive = queue.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number };
    const dlqId = logicalIdOf(redrive.deadLetterTargetArn);
    const variables = env(functionId);
    const named = (id: string) => Object.keys(variables).filter((name) => JSON.stringify(variables[name]) === JSON.stringify({ Ref: id }));
    return {
      queueName: String(queue.QueueName).replace(`${resourcePrefix}-`, ''),
      dlqName: String(resources[dlqId]!.Properties.QueueName).replace(`${resourcePrefix}-`, ''),
      functionName: functionName(functionId),
      batchSize: mapping.Properties.BatchSize,
      maxConcurrency: (mapping.Properties.ScalingConfig as { MaximumConcurrency: number }).MaximumConcurrency,
      timeoutSeconds: resources[functionId]!.Properties.Timeout,
      visibilityTimeoutSeconds: queue.VisibilityTimeout,
      maxReceiveCount: redrive.maxReceiveCount,
      envVar: named(queueId),
      dlqEnvVar: named(dlqId),
    };
  });
}

const byKey = <T extends { key: string }>(a: T, b: T) => a.key.localeCompare(b.key);
const byQueue = <T extends { queueName: string }>(a: T, b: T) => a.queueName.localeCompare(b.queueName);

describe('the catalogue is what the stack deploys and the local runtime hosts', () => {
  const catalogueRoutes = [
    { key: `${WEBHOOK_ROUTE.method} ${WEBHOOK_ROUTE.path}`, functionName: WEBHOOK_ROUTE.functionName, authorization: 'NONE' },
    ...ALL_ADMIN_ROUTES.map((r) => ({ key: `${r.method} ${r.path}`, functionName: ADMIN_FUNCTION_NAME, authorization: 'AWS_IAM' })),
  ].sort(byKey);

  const catalogueQueues = QUEUE_KEYS.map((key) => {
    const q = QUEUES[key];
    return {
      queueName: `${q.name}.fifo`,
      dlqName: `${q.name}-dlq.fifo`,
      functionName: q.functionName,
      batchSize: q.batchSize,
      maxConcurrency: q.maxConcurrency,
      timeoutSeconds: q.timeoutSeconds,
      visibilityTimeoutSeconds: q.timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR,
      maxReceiveCount: MAX_RECEIVE_COUNT,
      envVar: [q.envVar],
      dlqEnvVar: [q.dlqEnvVar],
    };
  }).sort(byQueue);

  it('the HTTP API has exactly the catalogue routes, each on its function with its authorisation', () => {
    expect(stackRoutes().sort(byKey)).toEqual(catalogueRoutes);
  });

  it('the SQS event sources are exactly the catalogue queues: queue → function, batch size, concurrency, timeouts, redrive, environment', () => {
    expect(stackEventSources().sort(byQueue)).toEqual(catalogueQueues);
  });

  it('the local wiring hosts the same routes and queue bindings', () => {
    const local = localRoutes.map((r) => ({ key: `${r.method} ${r.path}`, functionName: r.functionName, authorization: r.auth === 'admin' ? 'AWS_IAM' : 'NONE' }));
    expect(local.sort(byKey)).toEqual(catalogueRoutes);
    expect(localRoutes.find((r) => r.auth === 'none')?.timeoutSeconds).toBe(WEBHOOK_ROUTE.timeoutSeconds);
    const bindings = localQueues.map((b) => ({
      queueName: b.queueName,
      dlqName: b.dlqName,
      functionName: b.functionName,
      batchSize: b.batchSize,
      maxConcurrency: b.maxConcurrency,
      timeoutSeconds: b.timeoutSeconds,
      visibilityTimeoutSeconds: b.visibilityTimeoutSeconds,
      maxReceiveCount: b.maxReceiveCount,
      envVar: [b.envVar],
      dlqEnvVar: [b.dlqEnvVar],
    }));
    expect(bindings.sort(byQueue)).toEqual(catalogueQueues);
  });

  it("the admin function's router serves exactly the catalogue's admin routes", async () => {
    // The route modules build their dependencies at module scope, from the function's environment.
    process.env.CONNECTOR_TABLE_NAME ??= 'connector';
    process.env.IDEMPOTENCY_TABLE_NAME ??= 'idempotency';
    const { adminRoutes } = await import('../../functions/admin-api/handler');
    const served = adminRoutes.map((r) => `${r.method} ${r.path}`).sort();
    expect(new Set(served).size).toBe(served.length);
    expect(served).toEqual(ALL_ADMIN_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });
});
