/**
 * What `npm start` hosts: HTTP routes (API Gateway HTTP API) and SQS queue bindings (Lambda event
 * source mappings), derived from the catalogue the CDK stack reads (shared/runtime/catalogue.ts):
 * same route keys, function names, queue names and environment variables, batch sizes, timeouts,
 * visibility timeouts, maxReceiveCount and maximum concurrency. This file only adds which handler
 * each function loads.
 *
 * Handlers are imported lazily (`load`), after the runtime has put the emulator endpoints, table
 * names and queue URLs in process.env: handlers build their clients at module scope.
 */
import { ADMIN_FUNCTION_NAME, ALL_ADMIN_ROUTES, MAX_RECEIVE_COUNT, QUEUES, QUEUE_KEYS, type QueueKey, VISIBILITY_TIMEOUT_FACTOR, WEBHOOK_ROUTE } from '../shared/runtime/catalogue';
import type { HandlerModule, HttpRoute, QueueBinding } from './runtime/types';

const adminApi = () => import('../functions/admin-api/handler');

const queueHandlers: Record<QueueKey, () => Promise<HandlerModule>> = {
  customerSync: () => import('../functions/sync-customer/handler'),
  productSync: () => import('../functions/sync-product/handler'),
  invoiceTax: () => import('../functions/calculate-invoice-tax/handler'),
  exemptions: () => import('../functions/exemptions/handler'),
  backfill: () => import('../functions/backfill/handler'),
};

/** Admin routes all go to the one admin function, as in the stack (IAM there, bearer token here). */
export const routes: HttpRoute[] = [
  { method: WEBHOOK_ROUTE.method, path: WEBHOOK_ROUTE.path, auth: 'none', functionName: WEBHOOK_ROUTE.functionName, load: () => import('../functions/webhook-ingest/handler'), timeoutSeconds: WEBHOOK_ROUTE.timeoutSeconds },
  ...ALL_ADMIN_ROUTES.map(({ method, path }): HttpRoute => ({ method, path, auth: 'admin', functionName: ADMIN_FUNCTION_NAME, load: adminApi })),
];

/** The binding of a catalogue queue to its handler, as the stack's event source mapping sets it up. */
export function queueBinding(key: QueueKey, load: () => Promise<HandlerModule> = queueHandlers[key]): QueueBinding {
  const queue = QUEUES[key];
  return {
    queueName: `${queue.name}.fifo`,
    dlqName: `${queue.name}-dlq.fifo`,
    envVar: queue.envVar,
    dlqEnvVar: queue.dlqEnvVar,
    functionName: queue.functionName,
    load,
    batchSize: queue.batchSize,
    visibilityTimeoutSeconds: queue.timeoutSeconds * VISIBILITY_TIMEOUT_FACTOR,
    timeoutSeconds: queue.timeoutSeconds,
    maxReceiveCount: MAX_RECEIVE_COUNT,
    maxConcurrency: queue.maxConcurrency,
  };
}

export const queues: QueueBinding[] = QUEUE_KEYS.map((key) => queueBinding(key));
