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
import type { HttpRoute, QueueBinding } from './runtime/types';

const connect = () => import('../functions/connect/handler');

/** Admin routes all go to the one `connect` function, as in the stack (IAM there, bearer token here). */
const adminRoutes: [method: string, path: string][] = [
  ['POST', '/connections'],
  ['GET', '/connections'],
  ['GET', '/connections/{id}'],
  ['PATCH', '/connections/{id}'],
  ['DELETE', '/connections/{id}'],
  ['POST', '/connections/{id}/test'],
  ['POST', '/connections/{id}/backfill'],
];

export const routes: HttpRoute[] = [
  ...adminRoutes.map(([method, path]): HttpRoute => ({ method, path, auth: 'admin', functionName: 'connect', load: connect })),
];

export const queues: QueueBinding[] = [];
