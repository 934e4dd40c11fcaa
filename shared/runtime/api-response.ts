/**
 * One way to answer an HTTP request: `{"error":{"code","message"}}` for every error (§5.1), no
 * stack traces, and the error taxonomy decides the status.
 */
import type { APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConnectorError } from '../domain/errors';

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export function errorResponse(statusCode: number, code: string, message: string, extra: Record<string, unknown> = {}): APIGatewayProxyStructuredResultV2 {
  return json(statusCode, { error: { code, message, ...extra } });
}

/** An error raised by a handler to answer with a specific status and code. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * Map anything thrown to a response. User errors are 422 (the request was fine, the merchant's
 * data is not) unless the code says "not found"; upstream outages are 503 with Retry-After; bugs
 * are 500 with a generic message (details go to the log, never to the caller).
 */
export function toErrorResponse(error: unknown): APIGatewayProxyResultV2 {
  if (error instanceof HttpError) return errorResponse(error.statusCode, error.code, error.message, error.extra);
  if (error instanceof ConnectorError) {
    if (error.kind === 'user') {
      const status = /not_found$/.test(error.code) ? 404 : 422;
      return errorResponse(status, error.code, error.fix ? `${error.message}. ${error.fix}` : error.message, error.upstream ? { service: error.upstream.service } : {});
    }
    if (error.kind === 'retryable') {
      const retryAfter = Math.max(1, Math.ceil((error.retryAfterMs ?? 5000) / 1000));
      return json(503, { error: { code: error.code, message: `${error.message}. Try again later.`, retryable: true } }, { 'retry-after': String(retryAfter) });
    }
  }
  return errorResponse(500, 'internal_error', 'The connector failed unexpectedly; the error was logged. Try again, and report it if it persists.');
}
