/**
 * Powertools logger, metrics and tracer, one of each per process. Every log line of a flow carries
 * the connection id and resource id (appended by the worker/handler wrappers). Nothing here ever
 * receives a secret: credentials stay inside the clients.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS } from './catalogue';
import { type DimensionedMetrics } from './ports';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'sphere-connector';

export const logger = new Logger({ serviceName });
export const metrics = new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'SphereConnector' });

/**
 * X-Ray tracing is on: in a Lambda execution environment (not SAM local, not Amplify's mock) unless
 * POWERTOOLS_TRACE_ENABLED=false or POWERTOOLS_DEV — Powertools' own rule (Tracer.setTracingEnabled).
 */
export function tracingActive(env: NodeJS.ProcessEnv = process.env): boolean {
  const executionEnv = env.AWS_EXECUTION_ENV ?? '';
  return executionEnv !== '' && executionEnv !== 'AWS_Lambda_amplify-mock' && !env.AWS_SAM_LOCAL && env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== 'false' && !env.POWERTOOLS_DEV;
}

/**
 * The Tracer, loaded only when tracing is on (undefined otherwise): the X-Ray SDK costs ~40 ms of
 * import and, once loaded, a process-wide async hook (cls-hooked) that taxes every promise.
 */
export const tracer: Tracer | undefined = tracingActive() ? loadTracer() : undefined;

function loadTracer(): Tracer {
  // A require, not an import: the bundle evaluates the X-Ray SDK only on this path.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const powertools = require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer');
  return new powertools.Tracer({ serviceName });
}

/**
 * Flush the metrics a flow added, if any. Powertools' logMetrics warns on every invocation that
 * added none (most admin calls), which buries real warnings; this stays quiet instead.
 */
export function publishMetrics(target: Metrics = metrics): void {
  if (target.hasStoredMetrics()) target.publishStoredMetrics();
}

/**
 * A failure record was written: the metrics the alarm and the dashboard read, the same from every
 * entry point (queue workers, admin routes, the direct invocation).
 *  - `Failures` (dimension service only): what the alarm watches; buffered, flushed with the rest;
 *  - `Failures` with dimension `connectionId`: which merchant is failing (dashboard SEARCH);
 *  - `FailuresByCode` with dimension `code`: why.
 * The two dimensioned ones are single-metric EMF lines, written at once.
 */
export function recordFailureMetrics(target: DimensionedMetrics, connectionId: string, code: string): void {
  target.addMetric(METRICS.failures, MetricUnit.Count, 1);
  target.singleMetric().addDimension('connectionId', connectionId).addMetric(METRICS.failures, MetricUnit.Count, 1);
  target.singleMetric().addDimension('code', code).addMetric(METRICS.failuresByCode, MetricUnit.Count, 1);
}
