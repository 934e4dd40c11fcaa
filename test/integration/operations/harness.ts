/**
 * Operations harness: the local runtime hosting the operations admin routes (audit, DLQ list,
 * redrive) and one connector queue (`invoice-tax.fifo`, so its URLs land in INVOICE_TAX_QUEUE_URL /
 * INVOICE_TAX_DLQ_URL as on AWS) bound to a worker whose failure the test can switch off.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type HttpRoute, type LocalRuntime, type QueueBinding, startLocalRuntime } from '../../../local/runtime';
import { loadFauxqs } from '../../../local/runtime/esm';
import { type Connection, DEFAULT_OPTIONS, zeroCounts } from '../../../shared/domain/connection';
import { type Dependencies, dependencies, resetDependencies } from '../../../shared/runtime/dependencies';

const loadAdmin = () => import('../../fixtures/handlers/operations-admin');

export const OPERATIONS_ROUTES: HttpRoute[] = [
  { method: 'GET', path: '/connections/{id}/audit', auth: 'admin', functionName: 'admin-api', load: loadAdmin },
  { method: 'GET', path: '/dlq', auth: 'admin', functionName: 'admin-api', load: loadAdmin },
  { method: 'POST', path: '/dlq/{queue}/redrive', auth: 'admin', functionName: 'admin-api', load: loadAdmin },
];

export const SWITCHABLE_BINDING: QueueBinding = {
  queueName: 'invoice-tax.fifo',
  dlqName: 'invoice-tax-dlq.fifo',
  functionName: 'calculate-invoice-tax',
  load: () => import('../../fixtures/handlers/sqs-switchable'),
  batchSize: 10,
  visibilityTimeoutSeconds: 1,
  maxReceiveCount: 2,
  maxConcurrency: 2,
};

export const ADMIN_TOKEN = 'operations-test-admin-token';

export interface AdminAnswer {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

export interface OperationsStack {
  runtime: LocalRuntime;
  deps: Dependencies;
  admin: (method: string, path: string, token?: string | null) => Promise<AdminAnswer>;
  stop: () => Promise<void>;
}

export async function startOperationsStack(options: { routes?: HttpRoute[]; queues?: QueueBinding[] } = {}): Promise<OperationsStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'operations-'));
  resetDependencies();
  const runtime = await startLocalRuntime({
    port: 0,
    dataDir,
    inMemory: true,
    routes: options.routes ?? OPERATIONS_ROUTES,
    queues: options.queues ?? [SWITCHABLE_BINDING],
    adminToken: ADMIN_TOKEN,
    log: () => undefined,
    pollWaitSeconds: 1,
  });
  // fauxqs queue URLs use the host sqs.<region>.localhost; resolve *.localhost to 127.0.0.1 in this
  // process while the stack runs (same work-around as the connect harness).
  const { interceptLocalhostDns } = await loadFauxqs();
  const restoreDns = interceptLocalhostDns();
  const deps = dependencies();

  const admin: OperationsStack['admin'] = async (method, urlPath, token = ADMIN_TOKEN) => {
    const response = await fetch(`${runtime.url}${urlPath}`, { method, headers: token !== null ? { authorization: `Bearer ${token}` } : {} });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      json = {};
    }
    return { status: response.status, text, json };
  };

  return {
    runtime,
    deps,
    admin,
    stop: async () => {
      await runtime.stop();
      restoreDns();
      resetDependencies();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A connection record written straight to the store (no upstream calls needed for these routes). */
export function testConnection(id: string, overrides: Partial<Connection> = {}): Connection {
  const now = new Date().toISOString();
  return {
    id,
    name: `Test ${id}`,
    status: 'ACTIVE',
    environment: 'sandbox',
    sequenceAccountId: `acct-${id}`,
    sequenceBaseUrl: 'http://127.0.0.1:1/api',
    sphereBaseUrl: 'http://127.0.0.1:1',
    taxCodes: { default: 'SaaS', byTaxCategory: {} },
    options: DEFAULT_OPTIONS,
    counts: zeroCounts(),
    backfill: { state: 'NOT_STARTED', done: 0, total: 0 },
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

