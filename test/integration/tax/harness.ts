/**
 * Set-up for the invoice-tax integration tests: both simulators, the local runtime hosting the
 * calculate-invoice-tax and exemptions workers, the admin tax/failure routes (test-only handler,
 * bearer token) and the real webhook ingest; connections created directly through the store + vault.
 * Sequence data is seeded through the simulator's /_sim/seed and checked through its public API.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type HttpRoute, type LocalRuntime, type QueueBinding, startLocalRuntime } from '../../../local/runtime';
import { loadFauxqs } from '../../../local/runtime/esm';
import { SIM_SEQUENCE_ACCOUNT_ID, SIM_TAX_CATEGORY_IDS, type SequenceSimulator, startSequenceSimulator } from '../../../local/sequence-sim/server';
import { type SphereSimulator, startSphereSimulator } from '../../../local/sphere-sim/server';
import { type Connection, DEFAULT_OPTIONS, zeroCounts } from '../../../shared/domain/connection';
import { Decimal } from '../../../shared/domain/decimal';
import { loadConfig } from '../../../shared/runtime/config';
import { type Dependencies, createDependencies, flushAuditLog } from '../../../shared/runtime/dependencies';
import { MAX_RECEIVE_COUNT } from '../../../shared/runtime/catalogue';
import { callSequenceApi, callSimulator } from '../../../local/sim-client';
import { eventually } from '../../support/eventually';

export const SPHERE_KEY = 'sph_test_local';
export const CATEGORY = SIM_TAX_CATEGORY_IDS;
export const TAX_CODES = {
  default: 'txcd_10000000',
  byTaxCategory: { [CATEGORY.saas]: 'txcd_10103001', [CATEGORY.standard]: 'txcd_10000000', [CATEGORY.digitalServices]: 'txcd_10000000' },
};

export interface TaxHarness {
  runtime: LocalRuntime;
  sequence: SequenceSimulator;
  sphere: SphereSimulator;
  deps: Dependencies;
  connection: Connection;
  webhookSecret: string;
  stop(): Promise<void>;
}

export function taxRoutes(): HttpRoute[] {
  const admin = () => import('../../fixtures/handlers/admin-tax');
  return [
    { method: 'POST', path: '/connections/{id}/invoices/{invoiceId}/tax', auth: 'admin', functionName: 'admin-api', load: admin },
    { method: 'GET', path: '/connections/{id}/invoices/{invoiceId}/tax', auth: 'admin', functionName: 'admin-api', load: admin },
    { method: 'POST', path: '/connections/{id}/invoices/{invoiceId}/finalize', auth: 'admin', functionName: 'admin-api', load: admin },
    { method: 'GET', path: '/connections/{id}/failures', auth: 'admin', functionName: 'admin-api', load: admin },
    { method: 'POST', path: '/connections/{id}/failures/retry', auth: 'admin', functionName: 'admin-api', load: admin },
    // The per-connection audit log of upstream calls, read as an operator reads it.
    { method: 'GET', path: '/connections/{id}/audit', auth: 'admin', functionName: 'admin-api', load: () => import('../../fixtures/handlers/operations-admin') },
    { method: 'POST', path: '/webhooks/sequence/{connectionId}', auth: 'none', functionName: 'webhook-ingest', load: () => import('../../../functions/webhook-ingest/handler') },
  ];
}

/** `visibilityTimeoutSeconds`: 2 by default, so a failed message is retried soon; the stack's 720 to test the retry delays themselves. */
export function taxQueues(visibilityTimeoutSeconds = 2): QueueBinding[] {
  const common = { batchSize: 10, visibilityTimeoutSeconds, maxReceiveCount: MAX_RECEIVE_COUNT, maxConcurrency: 2 };
  return [
    { queueName: 'invoice-tax.fifo', dlqName: 'invoice-tax-dlq.fifo', functionName: 'calculate-invoice-tax', load: () => import('../../../functions/calculate-invoice-tax/handler'), ...common },
    { queueName: 'exemptions.fifo', dlqName: 'exemptions-dlq.fifo', functionName: 'exemptions', load: () => import('../../../functions/exemptions/handler'), ...common },
    // Webhook ingest routes customer notifications here; the sync flow's worker consumes them.
    { queueName: 'customer-sync.fifo', dlqName: 'customer-sync-dlq.fifo', functionName: 'sync-customer', load: () => import('../../../functions/sync-customer/handler'), ...common },
  ];
}

/** The product-sync worker, for tests whose failures or retries go through it (not hosted by default). */
export function productSyncQueue(): QueueBinding {
  return { queueName: 'product-sync.fifo', dlqName: 'product-sync-dlq.fifo', functionName: 'sync-product', load: () => import('../../../functions/sync-product/handler'), batchSize: 10, visibilityTimeoutSeconds: 2, maxReceiveCount: MAX_RECEIVE_COUNT, maxConcurrency: 2 };
}

export interface TaxHarnessOptions {
  connection?: Partial<Connection>;
  /** Replaces taxRoutes() (e.g. local/wiring.ts's routes, to reach the deployed connect handler). */
  routes?: HttpRoute[];
  /** Hosted in addition to taxQueues(). */
  extraQueues?: QueueBinding[];
  /** Extra environment for the hosted handlers. */
  env?: Record<string, string>;
  /** Override fields of taxQueues()'s bindings (e.g. a visibility timeout longer than a long calculation). */
  queueOverrides?: Partial<QueueBinding>;
  /** Visibility timeout of the hosted queues (default 2 s, see taxQueues). */
  visibilityTimeoutSeconds?: number;
}

export async function startTaxHarness(options: TaxHarnessOptions = {}): Promise<TaxHarness> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tax-it-'));
  // fauxqs hands out `sqs.<region>.localhost` queue URLs, which the AWS SDK then calls directly; not
  // every resolver maps *.localhost to 127.0.0.1, so map it for this process (as the connect tests do).
  const { interceptLocalhostDns } = await loadFauxqs();
  const restoreDns = interceptLocalhostDns();
  const sequence = await startSequenceSimulator({ port: 0, webhookRetryDelaysMs: [100, 200] });
  const sphere = await startSphereSimulator({ port: 0 });
  let runtime: LocalRuntime;
  try {
    runtime = await startLocalRuntime({ port: 0, dataDir, inMemory: true, routes: options.routes ?? taxRoutes(), queues: [...taxQueues(options.visibilityTimeoutSeconds).map((q) => ({ ...q, ...options.queueOverrides })), ...(options.extraQueues ?? [])], log: () => undefined, pollWaitSeconds: 1, ...(options.env ? { env: options.env } : {}) });
  } catch (error) {
    await sequence.stop();
    await sphere.stop();
    restoreDns();
    throw error;
  }
  const deps = createDependencies(loadConfig(process.env));
  const now = new Date().toISOString();
  const connection: Connection = {
    id: `conn_${randomUUID().replace(/-/g, '').slice(0, 16)}`,
    name: 'Tax test merchant',
    status: 'ACTIVE',
    environment: 'sandbox',
    sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID,
    sequenceBaseUrl: sequence.apiUrl,
    sphereBaseUrl: sphere.url,
    taxCodes: TAX_CODES,
    options: DEFAULT_OPTIONS,
    counts: zeroCounts(),
    backfill: { state: 'NOT_STARTED', done: 0, total: 0 },
    createdAt: now,
    updatedAt: now,
    ...options.connection,
  };
  const webhookSecret = `whsec_tax_${randomUUID().replace(/-/g, '')}`;
  await deps.connections.create(connection);
  await deps.vault.put(connection.id, {
    sequence: { clientId: sequence.clientId, clientSecret: sequence.clientSecret },
    sphere: { apiKey: SPHERE_KEY },
    webhookSigningSecret: webhookSecret,
  });
  return {
    runtime,
    sequence,
    sphere,
    deps,
    connection,
    webhookSecret,
    async stop() {
      // Audit-log writes run beside the flow: a test's last direct call may still be writing one.
      await flushAuditLog();
      await runtime.stop();
      await sequence.stop();
      await sphere.stop();
      deps.dynamo.destroy();
      deps.sqs.destroy();
      rmSync(dataDir, { recursive: true, force: true });
      restoreDns();
    },
  };
}

/** Register a signed webhook policy for the connection in the Sequence simulator. */
export async function registerWebhooks(h: TaxHarness, notificationTypes: string[]): Promise<string> {
  const policy = await sequenceApi<{ id: string }>(h, 'POST', '/notifications/policies', {
    name: `connector ${h.connection.id}`,
    channel: 'WEBHOOK',
    recipients: [`${h.runtime.url}/webhooks/sequence/${h.connection.id}`],
    webhookSecret: h.webhookSecret,
    notificationTypes,
  });
  return policy.id;
}

/** Sequence's public API on the simulator (Basic auth, Sequence-Version). */
export function sequenceApi<T = Record<string, unknown>>(h: TaxHarness, method: string, apiPath: string, body?: unknown): Promise<T> {
  return callSequenceApi<T>(h.sequence, method, apiPath, body);
}

export const sim = callSimulator;

export interface AdminResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** The connector's admin API through the local front door (bearer token). */
export async function admin<T = Record<string, unknown>>(h: TaxHarness, method: string, adminPath: string, body?: unknown): Promise<AdminResponse<T>> {
  const response = await fetch(`${h.runtime.url}${adminPath}`, {
    method,
    headers: { authorization: `Bearer ${h.runtime.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
}

export interface SeededInvoice {
  id: string;
  lineItemIds: string[];
  lineItemGroupIds: string[];
}
export interface SeedResult {
  customers: string[];
  products: string[];
  prices: string[];
  invoices: SeededInvoice[];
}

export async function seed(h: TaxHarness, body: Record<string, unknown>): Promise<SeedResult> {
  return sim<SeedResult>(h.sequence.url, 'POST', '/_sim/seed', body);
}

export function customerBody(legalName: string, address: Record<string, string>, taxStatus = 'TAXED'): Record<string, unknown> {
  return {
    legalName,
    address,
    contacts: [{ name: 'Billing', email: `billing+${legalName.replace(/\W/g, '').toLowerCase()}@example.com`, billingPreference: 'PRIMARY' }],
    taxStatus,
  };
}

/** What a merchant does in Sequence's UI: change a customer's tax status (a full PUT keeping its contacts and integration ids). */
export async function setCustomerTaxStatus(h: TaxHarness, customerId: string, taxStatus: string): Promise<void> {
  const current = await sequenceApi<{ legalName: string; address: Record<string, string>; contacts: Record<string, unknown>[]; integrationIds: Record<string, unknown>[] }>(h, 'GET', `/customers/${customerId}`);
  const address = Object.fromEntries(Object.entries(current.address).filter(([, v]) => v !== null));
  await sequenceApi(h, 'PUT', `/customers/${customerId}`, {
    ...customerBody(current.legalName, address, taxStatus),
    contacts: current.contacts.map((c) => ({ name: c.name, email: c.email, billingPreference: c.billingPreference })),
    integrationIds: current.integrationIds.map((i) => ({ service: i.service, id: i.id })),
  });
}

/** A FIXED monthly price for product `$products[i]` in `currency`. */
export function priceBody(productRef: string, currency: string): Record<string, unknown> {
  return { productId: productRef, name: 'Monthly', currency, structure: { pricingType: 'FIXED', price: '1.00' }, billingFrequency: 'MONTHLY', billingType: 'IN_ADVANCE' };
}

export interface SequenceLine {
  id: string;
  netTotal: string;
  totalTax: string;
  taxRate: string;
  productId?: string;
}
export interface SequenceInvoice {
  id: string;
  status: string;
  totalTax: string;
  netTotal: string;
  grossTotal: string;
  metadata: { key: string; value: string }[];
}

export async function invoiceLines(h: TaxHarness, invoiceId: string): Promise<SequenceLine[]> {
  const out: SequenceLine[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await sequenceApi<{ items: SequenceLine[]; pagination: { after?: string } }>(h, 'GET', `/invoices/${invoiceId}/line-items?limit=100${after ? `&after=${after}` : ''}`);
    out.push(...page.items);
    if (!page.pagination.after) return out;
    after = page.pagination.after;
  }
}

export async function getInvoice(h: TaxHarness, invoiceId: string): Promise<SequenceInvoice> {
  return sequenceApi<SequenceInvoice>(h, 'GET', `/invoices/${invoiceId}`);
}

export interface SequenceRequest {
  method: string;
  path: string;
  status: number;
}
export async function sequenceRequests(h: TaxHarness): Promise<SequenceRequest[]> {
  return (await sim<{ items: SequenceRequest[] }>(h.sequence.url, 'GET', '/_sim/requests')).items;
}
export async function sphereRequests(h: TaxHarness): Promise<{ method: string; path: string; status: number }[]> {
  return (await sim<{ requests: { method: string; path: string; status: number }[] }>(h.sphere.url, 'GET', '/_sim/requests')).requests;
}

export interface SphereTransactionWire {
  external_id: string;
  type: string;
  status: string;
  original_transaction_id?: string | null;
  currency: string;
  line_items: { product_id: string; amount: string; tax?: string | null }[];
  tax?: string | null;
}
export async function sphereTransactions(h: TaxHarness): Promise<SphereTransactionWire[]> {
  return (await sim<{ transactions: SphereTransactionWire[] }>(h.sphere.url, 'GET', '/_sim/state')).transactions;
}

/** Sphere's per-entry rule, for expected values computed independently of the connector. */
export function sphereEntry(netMinor: number, percentage: string): number {
  return new Decimal(netMinor).times(percentage).dividedBy(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}

/** `eventually` with this suite's positional timeout/interval (20 s, every 100 ms). */
export function waitFor<T>(what: string, probe: () => Promise<T> | T, timeoutMs = 20_000, everyMs = 100) {
  return eventually(what, probe, { timeoutMs, everyMs });
}

/** Every webhook delivered and every queue drained (a few rounds: work produces webhooks produces work). */
export async function settle(h: TaxHarness, rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await h.sequence.webhooksIdle();
    await h.runtime.drain({ timeoutMs: 30_000 });
  }
}
