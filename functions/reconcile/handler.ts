/** EventBridge schedule → drift sweep over every ACTIVE connection (shared/sync/reconcile.ts). */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import { dependencies } from '../../shared/runtime/dependencies';
import { tracer } from '../../shared/runtime/observability';
import { reconcileAll, type ReconcileSummary } from '../../shared/sync/reconcile';

const deps = dependencies();

export const handler = middy(async (): Promise<ReconcileSummary> => {
  const summary = await reconcileAll(deps);
  deps.metrics.addMetric('ReconcileCustomersQueued', MetricUnit.Count, summary.totals.customersQueued);
  deps.metrics.addMetric('ReconcileProductsQueued', MetricUnit.Count, summary.totals.productsQueued);
  deps.metrics.addMetric('ReconcileInvoicesQueued', MetricUnit.Count, summary.totals.invoicesQueued);
  deps.logger.info('Reconcile finished', { totals: summary.totals, connections: summary.connections.length, failed: summary.failed.length });
  return summary;
})
  .use(captureLambdaHandler(tracer, { captureResponse: false }))
  .use(injectLambdaContext(deps.logger, { resetKeys: true }))
  .use(logMetrics(deps.metrics, { throwOnEmptyMetrics: false }));
