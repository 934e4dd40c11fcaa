/**
 * Powertools logger, metrics and tracer, one of each per process. Every log line of a flow carries
 * the connection id and resource id (appended by the worker/handler wrappers). Nothing here ever
 * receives a secret: credentials stay inside the clients.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'sphere-connector';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'SphereConnector' });
export const tracer = new Tracer({ serviceName, enabled: process.env.POWERTOOLS_TRACE_ENABLED !== 'false' && !process.env.POWERTOOLS_DEV });

/**
 * Flush the metrics a flow added, if any. Powertools' logMetrics warns on every invocation that
 * added none (most admin calls), which buries real warnings; this stays quiet instead.
 */
export function publishMetrics(target: Metrics = metrics): void {
  if (target.hasStoredMetrics()) target.publishStoredMetrics();
}
