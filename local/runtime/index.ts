/**
 * The embedded runtime behind `npm start` and the integration tests: DynamoDB (dynalite), SQS
 * (fauxqs) with FIFO queues + DLQs, the local credential vault, the HTTP front door (API Gateway
 * HTTP API emulation) and one SQS poller per queue binding (Lambda event source mapping
 * emulation). It sets process.env for the hosted handlers exactly as the CDK stack sets the
 * functions' environment, then loads them lazily on first use.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { resetConfigCache } from '../../shared/runtime/config';
import { type AwsCallLog, recordAwsCalls } from './aws-calls';
import { startDynamo, type EmbeddedDynamo } from './dynamo';
import { startFrontDoor, type FrontDoor, type HealthCheck } from './front-door';
import { startPoller, type Poller } from './poller';
import { startSqs, type EmbeddedSqs } from './sqs';
import { queueEnvVars, type HttpRoute, type QueueBinding } from './types';

export type { HttpRoute, QueueBinding, HandlerModule, LambdaHandler } from './types';
export type { Poller } from './poller';
export type { AwsCall, AwsCallLog, AwsResource } from './aws-calls';

export interface SimulatorHandle {
  url: string;
  apiUrl?: string;
  stop: () => Promise<void>;
}

export interface SimulatorStarter {
  start: () => Promise<SimulatorHandle>;
}

export interface LocalRuntimeOptions {
  /** Front door port (default 3000; 0 = any free port). */
  port?: number;
  host?: string;
  /** Data directory (default `.local`): vault under `vault/`, DynamoDB under `dynamodb/`. */
  dataDir?: string;
  /** Wipe the data directory first. */
  fresh?: boolean;
  /** Keep DynamoDB in memory instead of LevelDB under the data dir (tests; default false). */
  inMemory?: boolean;
  routes: HttpRoute[];
  queues: QueueBinding[];
  /**
   * The base URL Sequence calls for webhooks (CONNECTOR_PUBLIC_URL), e.g. a tunnel to the front
   * door when pointing at a real Sequence sandbox. Default: the front door's own URL.
   */
  publicUrl?: string;
  /** Extra environment for the handlers (wins over the runtime's defaults). */
  env?: Record<string, string>;
  simulators?: { sequence?: SimulatorStarter; sphere?: SimulatorStarter };
  adminToken?: string;
  dynamoPort?: number;
  sqsPort?: number;
  region?: string;
  tableNames?: { connector?: string; idempotency?: string };
  log?: (line: string) => void;
  /** SQS long-poll wait (default 1 s). */
  pollWaitSeconds?: number;
  maxBodyBytes?: number;
  /** Record every AWS SDK call the handlers make, by function (`awsCalls`; the IAM proof). */
  recordAwsCalls?: boolean;
}

export interface LocalRuntime {
  url: string;
  /** CONNECTOR_PUBLIC_URL as the handlers see it. */
  publicUrl: string;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  /** Queue name (source and DLQ) → URL. */
  queueUrls: Record<string, string>;
  /** Queue name → ARN. */
  queueArns: Record<string, string>;
  tableNames: { connector: string; idempotency: string };
  vaultDir: string;
  dataDir: string;
  adminToken: string;
  /** Environment set for the handlers. */
  env: Record<string, string>;
  simulators: { sequence?: SimulatorHandle; sphere?: SimulatorHandle };
  pollers: Poller[];
  /** The handlers' AWS SDK calls, when started with `recordAwsCalls`. */
  awsCalls?: AwsCallLog;
  sqs: EmbeddedSqs;
  dynamo: EmbeddedDynamo;
  /** Wait until every queue is empty and nothing is in flight. */
  drain(options?: { timeoutMs?: number }): Promise<void>;
  /** Wait until no invocation is in flight. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export const DEFAULT_ADMIN_TOKEN = 'local-admin-token';

async function isAnswering(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1500) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? ((line: string) => console.log(line));
  const region = options.region ?? process.env.AWS_REGION ?? 'eu-west-1';
  const dataDir = path.resolve(options.dataDir ?? '.local');
  const adminToken = options.adminToken ?? process.env.CONNECTOR_ADMIN_TOKEN ?? DEFAULT_ADMIN_TOKEN;
  if (options.fresh) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const vaultDir = path.join(dataDir, 'vault');
  mkdirSync(vaultDir, { recursive: true, mode: 0o700 });

  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    const errors: unknown[] = [];
    for (const stop of stoppers.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  };

  try {
    // Before any handler is loaded: handlers build their SDK clients when their module is imported.
    const awsCalls = options.recordAwsCalls ? recordAwsCalls() : undefined;
    if (awsCalls) stoppers.push(async () => awsCalls.stop());
    const simulators: LocalRuntime['simulators'] = {};
    for (const name of ['sequence', 'sphere'] as const) {
      const starter = options.simulators?.[name];
      if (!starter) continue;
      const handle = await starter.start();
      simulators[name] = handle;
      stoppers.push(() => handle.stop());
    }

    const dynamo = await startDynamo({
      ...(options.dynamoPort !== undefined ? { port: options.dynamoPort } : {}),
      ...(options.inMemory ? {} : { path: path.join(dataDir, 'dynamodb') }),
      region,
      ...(options.tableNames ? { tables: options.tableNames } : {}),
    });
    stoppers.push(() => dynamo.stop());

    const sqs = await startSqs({ ...(options.sqsPort !== undefined ? { port: options.sqsPort } : {}), region });
    stoppers.push(() => sqs.stop());

    const queueArns: Record<string, string> = {};
    const created = new Map<QueueBinding, { queueUrl: string; queueArn: string }>();
    const queueEnv: Record<string, string> = {};
    for (const binding of options.queues) {
      const q = await sqs.createQueues(binding);
      created.set(binding, q);
      queueArns[binding.queueName] = q.queueArn;
      queueArns[binding.dlqName] = q.dlqArn;
      const { envVar, dlqEnvVar } = queueEnvVars(binding);
      queueEnv[envVar] = q.queueUrl;
      queueEnv[dlqEnvVar] = q.dlqUrl;
    }

    // The front door's URL must be known before the handlers' environment is complete, so
    // listen first and only then let requests reach (lazily loaded) handlers.
    const components: Record<string, HealthCheck> = {
      dynamodb: () => dynamo.healthy(),
      sqs: () => sqs.healthy(),
    };
    const env: Record<string, string> = {};
    const frontDoor: FrontDoor = await startFrontDoor({
      routes: options.routes,
      port: options.port ?? 3000,
      host: options.host ?? '127.0.0.1',
      adminToken,
      health: components,
      log,
      region,
      ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    });
    stoppers.push(() => frontDoor.stop());

    Object.assign(env, {
      STAGE: 'local',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      CONNECTOR_TABLE_NAME: dynamo.tables.connector,
      IDEMPOTENCY_TABLE_NAME: dynamo.tables.idempotency,
      SECRETS_BACKEND: 'local-vault',
      SECRETS_PREFIX: 'sphere-connector/local/connections/',
      LOCAL_VAULT_DIR: vaultDir,
      CONNECTOR_PUBLIC_URL: options.publicUrl || frontDoor.url,
      CONNECTOR_ADMIN_TOKEN: adminToken,
      POWERTOOLS_DEV: 'true',
      POWERTOOLS_SERVICE_NAME: 'sphere-connector',
      POWERTOOLS_METRICS_NAMESPACE: 'SphereConnectorLocal',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      ...(simulators.sequence ? { SEQUENCE_BASE_URL: simulators.sequence.apiUrl ?? simulators.sequence.url } : {}),
      ...(simulators.sphere ? { SPHERE_BASE_URL: simulators.sphere.apiUrl ?? simulators.sphere.url } : {}),
      ...queueEnv,
      ...(options.env ?? {}),
    });
    // Handlers read process.env at module scope: set it before any of them is loaded.
    const previous: Record<string, string | undefined> = {};
    for (const [key, value] of Object.entries(env)) {
      previous[key] = process.env[key];
      process.env[key] = value;
    }
    resetConfigCache();
    stoppers.unshift(async () => {
      for (const [key, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      resetConfigCache();
    });

    const pollers: Poller[] = [];
    for (const binding of options.queues) {
      const q = created.get(binding)!;
      pollers.push(
        startPoller({ binding, client: sqs.client, queueUrl: q.queueUrl, queueArn: q.queueArn, region, log, ...(options.pollWaitSeconds !== undefined ? { waitTimeSeconds: options.pollWaitSeconds } : {}) }),
      );
    }
    stoppers.push(async () => {
      await Promise.all(pollers.map((p) => p.stop()));
    });

    const simulatorHealth = (handle: SimulatorHandle | undefined, baseUrlVar: string): HealthCheck => {
      // A simulator is up when it answers HTTP at all; a real service is only checked for being configured.
      if (handle) return () => isAnswering(handle.url);
      return () => Boolean(process.env[baseUrlVar]);
    };
    components.sequence = simulatorHealth(simulators.sequence, 'SEQUENCE_BASE_URL');
    components.sphere = simulatorHealth(simulators.sphere, 'SPHERE_BASE_URL');
    components.pollers = () => pollers.every((p) => p.running);

    return {
      url: frontDoor.url,
      publicUrl: env.CONNECTOR_PUBLIC_URL!,
      dynamoEndpoint: dynamo.endpoint,
      sqsEndpoint: sqs.endpoint,
      queueUrls: { ...sqs.queueUrls },
      queueArns,
      tableNames: dynamo.tables,
      vaultDir,
      dataDir,
      adminToken,
      env,
      simulators,
      pollers,
      ...(awsCalls ? { awsCalls } : {}),
      sqs,
      dynamo,
      async drain(drainOptions) {
        await Promise.all(pollers.map((p) => p.drain(drainOptions)));
      },
      async idle() {
        await Promise.all(pollers.map((p) => p.idle()));
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}
