/**
 * The one Lambda wrapper every entry point shares (HTTP, SQS worker, direct invocation): the Lambda
 * context on every log line (keys appended during the invocation are reset at its start), an X-Ray
 * segment (when tracing is on: observability.ts), and — before the handler answers — the pending
 * audit-log writes awaited and the metrics flushed, because Lambda may freeze the process as soon as
 * the handler returns.
 */
import { type Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { type Metrics } from '@aws-lambda-powertools/metrics';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { flushAuditLog } from './dependencies';
import { logger as processLogger, metrics as processMetrics, publishMetrics, tracer } from './observability';

export interface InstrumentationOptions {
  logger?: Logger;
  /** Metrics to flush after the invocation (default: the process metrics). */
  metrics?: Metrics;
}

export function instrumentedHandler<E, R>(fn: (event: E, context: Context) => Promise<R>, options: InstrumentationOptions = {}) {
  const logger = options.logger ?? processLogger;
  const metrics = options.metrics ?? processMetrics;
  const handler = middy(async (event: E, context: Context): Promise<R> => {
    try {
      return await fn(event, context);
    } finally {
      await flushAuditLog();
      publishMetrics(metrics);
    }
  });
  // Responses are not put on traces: they can carry merchant data. No tracer: tracing is off.
  if (tracer) handler.use(captureLambdaHandler(tracer, { captureResponse: false }));
  return handler.use(injectLambdaContext(logger, { resetKeys: true }));
}
