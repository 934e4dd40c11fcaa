/**
 * The one list of what `npm start` hosts: HTTP routes (API Gateway HTTP API) and SQS queue
 * bindings (Lambda event source mappings). Keep it in step with the CDK stack (lib/): same
 * route keys, function names, queue names, batch sizes, visibility timeouts, maxReceiveCount and
 * maximum concurrency.
 *
 * Handlers are imported lazily (`load`), after the runtime has put the emulator endpoints, table
 * names and queue URLs in process.env: handlers build their clients at module scope. A queue's
 * URL is exported as `<NAME>_QUEUE_URL` (`invoice-tax.fifo` → `INVOICE_TAX_QUEUE_URL`) and its
 * DLQ's as `<NAME>_DLQ_URL`; set `envVar` on the binding to choose another name.
 */
import { MAX_RECEIVE_COUNT } from '../shared/runtime/queue-messages';
import type { HttpRoute, QueueBinding } from './runtime/types';

const connect = () => import('../functions/connect/handler');

/** Admin routes all go to the one `connect` function, as in the stack (IAM there, bearer token here). */
const adminRoutes: [method: string, path: string][] = [
  ['POST', '/connections'],
  ['POST', '/connections/test-credentials'],
  ['GET', '/connections'],
  ['GET', '/connections/{id}'],
  ['PATCH', '/connections/{id}'],
  ['DELETE', '/connections/{id}'],
  ['POST', '/connections/{id}/test'],
  ['POST', '/connections/{id}/backfill'],
  ['POST', '/connections/{id}/invoices/{invoiceId}/tax'],
  ['GET', '/connections/{id}/invoices/{invoiceId}/tax'],
  ['POST', '/connections/{id}/invoices/{invoiceId}/finalize'],
  ['GET', '/connections/{id}/failures'],
  ['POST', '/connections/{id}/failures/retry'],
  ['GET', '/connections/{id}/audit'],
  ['GET', '/connections/{id}/records'],
  ['GET', '/dlq'],
  ['POST', '/dlq/{queue}/redrive'],
];

export const routes: HttpRoute[] = [
  { method: 'POST', path: '/webhooks/sequence/{connectionId}', auth: 'none', functionName: 'webhook-ingest', load: () => import('../functions/webhook-ingest/handler'), timeoutSeconds: 10 },
  ...adminRoutes.map(([method, path]): HttpRoute => ({ method, path, auth: 'admin', functionName: 'connect', load: connect })),
];

/** Same batch sizes, timeouts, visibility (6 × timeout), maxReceiveCount and concurrency as the stack. */
export const queues: QueueBinding[] = [
  { queueName: 'customer-sync.fifo', dlqName: 'customer-sync-dlq.fifo', functionName: 'sync-customer', load: () => import('../functions/sync-customer/handler'), batchSize: 10, visibilityTimeoutSeconds: 360, timeoutSeconds: 60, maxReceiveCount: MAX_RECEIVE_COUNT, maxConcurrency: 2 },
  { queueName: 'product-sync.fifo', dlqName: 'product-sync-dlq.fifo', functionName: 'sync-product', load: () => import('../functions/sync-product/handler'), batchSize: 10, visibilityTimeoutSeconds: 360, timeoutSeconds: 60, maxReceiveCount: MAX_RECEIVE_COUNT, maxConcurrency: 2 },
  { queueName: 'backfill.fifo', dlqName: 'backfill-dlq.fifo', functionName: 'backfill', load: () => import('../functions/backfill/handler'), batchSize: 10, visibilityTimeoutSeconds: 360, timeoutSeconds: 60, maxReceiveCount: MAX_RECEIVE_COUNT, maxConcurrency: 2 },
  { queueName: 'invoice-tax.fifo', dlqName: 'invoice-tax-dlq.fifo', functionName: 'calculate-invoice-tax', load: () => import('../functions/calculate-invoice-tax/handler'), batchSize: 10, visibilityTimeoutSeconds: 720, timeoutSeconds: 120, maxReceiveCount: MAX_RECEIVE_COUNT, maxConcurrency: 2 },
  { queueName: 'exemptions.fifo', dlqName: 'exemptions-dlq.fifo', functionName: 'exemptions', load: () => import('../functions/exemptions/handler'), batchSize: 10, visibilityTimeoutSeconds: 360, timeoutSeconds: 60, maxReceiveCount: MAX_RECEIVE_COUNT, maxConcurrency: 2 },
];
