/**
 * The connector's catalogue: its queues (with the function consuming each), its HTTP routes and
 * the custom metrics it emits. The CDK stack (lib/), the local runtime's wiring (local/wiring.ts)
 * and the function configuration (config.ts) all read these constants, so the local twin and AWS
 * cannot drift; test/infra/catalogue.test.ts checks the synthesized stack against them. The table
 * key schema lives beside the keys themselves (shared/store/keys.ts: CONNECTOR_TABLE).
 *
 * No AWS SDK or CDK import: the Lambda bundles and the stack read the same module.
 */
import * as z from 'zod';
import { type CounterName } from '../domain/connection';
import { BackfillMessage, CreditNoteMessage, CustomerSyncMessage, ExemptionChangedMessage, InvoiceMessage, ProductSyncMessage } from './queue-messages';

/**
 * Receives before SQS moves a message to its DLQ; the stack and the local runtime both use it.
 * At least 5, so a short throttle does not dead-letter a good message (AWS guidance).
 */
export const MAX_RECEIVE_COUNT = 5;
/** Lambda docs: a queue's visibility timeout ≥ 6 × its consumer function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

interface QueueEntry {
  /** Base name: the FIFO queue is `<prefix>-<name>.fifo` on AWS (`<name>.fifo` locally), its DLQ `…-dlq.fifo`. */
  name: string;
  /** Environment variable holding the queue's URL in every function that sends to or reads from it. */
  envVar: string;
  /** Environment variable holding its dead-letter queue's URL. */
  dlqEnvVar: string;
  /** What a message on this queue must parse as (producers and the worker). */
  schema: z.ZodType;
  /** The function its event source mapping invokes. */
  functionName: string;
  /** Messages per invocation (FIFO: 1–10). */
  batchSize: number;
  /** The consumer's Lambda timeout; the queue's visibility timeout is VISIBILITY_TIMEOUT_FACTOR × this. */
  timeoutSeconds: number;
  /** Event source mapping maximum concurrency: the cap on parallel calls downstream. */
  maxConcurrency: number;
}

/**
 * Logical queues. Concurrency is low on purpose: each Lambda instance has its own per-key rate
 * bucket, so concurrency multiplies the upstream rate. Workers get 60 s (a batch of 10 paced Sphere
 * writes fits easily); calculate-invoice-tax 120 s, since a 130-line invoice is ~130 sequential PUTs.
 */
export const QUEUES = {
  customerSync: {
    name: 'customer-sync',
    envVar: 'CUSTOMER_SYNC_QUEUE_URL',
    dlqEnvVar: 'CUSTOMER_SYNC_DLQ_URL',
    schema: CustomerSyncMessage,
    functionName: 'sync-customer',
    batchSize: 10,
    timeoutSeconds: 60,
    maxConcurrency: 2,
  },
  productSync: {
    name: 'product-sync',
    envVar: 'PRODUCT_SYNC_QUEUE_URL',
    dlqEnvVar: 'PRODUCT_SYNC_DLQ_URL',
    schema: ProductSyncMessage,
    functionName: 'sync-product',
    batchSize: 10,
    timeoutSeconds: 60,
    maxConcurrency: 2,
  },
  invoiceTax: {
    name: 'invoice-tax',
    envVar: 'INVOICE_TAX_QUEUE_URL',
    dlqEnvVar: 'INVOICE_TAX_DLQ_URL',
    schema: z.discriminatedUnion('kind', [InvoiceMessage, CreditNoteMessage]),
    functionName: 'calculate-invoice-tax',
    batchSize: 10,
    timeoutSeconds: 120,
    maxConcurrency: 2,
  },
  exemptions: {
    name: 'exemptions',
    envVar: 'EXEMPTIONS_QUEUE_URL',
    dlqEnvVar: 'EXEMPTIONS_DLQ_URL',
    schema: ExemptionChangedMessage,
    functionName: 'exemptions',
    batchSize: 10,
    timeoutSeconds: 60,
    maxConcurrency: 2,
  },
  backfill: {
    name: 'backfill',
    envVar: 'BACKFILL_QUEUE_URL',
    dlqEnvVar: 'BACKFILL_DLQ_URL',
    schema: BackfillMessage,
    functionName: 'backfill',
    batchSize: 10,
    timeoutSeconds: 60,
    maxConcurrency: 2,
  },
} as const satisfies Record<string, QueueEntry>;

export type QueueKey = keyof typeof QUEUES;
export type QueueMessage<K extends QueueKey> = z.infer<(typeof QUEUES)[K]['schema']>;
export const QUEUE_KEYS = Object.keys(QUEUES) as QueueKey[];

export type RouteMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** A route key as the HTTP API writes it: method and path template (`/connections/{id}`). */
export interface RouteKey {
  readonly method: RouteMethod;
  readonly path: string;
}

/**
 * The one public route: Sequence's webhooks, authenticated by HMAC in the function (Sequence cannot
 * sign with IAM), with their own route-level throttle. The function answers in milliseconds.
 */
export const WEBHOOK_ROUTE = { method: 'POST', path: '/webhooks/sequence/{connectionId}', functionName: 'webhook-ingest', timeoutSeconds: 10 } as const satisfies RouteKey & {
  functionName: string;
  timeoutSeconds: number;
};

/** Every admin route goes to this one function (functions/admin-api/handler.ts routes by path). */
export const ADMIN_FUNCTION_NAME = 'admin-api';

/**
 * The admin API (§5.1), IAM-authorised on AWS and bearer-token-authorised locally, grouped by
 * what registers them in the stack: the connection routes with the admin function (AdminApi),
 * the invoice tax and failure routes with the invoice-tax flow's grants, the operations routes with
 * the queue grants (addOperationsRoutes).
 */
export const ADMIN_ROUTES = {
  /** Connection lifecycle, the console's credential check and the synced records. */
  connections: [
    { method: 'POST', path: '/connections' },
    { method: 'POST', path: '/connections/test-credentials' },
    { method: 'GET', path: '/connections' },
    { method: 'GET', path: '/connections/{id}' },
    { method: 'PATCH', path: '/connections/{id}' },
    { method: 'DELETE', path: '/connections/{id}' },
    { method: 'POST', path: '/connections/{id}/test' },
    { method: 'POST', path: '/connections/{id}/backfill' },
    { method: 'GET', path: '/connections/{id}/records' },
  ],
  /** Invoice tax (functions/admin-api/invoice-routes.ts) and failures (failure-routes.ts). */
  invoiceTax: [
    { method: 'POST', path: '/connections/{id}/invoices/{invoiceId}/tax' },
    { method: 'GET', path: '/connections/{id}/invoices/{invoiceId}/tax' },
    { method: 'POST', path: '/connections/{id}/invoices/{invoiceId}/finalize' },
    { method: 'GET', path: '/connections/{id}/failures' },
    { method: 'POST', path: '/connections/{id}/failures/retry' },
  ],
  /** Audit log and DLQ redrive (functions/admin-api/operations-routes.ts). */
  operations: [
    { method: 'GET', path: '/connections/{id}/audit' },
    { method: 'GET', path: '/dlq' },
    { method: 'POST', path: '/dlq/{queue}/redrive' },
  ],
} as const satisfies Record<string, readonly RouteKey[]>;

export const ALL_ADMIN_ROUTES: readonly RouteKey[] = Object.values(ADMIN_ROUTES).flat();

/**
 * Custom metrics (Powertools EMF, dimension `service`): every `addMetric` call and every alarm and
 * dashboard widget (lib/constructs/operations.ts) names a metric through this table.
 */
export const METRICS = {
  /** A failure record was written (alarmed); also per `connectionId`. */
  failures: 'Failures',
  /** The same, dimension `code`. */
  failuresByCode: 'FailuresByCode',
  /** A queued message no longer parses and was moved to the DLQ. */
  unparseableMessages: 'UnparseableMessages',
  /** A failed message could not be given its retry delay; it waits out the visibility timeout. */
  retryDelayNotSet: 'RetryDelayNotSet',
  /** Milliseconds from queueing to done, dimension `queue`. */
  syncLag: 'SyncLag',
  webhookAccepted: 'WebhookAccepted',
  webhookDuplicate: 'WebhookDuplicate',
  webhookIgnored: 'WebhookIgnored',
  webhookRejected: 'WebhookRejected',
  reconcileCustomersQueued: 'ReconcileCustomersQueued',
  reconcileProductsQueued: 'ReconcileProductsQueued',
  reconcileInvoicesQueued: 'ReconcileInvoicesQueued',
  invoicesTaxed: 'InvoicesTaxed',
  customersSynced: 'CustomersSynced',
  productsSynced: 'ProductsSynced',
  transactionsRecorded: 'TransactionsRecorded',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];

/** The connection counters mirrored as metrics (`failures` has its own, METRICS.failures with dimensions). */
export const COUNTER_METRICS = {
  customersSynced: METRICS.customersSynced,
  productsSynced: METRICS.productsSynced,
  invoicesTaxed: METRICS.invoicesTaxed,
  transactionsRecorded: METRICS.transactionsRecorded,
} as const satisfies Record<Exclude<CounterName, 'failures'>, MetricName>;
