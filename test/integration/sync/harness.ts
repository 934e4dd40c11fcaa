/**
 * Shared set-up for the sync and webhook integration tests: both simulators, the local runtime
 * with this flow's route and queues, and connections created directly through the store + vault
 * (plus a signed webhook policy registered in the Sequence simulator), independent of the connect
 * function. Everything talks over HTTP / the AWS SDK against the emulators.
 */
import dns from 'node:dns';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startLocalRuntime, type LocalRuntime, type QueueBinding, type HttpRoute } from '../../../local/runtime';
import { startPoller } from '../../../local/runtime/poller';
import { startSequenceSimulator, SIM_SEQUENCE_ACCOUNT_ID, type SequenceSimulator, type SequenceSimulatorOptions } from '../../../local/sequence-sim/server';
import { startSphereSimulator, type SphereSimulator, type SphereSimulatorOptions } from '../../../local/sphere-sim/server';
import { type Connection, DEFAULT_OPTIONS, zeroCounts } from '../../../shared/domain/connection';
import { loadConfig } from '../../../shared/runtime/config';
import { type Dependencies, createDependencies } from '../../../shared/runtime/dependencies';
import { MAX_RECEIVE_COUNT } from '../../../shared/runtime/catalogue';
import { callSequenceApi, callSimulator } from '../../../local/sim-client';
import { eventually } from '../../support/eventually';

export const SPHERE_KEY = 'sph_test_local';

/** A code of the Sphere simulator's catalogue (the connector has no built-in default tax code). */
export const SIM_DEFAULT_TAX_CODE = 'txcd_10000000';

/**
 * fauxqs hands out queue URLs on `sqs.<region>.localhost`, and the SQS SDK sends to the QueueUrl's
 * host unless the client was built with an explicit `endpoint` (dependencies.ts builds it from
 * AWS_ENDPOINT_URL_SQS, which does not count). RFC 6761 says `*.localhost` is loopback, but this
 * machine's resolver does not know that: resolve those names to localhost here, for the test
 * process only (the handlers run in it).
 */
function resolveDotLocalhost(): void {
  const marker = Symbol.for('sync-harness.dns-localhost');
  const registry = dns as unknown as Record<symbol, boolean>;
  if (registry[marker]) return;
  registry[marker] = true;
  const original = dns.lookup.bind(dns) as (...args: unknown[]) => unknown;
  (dns as unknown as { lookup: (...args: unknown[]) => unknown }).lookup = (hostname: unknown, ...rest: unknown[]) =>
    original(typeof hostname === 'string' && /\.localhost$/i.test(hostname) ? 'localhost' : hostname, ...rest);
}
resolveDotLocalhost();

export interface Harness {
  runtime: LocalRuntime;
  sequence: SequenceSimulator;
  sphere: SphereSimulator;
  deps: Dependencies;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  sequence?: SequenceSimulatorOptions;
  sphere?: SphereSimulatorOptions;
  /** Visibility timeout (= emulated function timeout) of the worker queues (short, so retries come quickly in tests). */
  visibilityTimeoutSeconds?: number;
  /** Same for the backfill queue (default: visibilityTimeoutSeconds). */
  backfillVisibilityTimeoutSeconds?: number;
  /** Emulated maxConcurrency of the sync queues (default 2, as deployed). */
  syncMaxConcurrency?: number;
  /** Also host the connect function's admin routes (bearer token `ADMIN_TOKEN`), for flows driven through the admin API. */
  adminRoutes?: boolean;
}

export const ADMIN_TOKEN = 'sync-test-admin-token';

export function routes(): HttpRoute[] {
  return [{ method: 'POST', path: '/webhooks/sequence/{connectionId}', auth: 'none', functionName: 'webhook-ingest', load: () => import('../../../functions/webhook-ingest/handler') }];
}

export function queues(visibilityTimeoutSeconds: number, backfillVisibilityTimeoutSeconds = visibilityTimeoutSeconds, syncMaxConcurrency = 2): QueueBinding[] {
  const common = { batchSize: 10, visibilityTimeoutSeconds, maxReceiveCount: MAX_RECEIVE_COUNT, maxConcurrency: syncMaxConcurrency };
  return [
    { queueName: 'customer-sync.fifo', dlqName: 'customer-sync-dlq.fifo', functionName: 'sync-customer', load: () => import('../../../functions/sync-customer/handler'), ...common },
    { queueName: 'product-sync.fifo', dlqName: 'product-sync-dlq.fifo', functionName: 'sync-product', load: () => import('../../../functions/sync-product/handler'), ...common },
    { queueName: 'backfill.fifo', dlqName: 'backfill-dlq.fifo', functionName: 'backfill', load: () => import('../../../functions/backfill/handler'), ...common, batchSize: 1, maxConcurrency: 2, visibilityTimeoutSeconds: backfillVisibilityTimeoutSeconds },
    { queueName: 'exemptions.fifo', dlqName: 'exemptions-dlq.fifo', functionName: 'exemptions-capture', load: () => import('../../fixtures/handlers/exemptions-capture'), ...common },
    // The invoice-tax consumer is another flow's; webhook tests only check that invoices are routed there.
    { queueName: 'invoice-tax.fifo', dlqName: 'invoice-tax-dlq.fifo', functionName: 'invoice-tax-capture', load: () => import('../../fixtures/handlers/exemptions-capture'), ...common },
  ];
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sync-it-'));
  const sequence = await startSequenceSimulator({ port: 0, webhookRetryDelaysMs: [100, 200], ...options.sequence });
  const sphere = await startSphereSimulator({ port: 0, ...options.sphere });
  let runtime: LocalRuntime;
  try {
    runtime = await startLocalRuntime({
      port: 0,
      dataDir,
      inMemory: true,
      routes: options.adminRoutes ? [...routes(), ...(await import('../connections/harness')).CONNECT_ROUTES] : routes(),
      queues: queues(options.visibilityTimeoutSeconds ?? 2, options.backfillVisibilityTimeoutSeconds, options.syncMaxConcurrency),
      adminToken: ADMIN_TOKEN,
      log: () => undefined,
      pollWaitSeconds: 1,
    });
  } catch (error) {
    await sequence.stop();
    await sphere.stop();
    throw error;
  }
  const deps = createDependencies(loadConfig(process.env));
  return {
    runtime,
    sequence,
    sphere,
    deps,
    async stop() {
      await runtime.stop();
      await sequence.stop();
      await sphere.stop();
      deps.dynamo.destroy();
      deps.sqs.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestConnection {
  connection: Connection;
  webhookSecret: string;
  webhookUrl: string;
}

/** A connection straight into the store + vault, with a webhook policy in the Sequence simulator (unless `policy: false`). */
export async function createConnection(h: Harness, options: { policy?: boolean; taxCodes?: Connection['taxCodes']; sphereBaseUrl?: string; sequenceBaseUrl?: string } = {}): Promise<TestConnection> {
  const id = `conn_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const now = new Date().toISOString();
  const connection: Connection = {
    id,
    name: 'Test merchant',
    status: 'ACTIVE',
    environment: 'sandbox',
    sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID,
    sequenceBaseUrl: options.sequenceBaseUrl ?? h.sequence.apiUrl,
    sphereBaseUrl: options.sphereBaseUrl ?? h.sphere.url,
    taxCodes: options.taxCodes ?? { default: SIM_DEFAULT_TAX_CODE, byTaxCategory: {} },
    options: DEFAULT_OPTIONS,
    counts: zeroCounts(),
    backfill: { state: 'NOT_STARTED', done: 0, total: 0 },
    createdAt: now,
    updatedAt: now,
  };
  // One live connection per account: release any claim a previous test left.
  const webhookSecret = `whsec_test_${randomUUID().replace(/-/g, '')}`;
  for (const previous of await h.deps.connections.list()) {
    if (previous.status !== 'DISCONNECTED') await h.deps.connections.setStatus(previous.id, 'DISCONNECTED');
  }
  await h.deps.connections.create(connection);
  await h.deps.vault.put(id, { sequence: { clientId: h.sequence.clientId, clientSecret: h.sequence.clientSecret }, sphere: { apiKey: SPHERE_KEY }, webhookSigningSecret: webhookSecret });
  const webhookUrl = `${h.runtime.url}/webhooks/sequence/${id}`;
  if (options.policy !== false) {
    await sequenceApi(h, 'POST', '/notifications/policies', { name: `connector ${id}`, channel: 'WEBHOOK', recipients: [webhookUrl], webhookSecret, notificationTypes: ['CUSTOMER_CREATED', 'CUSTOMER_UPDATED', 'CUSTOMER_ARCHIVED'] });
  }
  return { connection, webhookSecret, webhookUrl };
}

/** Sequence's public API on the simulator (Basic auth, Sequence-Version). */
export function sequenceApi<T = Record<string, unknown>>(h: Harness, method: string, apiPath: string, body?: unknown): Promise<T> {
  return callSequenceApi<T>(h.sequence, method, apiPath, body);
}

export const sim = callSimulator;

/** The admin API through the front door, with the harness's bearer token (needs `adminRoutes`). */
export async function admin(h: Harness, method: string, urlPath: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${h.runtime.url}${urlPath}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/**
 * Stop the worker of one queue (its event source mapping disabled, or every instance gone) so
 * messages wait in the queue; `resume()` starts a fresh poller for it, replacing the stopped one
 * in `h.runtime.pollers` (so drain/stop cover it).
 */
export async function pauseWorker(h: Harness, queueName: string): Promise<{ resume(): void }> {
  const index = h.runtime.pollers.findIndex((p) => p.binding.queueName === queueName);
  const stopped = h.runtime.pollers[index]!;
  await stopped.stop();
  return {
    resume() {
      const region = process.env.AWS_REGION ?? 'eu-west-1';
      const binding = stopped.binding;
      h.runtime.pollers[index] = startPoller({ binding, client: h.runtime.sqs.client, queueUrl: h.runtime.queueUrls[queueName]!, queueArn: h.runtime.queueArns[queueName]!, region, log: () => undefined, waitTimeSeconds: 1 });
    },
  };
}

/** Messages waiting in a queue (visible, in flight or delayed). */
export async function queueDepth(h: Harness, queueName: string): Promise<number> {
  const { Attributes } = await h.runtime.sqs.client.send(
    new GetQueueAttributesCommand({ QueueUrl: h.runtime.queueUrls[queueName]!, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
  );
  return ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'].reduce((n, k) => n + Number((Attributes as Record<string, string> | undefined)?.[k] ?? 0), 0);
}

export interface SphereRequestRecord {
  method: string;
  path: string;
  status: number;
  time: string;
}

export async function sphereRequests(h: Harness): Promise<SphereRequestRecord[]> {
  return (await sim<{ requests: SphereRequestRecord[] }>(h.sphere.url, 'GET', '/_sim/requests')).requests;
}

export async function sphereState(h: Harness): Promise<{ customers: Record<string, unknown>[]; products: Record<string, unknown>[] }> {
  return sim(h.sphere.url, 'GET', '/_sim/state');
}

export function customerBody(legalName: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    legalName,
    address: { line1: '1 Market St', town: 'San Francisco', state: 'CA', postcode: '94105', country: 'US' },
    contacts: [{ name: 'Billing', email: `billing+${legalName.replace(/\W/g, '').toLowerCase()}@example.com`, billingPreference: 'PRIMARY' }],
    taxStatus: 'TAXED',
    ...overrides,
  };
}

/** `eventually` with this suite's positional timeout/interval (20 s, every 100 ms). */
export function waitFor<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 20_000, everyMs = 100) {
  return eventually(what, probe, { timeoutMs, everyMs });
}

/** Wait until every queue is empty and the Sequence simulator has delivered every webhook. */
export async function settle(h: Harness, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; round < 3; round++) {
    await h.sequence.webhooksIdle();
    await h.runtime.drain({ timeoutMs: Math.max(1000, deadline - Date.now()) });
  }
}

export async function dlqBodies(h: Harness, dlqName: string): Promise<{ body: string; reason?: string }[]> {
  const { Messages } = await h.runtime.sqs.client.send(
    new ReceiveMessageCommand({ QueueUrl: h.runtime.queueUrls[dlqName]!, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }),
  );
  return (Messages ?? []).map((m) => ({ body: m.Body ?? '', ...(m.MessageAttributes?.connectorRejectReason?.StringValue ? { reason: m.MessageAttributes.connectorRejectReason.StringValue } : {}) }));
}

export interface InterceptedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  body: Buffer;
}

/**
 * A pass-through proxy in front of a simulator; `intercept` may answer a request itself instead
 * (a fault the simulator cannot scope to one call, like "only this page read fails").
 */
export async function startInterceptingProxy(
  target: string,
  intercept: (req: InterceptedRequest) => { status: number; body: unknown } | undefined,
): Promise<{ url: string; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const answer = intercept({ method: req.method ?? 'GET', url: req.url ?? '/', body });
      if (answer) {
        const reply = JSON.stringify(answer.body);
        res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(reply) });
        res.end(reply);
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      void fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers, ...(body.length > 0 ? { body } : {}) }).then(
        async (r) => {
          const text = Buffer.from(await r.arrayBuffer());
          const out: Record<string, string> = {};
          r.headers.forEach((v, k) => {
            if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
          });
          res.writeHead(r.status, { ...out, 'content-length': String(text.length) });
          res.end(text);
        },
        () => {
          res.writeHead(502);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A proxy in front of the Sphere simulator that answers `POST /v1/customers` for a billing address
 * with postal code "00000" (the simulator's own unresolvable-address sentinel) the way Sphere
 * reports an address it cannot use: 400 `customer_tax_location_invalid`. The simulator only
 * validates addresses in calculate_tax and finalised transactions, not on customer upserts.
 */
export function startAddressCheckingSphereProxy(target: string): Promise<{ url: string; stop(): Promise<void> }> {
  return startInterceptingProxy(target, (req) => {
    if (req.method !== 'POST' || req.url !== '/v1/customers') return undefined;
    try {
      const parsed = JSON.parse(req.body.toString('utf8')) as { billing_address?: { postal_code?: string } };
      if (parsed.billing_address?.postal_code !== '00000') return undefined;
    } catch {
      return undefined; // not JSON: let the simulator answer
    }
    return { status: 400, body: { type: 'api_error', code: 'customer_tax_location_invalid', message: "Postal code '00000' could not be resolved to a tax jurisdiction." } };
  });
}
