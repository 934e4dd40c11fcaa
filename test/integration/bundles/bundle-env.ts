/**
 * The environment a bundled function gets in the bundle test: DynamoDB (dynalite) and SQS (fauxqs)
 * started through the local runtime's own modules, every connector FIFO queue with its DLQ, a
 * temp-dir credential vault, and the variables the stack sets on a function (table names, queue
 * URLs, Powertools settings, NODE_OPTIONS). It seeds one DISCONNECTED connection with canary secrets,
 * so a function that lists connections has something to (not) leak; every invocation in the test
 * targets an unknown connection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { startDynamo, type EmbeddedDynamo } from '../../../local/runtime/dynamo';
import { startSqs, type EmbeddedSqs } from '../../../local/runtime/sqs';
import { MAX_RECEIVE_COUNT, QUEUES } from '../../../shared/runtime/catalogue';
import { connectionRecord } from '../../support/connections';
import { ConnectionRepository } from '../../../shared/store/connections';
import { LocalFileVault } from '../../../shared/secrets/local-vault';
import { type ConnectionSecrets } from '../../../shared/secrets/vault';

export const SEEDED_CONNECTION_ID = 'conn_bundle_seeded';
const REGION = 'eu-west-1';

export interface BundleEnvironment {
  /** The complete environment of each child process. */
  env: Record<string, string>;
  /** Values that must never appear in a function's output, logs or response. */
  canaries: string[];
  /** Queue name (`customer-sync.fifo`) → URL. */
  queueUrls: Record<string, string>;
  stop(): Promise<void>;
}

export async function startBundleEnvironment(): Promise<BundleEnvironment> {
  const vaultDir = mkdtempSync(path.join(tmpdir(), 'bundle-vault-'));
  const canary = (label: string) => `${label}-canary-${randomBytes(12).toString('hex')}`;
  const awsSecret = canary('aws-secret');
  const secrets: ConnectionSecrets = {
    sequence: { clientId: 'seeded-client', clientSecret: canary('sequence-client-secret') },
    sphere: { apiKey: `sph_test_${randomBytes(16).toString('hex')}` },
    webhookSigningSecret: canary('webhook-signing-secret'),
  };

  let dynamo: EmbeddedDynamo | undefined;
  let sqs: EmbeddedSqs | undefined;
  const stop = async () => {
    await sqs?.stop();
    await dynamo?.stop();
    rmSync(vaultDir, { recursive: true, force: true });
  };

  try {
    dynamo = await startDynamo({ region: REGION, tables: { connector: 'sphere-connector-bundle-test', idempotency: 'sphere-connector-bundle-test-idempotency' } });
    sqs = await startSqs({ region: REGION });
    const queueEnv: Record<string, string> = {};
    for (const queue of Object.values(QUEUES)) {
      const queueName = `${queue.name}.fifo`;
      const dlqName = `${queue.name}-dlq.fifo`;
      const created = await sqs.createQueues({ queueName, dlqName, visibilityTimeoutSeconds: 180, maxReceiveCount: MAX_RECEIVE_COUNT });
      queueEnv[queue.envVar] = created.queueUrl;
      queueEnv[queue.dlqEnvVar] = created.dlqUrl;
    }

    // One disconnected connection whose secrets are canaries.
    const now = new Date().toISOString();
    const connection = connectionRecord(SEEDED_CONNECTION_ID, {
      name: 'Bundle test (seeded, disconnected)',
      status: 'DISCONNECTED',
      sequenceAccountId: 'acc_bundle_seeded',
      sequenceBaseUrl: 'http://127.0.0.1:9/sequence',
      sphereBaseUrl: 'http://127.0.0.1:9/sphere',
      taxCodes: { default: 'TX-GENERAL', byTaxCategory: {} },
      disconnectedAt: now,
    });
    const db = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
    await new ConnectionRepository(db, dynamo.tables.connector).create(connection);
    await new LocalFileVault({ dir: vaultDir }).put(SEEDED_CONNECTION_ID, secrets);

    const env: Record<string, string> = {
      // What Lambda itself sets.
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'ASIABUNDLETESTEXAMPLE',
      AWS_SECRET_ACCESS_KEY: awsSecret,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      TZ: ':UTC',
      LANG: 'en_US.UTF-8',
      // What ConnectorFunction sets.
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'sphere-connector',
      POWERTOOLS_METRICS_NAMESPACE: 'SphereConnectorBundleTest',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      POWERTOOLS_DEV: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
      // What the stack sets (emulators instead of AWS).
      STAGE: 'test',
      CONNECTOR_TABLE_NAME: dynamo.tables.connector,
      IDEMPOTENCY_TABLE_NAME: dynamo.tables.idempotency,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      SECRETS_BACKEND: 'local-vault',
      SECRETS_PREFIX: 'sphere-connector/test/connections/',
      LOCAL_VAULT_DIR: vaultDir,
      CONNECTOR_PUBLIC_URL: 'https://abcdef1234.execute-api.eu-west-1.amazonaws.com',
      ...queueEnv,
    };
    return {
      env,
      canaries: [awsSecret, secrets.sequence.clientSecret, secrets.sphere.apiKey, secrets.webhookSigningSecret],
      queueUrls: { ...sqs.queueUrls },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
