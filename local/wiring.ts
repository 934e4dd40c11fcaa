/**
 * The one list of what `npm start` hosts: HTTP routes (API Gateway HTTP API) and SQS queue
 * bindings (Lambda event source mappings). Keep it in step with the CDK stack (lib/): same
 * route keys, function names, queue names, batch sizes, visibility timeouts, maxReceiveCount and
 * maximum concurrency.
 *
 * No connector function exists yet; each issue that adds one adds its entry here, e.g.:
 *
 *   export const routes: HttpRoute[] = [
 *     { method: 'POST', path: '/webhooks/sequence/{connectionId}', auth: 'none', functionName: 'webhook-ingest',
 *       load: () => import('../functions/webhook-ingest/handler') },
 *     { method: 'POST', path: '/connections', auth: 'admin', functionName: 'connect',
 *       load: () => import('../functions/connect/handler') },
 *   ];
 *   export const queues: QueueBinding[] = [
 *     { queueName: 'invoice-tax.fifo', dlqName: 'invoice-tax-dlq.fifo', functionName: 'calculate-invoice-tax',
 *       load: () => import('../functions/calculate-invoice-tax/handler'),
 *       batchSize: 10, visibilityTimeoutSeconds: 180, maxReceiveCount: 5, maxConcurrency: 2 },
 *   ];
 *
 * Handlers are imported lazily (`load`), after the runtime has put the emulator endpoints, table
 * names and queue URLs in process.env: handlers build their clients at module scope. A queue's
 * URL is exported as `<NAME>_QUEUE_URL` (`invoice-tax.fifo` → `INVOICE_TAX_QUEUE_URL`) and its
 * DLQ's as `<NAME>_DLQ_URL`; set `envVar` on the binding to choose another name.
 */
import type { HttpRoute, QueueBinding } from './runtime/types';

export const routes: HttpRoute[] = [];

export const queues: QueueBinding[] = [];
