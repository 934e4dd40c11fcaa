/** EventBridge schedule → drift sweep over every ACTIVE connection (shared/sync/reconcile.ts). */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS } from '../../shared/runtime/catalogue';
import { dependencies } from '../../shared/runtime/dependencies';
import { instrumentedHandler } from '../../shared/runtime/invocation';
import { reconcileAll, type ReconcileSummary } from '../../shared/sync/reconcile';

const deps = dependencies();

// The shared wrapper, like every other entry point: reconcile calls both upstreams, so its audit
// entries must be flushed before Lambda freezes the process, not only its metrics.
export const handler = instrumentedHandler(
  async (): Promise<ReconcileSummary> => {
    const summary = await reconcileAll(deps);
    deps.metrics.addMetric(METRICS.reconcileCustomersQueued, MetricUnit.Count, summary.totals.customersQueued);
    deps.metrics.addMetric(METRICS.reconcileProductsQueued, MetricUnit.Count, summary.totals.productsQueued);
    deps.metrics.addMetric(METRICS.reconcileInvoicesQueued, MetricUnit.Count, summary.totals.invoicesQueued);
    deps.logger.info('Reconcile finished', { totals: summary.totals, connections: summary.connections.length, failed: summary.failed.length });
    return summary;
  },
  { logger: deps.logger, metrics: deps.metrics },
);
