/**
 * Sequence's HTTP failures mapped onto the connector's error taxonomy (shared/domain/errors.ts).
 * Every error carries Sequence's own error body in `upstream.body` (it never contains our
 * credentials: those only travel in request headers, which are never recorded).
 */
import {
  ConnectorBugError,
  type ConnectorError,
  type ConnectorErrorOptions,
  type UpstreamDetails,
  UserActionRequiredError,
} from '../domain/errors';
import { type UpstreamErrorResponse, mapCommonRetryable } from '../http/upstream-http';
import { ApiErrorBodySchema, DatabaseErrorsBodySchema } from './schemas';

export const SEQUENCE_CREDENTIALS_FIX =
  'Check the Sequence client id/secret and the environment (a sandbox key does not work against production and vice versa): ' +
  'create a new API key in Sequence under Settings → API keys and update the connection.';

/** 401/403: Sequence refused the API client. */
export class SequenceCredentialsRejectedError extends UserActionRequiredError {
  constructor(message: string, options: ConnectorErrorOptions = {}) {
    super('sequence_credentials_rejected', message, { ...options, fix: options.fix ?? SEQUENCE_CREDENTIALS_FIX });
  }
}

/** 404: the resource does not exist in this Sequence account (or was deleted). */
export class SequenceNotFoundError extends UserActionRequiredError {
  constructor(message: string, options: ConnectorErrorOptions = {}) {
    super('sequence_not_found', message, {
      ...options,
      fix: options.fix ?? 'Check that the id belongs to the Sequence account of this connection; it may have been deleted.',
    });
  }
}

/** 400/409/422: Sequence rejected the request; `details` lists its messages. */
export class SequenceRejectedRequestError extends UserActionRequiredError {
  readonly details: string[];
  constructor(message: string, details: string[], options: ConnectorErrorOptions = {}) {
    super('sequence_rejected_request', message, {
      ...options,
      fix: options.fix ?? 'Correct the data in Sequence (or the connection settings) as the message says, then retry.',
    });
    this.details = details;
  }
}

/**
 * Sequence's messages from either documented error shape:
 * `ApiError` `{"error":{"type","message","errors":[{code,message,key}]}}` or
 * `DatabaseErrors` `{"errors":[{key,error}]}`. Returns the upstream code (`error.type`) when given.
 */
export function describeSequenceErrorBody(body: unknown): { code?: string; messages: string[] } {
  const api = ApiErrorBodySchema.safeParse(body);
  if (api.success) {
    const messages: string[] = [];
    if (api.data.error.message) messages.push(api.data.error.message);
    for (const e of api.data.error.errors ?? []) {
      const text = e.message ?? e.code;
      if (text) messages.push(e.key ? `${e.key}: ${text}` : text);
    }
    return { code: api.data.error.type, messages };
  }
  const db = DatabaseErrorsBodySchema.safeParse(body);
  if (db.success) {
    return { messages: db.data.errors.map((e) => (e.key ? `${e.key}: ${e.error ?? ''}` : (e.error ?? ''))).filter((m) => m !== '') };
  }
  if (typeof body === 'string' && body.trim() !== '') return { messages: [body.slice(0, 300)] };
  return { messages: [] };
}

/** The `mapError` the Sequence client gives UpstreamHttp. */
export function mapSequenceError(response: UpstreamErrorResponse): ConnectorError {
  const { code, messages } = describeSequenceErrorBody(response.body);
  const retryable = mapCommonRetryable(response, 'sequence', code);
  if (retryable) return retryable;
  const upstream: UpstreamDetails = {
    service: 'sequence',
    status: response.status,
    method: response.method,
    path: response.path,
    body: response.body,
    ...(code ? { upstreamCode: code } : {}),
    ...(response.requestId ? { requestId: response.requestId } : {}),
  };
  const where = `${response.method} ${response.path}`;
  const said = messages.length > 0 ? `: ${messages.join('; ')}` : '';
  if (response.status === 401 || response.status === 403) {
    return new SequenceCredentialsRejectedError(`Sequence rejected the API credentials (HTTP ${response.status} on ${where})${said}`, { upstream });
  }
  if (response.status === 404) {
    return new SequenceNotFoundError(`Sequence has no such resource (HTTP 404 on ${where})${said}`, { upstream });
  }
  if (response.status === 400 && code === 'UnrecognisedApiVersion') {
    // Our Sequence-Version header is wrong: nothing the merchant can fix.
    return new ConnectorBugError('sequence_api_version_rejected', `Sequence rejected the API version header on ${where}${said}`, { upstream });
  }
  if (response.status === 400 || response.status === 409 || response.status === 422) {
    return new SequenceRejectedRequestError(`Sequence rejected ${where} (HTTP ${response.status})${said}`, messages, { upstream });
  }
  return new ConnectorBugError('sequence_unexpected_status', `Sequence answered ${where} with unexpected HTTP ${response.status}${said}`, { upstream });
}
