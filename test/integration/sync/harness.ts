/**
 * Shared set-up for the sync and webhook integration tests, a preset of local/stack.ts: both
 * simulators, the deployed routes, this flow's workers (customer-sync, product-sync, backfill) with
 * short visibility timeouts, the exemptions and invoice-tax queues bound to a capturing consumer
 * (other flows' work: these tests only check what is routed there), and connections created
 * directly through the store + vault (plus a signed webhook policy registered in the Sequence
 * simulator), independent of the connect function.
 */
import http from 'node:http';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startPoller } from '../../../local/runtime/poller';
import { type SequenceSimulatorOptions } from '../../../local/sequence-sim/server';
import { type SphereSimulatorOptions } from '../../../local/sphere-sim/server';
import { SIM_DEFAULTS, type Stack, startStack, withVisibilityTimeout } from '../../../local/stack';
import { type Connection } from '../../../shared/domain/connection';
import { callSequenceApi, callSimulator } from '../../../local/sim-client';
import { type StoredConnection, storeConnection } from '../../support/connections';
import { useStack } from '../../support/use-stack';

export const SPHERE_KEY = SIM_DEFAULTS.sphereApiKey;

export type Harness = Stack;

export interface HarnessOptions {
  sequence?: SequenceSimulatorOptions;
  sphere?: SphereSimulatorOptions;
  /** Visibility timeout (= emulated function timeout) of the worker queues (short, so retries come quickly in tests). */
  visibilityTimeoutSeconds?: number;
  /** Same for the backfill queue (default: visibilityTimeoutSeconds). */
  backfillVisibilityTimeoutSeconds?: number;
  /** Emulated maxConcurrency of the sync queues (default 2, as deployed). */
  syncMaxConcurrency?: number;
}

const capture = () => import('../../fixtures/handlers/exemptions-capture');

export function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const visibility = options.visibilityTimeoutSeconds ?? 2;
  const maxConcurrency = options.syncMaxConcurrency ?? 2;
  return startStack({
    sequence: { webhookRetryDelaysMs: [100, 200], ...options.sequence },
    ...(options.sphere ? { sphere: options.sphere } : {}),
    queue: (q) => {
      const short = { ...withVisibilityTimeout(q, visibility), maxConcurrency };
      switch (q.queueName) {
        case 'backfill.fifo':
          return { ...withVisibilityTimeout(q, options.backfillVisibilityTimeoutSeconds ?? visibility), batchSize: 1, maxConcurrency: 2 };
        case 'exemptions.fifo':
          return { ...short, functionName: 'exemptions-capture', load: capture };
        case 'invoice-tax.fifo':
          return { ...short, functionName: 'invoice-tax-capture', load: capture };
        default:
          return short;
      }
    },
    runtime: { log: () => undefined },
  });
}

/** The harness for this test file: started before its tests, stopped after them. */
export function useHarness(options: HarnessOptions = {}): Harness {
  return useStack(() => startHarness(options));
}

export type TestConnection = StoredConnection;

/** A connection straight into the store + vault, with a webhook policy in the Sequence simulator (unless `policy: false`). */
export async function createConnection(h: Harness, options: { policy?: boolean; taxCodes?: Connection['taxCodes']; sphereBaseUrl?: string; sequenceBaseUrl?: string } = {}): Promise<TestConnection> {
  const { policy, ...overrides } = options;
  // One live connection per account: release any claim a previous test left.
  for (const previous of await h.deps.connections.list()) {
    if (previous.status !== 'DISCONNECTED') await h.deps.connections.setStatus(previous.id, 'DISCONNECTED');
  }
  const stored = await storeConnection(h, Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)));
  if (policy !== false) {
    await sequenceApi(h, 'POST', '/notifications/policies', { name: `connector ${stored.connection.id}`, channel: 'WEBHOOK', recipients: [stored.webhookUrl], webhookSecret: stored.webhookSecret, notificationTypes: ['CUSTOMER_CREATED', 'CUSTOMER_UPDATED', 'CUSTOMER_ARCHIVED'] });
  }
  return stored;
}

/** Sequence's public API on the simulator (Basic auth, Sequence-Version). */
export function sequenceApi<T = Record<string, unknown>>(h: Harness, method: string, apiPath: string, body?: unknown): Promise<T> {
  return callSequenceApi<T>(h.sequence, method, apiPath, body);
}

export const sim = callSimulator;

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
