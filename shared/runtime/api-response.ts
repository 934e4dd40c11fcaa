/**
 * One way to answer an error, for the admin API, the direct invocation and the webhook:
 * `{"error":{"code","message"}}` (§5.1), no stack traces, and the status is a function of the error's
 * kind plus the small table below.
 */
import type { APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConnectorError, RequestError } from '../domain/errors';

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

export interface ErrorBody {
  error: { code: string; message: string; retryable?: boolean; [detail: string]: unknown };
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, ...details } };
}

export function errorResponse(statusCode: number, code: string, message: string, details: Record<string, unknown> = {}): APIGatewayProxyStructuredResultV2 {
  return json(statusCode, errorBody(code, message, details));
}

/**
 * The `user` errors that are not 422. A user error is otherwise 422: the request was well formed,
 * the merchant's data or configuration is not.
 */
export const USER_ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_json: 400,
  invalid_request: 400,
  not_found: 404,
  connection_not_found: 404,
  sequence_not_found: 404,
  tax_record_not_found: 404,
  failure_not_found: 404,
  queue_not_found: 404,
  queue_not_configured: 404,
  connection_disconnected: 409,
  invoice_not_draft: 409,
  account_already_connected: 409,
  // The connector's own configuration: nothing the caller can change.
  public_url_not_configured: 500,
  secret_store_failed: 500,
};

/** user → the table, else 422; retryable → 503 (Retry-After); anything else is a bug → 500. */
export function statusOf(error: unknown): number {
  if (!(error instanceof ConnectorError)) return 500;
  if (error.kind === 'user') return USER_ERROR_STATUS[error.code] ?? 422;
  if (error.kind === 'retryable') return 503;
  return 500;
}

export interface ErrorAnswer {
  statusCode: number;
  body: ErrorBody;
  /** For a retryable error: when to try again (the Retry-After header). */
  retryAfterSeconds?: number;
}

const UNEXPECTED = 'The connector failed unexpectedly; the error was logged. Try again, and report it if it persists.';

/** Status and body for anything thrown. Bugs get a generic message: details go to the log, never to the caller. */
export function toErrorBody(error: unknown): ErrorAnswer {
  const statusCode = statusOf(error);
  if (!(error instanceof ConnectorError) || error.kind === 'bug') return { statusCode, body: errorBody('internal_error', UNEXPECTED) };
  if (error.kind === 'retryable') {
    return {
      statusCode,
      body: errorBody(error.code, `${error.message}. Try again later.`, { retryable: true }),
      retryAfterSeconds: Math.max(1, Math.ceil((error.retryAfterMs ?? 5000) / 1000)),
    };
  }
  const details = error instanceof RequestError ? error.details : error.upstream ? { service: error.upstream.service } : {};
  return { statusCode, body: errorBody(error.code, error.fix ? `${error.message}. ${error.fix}` : error.message, details) };
}

/** Map anything thrown to an HTTP response (httpHandler does this for every HTTP function). */
export function toErrorResponse(error: unknown): APIGatewayProxyResultV2 {
  const answer = toErrorBody(error);
  return json(answer.statusCode, answer.body, answer.retryAfterSeconds ? { 'retry-after': String(answer.retryAfterSeconds) } : {});
}
