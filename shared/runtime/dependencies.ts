/**
 * The dependency factory: every handler builds its dependencies once, at module scope, through
 * `dependencies()`, and passes them into shared/ code. Tests build the same object with
 * `createDependencies(config, overrides)` pointing at emulators and simulators; nothing needs
 * `jest.mock`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Connection } from '../domain/connection';
import { ConnectorError } from '../domain/errors';
import { type UpstreamCallRecord } from '../http/upstream-http';
import { type ConnectionSecrets, type CredentialVault, createVault } from '../secrets';
import { SequenceClient } from '../sequence';
import { SphereClient } from '../sphere';
import { dynamoRateGates } from '../store/shared-pace';
import { AuditLog } from '../store/audit-log';
import { BackfillRepository } from '../store/backfill';
import { ConnectionRepository } from '../store/connections';
import { DeliveryRepository } from '../store/deliveries';
import { FailureRepository } from '../failures/records';
import { LeaseRepository } from '../store/leases';
import { LinkRepository } from '../store/links';
import { RegistrationSnapshotRepository } from '../store/registration-snapshots';
import { TaxRecordRepository } from '../store/tax-records';
import { TransactionRepository } from '../store/transactions';
import { instrumentAwsClient } from './aws-clients';
import { COUNTER_METRICS } from './catalogue';
import { type ConnectorConfig, config as loadProcessConfig } from './config';
import { logger, metrics, tracer } from './observability';
import { type QueuePublisher, SqsQueuePublisher } from './queue-publisher';

export interface UpstreamClients {
  sequence: SequenceClient;
  sphere: SphereClient;
}

export interface Dependencies {
  config: ConnectorConfig;
  dynamo: DynamoDBClient;
  db: DynamoDBDocumentClient;
  sqs: SQSClient;
  vault: CredentialVault;
  // The repositories, built once here; flows name the few methods they use (their ports).
  connections: ConnectionRepository;
  failures: FailureRepository;
  audit: AuditLog;
  links: LinkRepository;
  deliveries: DeliveryRepository;
  backfill: BackfillRepository;
  registrationSnapshots: RegistrationSnapshotRepository;
  taxRecords: TaxRecordRepository;
  transactions: TransactionRepository;
  leases: LeaseRepository;
  queues: QueuePublisher;
  logger: typeof logger;
  metrics: typeof metrics;
  /**
   * Run `work` with clients for the connection's credentials. If an upstream rejects the
   * credentials, the secret is re-read past the cache once and the work retried, so a credential
   * rotated through PATCH /connections/{id} takes effect without a redeploy.
   */
  withUpstream<T>(connection: Connection, work: (clients: UpstreamClients) => Promise<T>): Promise<T>;
  /**
   * Start reading the connection's secret now, beside the connection lookup: the next `withUpstream`
   * for it (within a second) uses this read instead of starting its own after the lookup. For a
   * connection this container has called before, the first Sequence calls' shared-pace slots are
   * reserved now too (SharedRateGate.prepare).
   */
  prefetchCredentials(connectionId: string): void;
  /** Clients for explicit credentials (connect/test before anything is stored). */
  clientsFor(input: { sequence: { baseUrl: string; clientId: string; clientSecret: string }; sphere: { baseUrl: string; apiKey: string }; connectionId?: string }): UpstreamClients;
}

export interface DependencyOverrides {
  dynamo?: DynamoDBClient;
  sqs?: SQSClient;
  vault?: CredentialVault;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

const CREDENTIAL_ERRORS = new Set(['sequence_credentials_rejected', 'sphere_credentials_rejected']);
/** How long a prefetched secret read may stand in for one made now. */
const CREDENTIAL_PREFETCH_MS = 1_000;
/** Base URLs remembered for the pace warm-up: a bound, not a cache policy (a container serves a few merchants). */
const MAX_REMEMBERED_CONNECTIONS = 1_000;

/**
 * Audit-log writes run beside the flow they record, so they never slow it down or break it; but
 * Lambda may freeze the process as soon as the handler returns, so the HTTP and SQS wrappers
 * await `flushAuditLog()` before they answer. The records of calls that end together (a wave of
 * parallel calls) are gathered for a few ms and written in one batch: one table round trip per
 * wave, beside the next one, never one per call.
 */
const pendingAudit = new Set<Promise<void>>();
const AUDIT_GATHER_MS = 5;
const AUDIT_BATCH_MAX = 25;
type AuditRecord = { connectionId: string; call: UpstreamCallRecord; at: string };
const gatheredAudit = new Map<AuditLog, AuditRecord[]>();
let auditTimer: ReturnType<typeof setTimeout> | undefined;

function writeGatheredAudit(): void {
  if (auditTimer) clearTimeout(auditTimer);
  auditTimer = undefined;
  for (const [log, records] of gatheredAudit) {
    gatheredAudit.delete(log);
    const write = log
      .recordMany(records)
      .catch((error: unknown) => logger.warn('Could not write the audit log', { error: String(error), records: records.length }))
      .finally(() => pendingAudit.delete(write));
    pendingAudit.add(write);
  }
}

function gatherAudit(log: AuditLog, record: AuditRecord): void {
  const records = gatheredAudit.get(log) ?? [];
  records.push(record);
  gatheredAudit.set(log, records);
  if (records.length >= AUDIT_BATCH_MAX) writeGatheredAudit();
  else auditTimer ??= setTimeout(writeGatheredAudit, AUDIT_GATHER_MS);
}

export async function flushAuditLog(): Promise<void> {
  writeGatheredAudit();
  while (pendingAudit.size > 0) await Promise.all([...pendingAudit]);
}

export function createDependencies(cfg: ConnectorConfig, overrides: DependencyOverrides = {}): Dependencies {
  // AWS SDK calls appear as subsegments on the function's X-Ray trace (when tracing is on).
  const traced = <C>(client: C): C => (tracer ? tracer.captureAWSv3Client(client) : client);
  const dynamo = overrides.dynamo ?? instrumentAwsClient(traced(new DynamoDBClient({ region: cfg.region })));
  const db = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } });
  // An explicit endpoint (local emulator) must also stop the SDK from sending to the host in the
  // queue URL: fauxqs names queues `sqs.<region>.localhost`, which not every machine resolves.
  const sqsEndpoint = process.env.AWS_ENDPOINT_URL_SQS;
  const sqs = overrides.sqs ?? instrumentAwsClient(traced(new SQSClient({ region: cfg.region, ...(sqsEndpoint ? { endpoint: sqsEndpoint, useQueueUrlAsEndpoint: false } : {}) })));
  const vault = overrides.vault ?? createVault(cfg);
  // The connection counters as metrics (failures have their own, recorded with the failure record).
  const connections = new ConnectionRepository(db, cfg.connectorTableName, (_connectionId, counter, by) => {
    if (counter !== 'failures' && by > 0) metrics.addMetric(COUNTER_METRICS[counter], MetricUnit.Count, by);
  });
  const failures = new FailureRepository(db, cfg.connectorTableName, connections);
  const audit = new AuditLog(db, cfg.connectorTableName);
  const table = cfg.connectorTableName;
  const repositories = {
    links: new LinkRepository(db, table),
    deliveries: new DeliveryRepository(db, table),
    backfill: new BackfillRepository(db, table),
    registrationSnapshots: new RegistrationSnapshotRepository(db, table),
    taxRecords: new TaxRecordRepository(db, table),
    transactions: new TransactionRepository(db, table),
    leases: new LeaseRepository(db, table),
  };
  const queues = new SqsQueuePublisher(sqs, cfg.queueUrls);

  const auditTo = (connectionId: string | undefined) => (call: UpstreamCallRecord) => {
    if (connectionId) gatherAudit(audit, { connectionId, call, at: new Date().toISOString() });
  };

  // Deployed, many Lambda instances share one merchant's upstream limits: count calls in the table.
  let gateWarnedAt = 0;
  const sharedRateGates = dynamoRateGates(db, cfg.connectorTableName, {
    onUnavailable: (error) => {
      if (Date.now() - gateWarnedAt < 60_000) return;
      gateWarnedAt = Date.now();
      logger.warn('Shared rate budget unavailable; calls go out paced by this process only', { error: String(error) });
    },
  });

  const clientsFor: Dependencies['clientsFor'] = (input) => {
    const shared = {
      onCall: auditTo(input.connectionId),
      sharedRateGates,
      ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
      ...(overrides.sleep ? { sleep: overrides.sleep } : {}),
    };
    return {
      sequence: new SequenceClient({ baseUrl: input.sequence.baseUrl, clientId: input.sequence.clientId, clientSecret: input.sequence.clientSecret, ...shared }),
      sphere: new SphereClient({ baseUrl: input.sphere.baseUrl, apiKey: input.sphere.apiKey, ...shared }),
    };
  };

  const prefetched = new Map<string, { at: number; secrets: Promise<ConnectionSecrets> }>();
  /** The Sequence base URL each connection had when this container last called it (the pace's scope needs it). */
  const sequenceBaseUrls = new Map<string, string>();
  const prefetchCredentials = (connectionId: string) => {
    // Reads nobody took (an unknown connection) are dropped, so the map stays small.
    for (const [id, read] of prefetched) if (Date.now() - read.at >= CREDENTIAL_PREFETCH_MS) prefetched.delete(id);
    const secrets = (async () => vault.get(connectionId))();
    secrets.catch(() => undefined); // an unknown connection's lookup answers; withUpstream rethrows for a known one
    prefetched.set(connectionId, { at: Date.now(), secrets });
    // A connection this container has called before: its first Sequence calls' shared-pace slots are
    // reserved beside the lookup too. If the base URL changed meanwhile, the slots go unused (stale in 1 s).
    const baseUrl = sequenceBaseUrls.get(connectionId);
    if (baseUrl) {
      void secrets.then(
        (s) => new SequenceClient({ baseUrl, clientId: s.sequence.clientId, clientSecret: s.sequence.clientSecret, sharedRateGates }).prepareCalls(),
        () => undefined,
      );
    }
  };

  async function clientsForConnection(connection: Connection, forceRefresh: boolean): Promise<UpstreamClients> {
    const early = prefetched.get(connection.id);
    prefetched.delete(connection.id);
    const fresh = !forceRefresh && early !== undefined && Date.now() - early.at < CREDENTIAL_PREFETCH_MS;
    const secrets = await (fresh ? early.secrets : vault.get(connection.id, { forceRefresh }));
    if (sequenceBaseUrls.size >= MAX_REMEMBERED_CONNECTIONS) sequenceBaseUrls.clear();
    sequenceBaseUrls.set(connection.id, connection.sequenceBaseUrl);
    return clientsFor({
      connectionId: connection.id,
      sequence: { baseUrl: connection.sequenceBaseUrl, clientId: secrets.sequence.clientId, clientSecret: secrets.sequence.clientSecret },
      sphere: { baseUrl: connection.sphereBaseUrl, apiKey: secrets.sphere.apiKey },
    });
  }

  /** Still refused after a fresh read of the secret: the connection shows it (GET /connections/{id}). */
  async function recordCredentialRefusal(connection: Connection, error: ConnectorError): Promise<void> {
    const side = error.code === 'sphere_credentials_rejected' ? 'Sphere' : 'Sequence';
    const lastError = {
      code: error.code,
      message: `${side} refused the stored credentials even after the secret was re-read (${error.message}). ${error.fix ?? ''} Then check with POST /connections/${connection.id}/test.`.replace(/\s+/g, ' '),
      at: new Date().toISOString(),
    };
    try {
      if (await connections.recordCredentialRefusal(connection.id, lastError)) logger.warn('Upstream refused the stored credentials; recorded on the connection', { connectionId: connection.id, code: error.code });
    } catch (recordError) {
      logger.error('Could not record the refused credentials on the connection', { connectionId: connection.id, error: String(recordError) });
    }
  }

  const isCredentialError = (error: unknown): error is ConnectorError => error instanceof ConnectorError && CREDENTIAL_ERRORS.has(error.code);

  async function withUpstream<T>(connection: Connection, work: (clients: UpstreamClients) => Promise<T>): Promise<T> {
    try {
      return await work(await clientsForConnection(connection, false));
    } catch (error) {
      if (!isCredentialError(error)) throw error;
      logger.info('Upstream rejected cached credentials; re-reading the secret once', { connectionId: connection.id, code: error.code });
    }
    try {
      return await work(await clientsForConnection(connection, true));
    } catch (error) {
      if (isCredentialError(error)) await recordCredentialRefusal(connection, error);
      throw error;
    }
  }

  return { config: cfg, dynamo, db, sqs, vault, connections, failures, audit, ...repositories, queues, logger, metrics, withUpstream, prefetchCredentials, clientsFor };
}

let processDependencies: Dependencies | undefined;

/** The process-wide dependencies (Lambda module scope), built on first use. */
export function dependencies(): Dependencies {
  processDependencies ??= createDependencies(loadProcessConfig());
  return processDependencies;
}

/** Forget the process-wide dependencies (the local runtime re-reads env per start). */
export function resetDependencies(): void {
  processDependencies = undefined;
}
