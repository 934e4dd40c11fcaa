/**
 * Sphere HTTP failures → the connector's error taxonomy (shared/domain/errors.ts).
 *
 * | Sphere says                                                   | we throw                                           |
 * |---------------------------------------------------------------|----------------------------------------------------|
 * | 400 customer_tax_location_invalid / invalid_product_tax_code / validation_errors / unsupported_feature / customer_address_pull_failed | UserActionRequiredError, same code, a fix naming what to correct |
 * | 400 v1 `{"<field>":["msg"]}`                                   | UserActionRequiredError `validation_errors`        |
 * | 401 (any body, incl. `unauthorized_access`), 403              | UserActionRequiredError `sphere_credentials_rejected` |
 * | 404                                                           | SphereNotFoundError (`sphere_not_found`)           |
 * | 429 (api_error or v1 `{"error":{...}}` body)                   | SphereRateLimitedError, retryAfterMs from Retry-After, else `retry_after_seconds` |
 * | 5xx, 408, 425                                                 | UpstreamUnavailableError (retryable)               |
 * | anything else                                                 | ConnectorBugError `sphere_request_rejected`        |
 *
 * Error bodies are kept in `upstream.body` (with the API key scrubbed, should Sphere ever echo it).
 */
import {
  ConnectorBugError,
  type ConnectorError,
  type ConnectorErrorOptions,
  type UpstreamDetails,
  UpstreamRateLimitedError,
  UserActionRequiredError,
} from '../domain/errors';
import { type UpstreamErrorResponse, mapCommonRetryable } from '../http/upstream-http';
import { ApiErrorBodySchema, DetailErrorBodySchema, RateLimitErrorBodySchema, V1FieldErrorsBodySchema } from './schemas';

/** Sphere answered 429. */
export class SphereRateLimitedError extends UpstreamRateLimitedError {
  constructor(message: string, options: ConnectorErrorOptions = {}) {
    super(message, options);
  }
}

/** Sphere has no record under that external id (HTTP 404). */
export class SphereNotFoundError extends UserActionRequiredError {
  constructor(message: string, options: ConnectorErrorOptions) {
    super('sphere_not_found', message, { fix: 'Make sure the record was synced to Sphere (customers and products are upserted before use), then retry.', ...options });
  }
}

/** Fix messages for the documented calculate_tax 400 codes. */
export const SPHERE_USER_ERROR_FIXES: Record<string, string> = {
  customer_tax_location_invalid:
    "Correct the customer's address in Sequence: Sphere needs city, postal code and country (plus a valid state for US addresses, and a valid postal code format) to locate the tax jurisdiction.",
  invalid_product_tax_code:
    'Give the product a Sphere product tax code: map its Sequence tax category to a Sphere code (or set a default tax code on the connection) and re-sync the product.',
  validation_errors: 'Correct the fields Sphere named in the message, then retry.',
  unsupported_feature: 'Send the customer address explicitly; pull_customer_address is only available for Stripe.',
  customer_address_pull_failed: 'Send the customer address explicitly instead of asking Sphere to pull it.',
};

const USER_CODES = new Set(Object.keys(SPHERE_USER_ERROR_FIXES));

/** Deep-copy a parsed body with every occurrence of `secret` replaced. */
export function scrubSecret(body: unknown, secret: string | undefined): unknown {
  if (!secret) return body;
  if (typeof body === 'string') return body.split(secret).join('[redacted]');
  if (Array.isArray(body)) return body.map((v) => scrubSecret(v, secret));
  if (body !== null && typeof body === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) out[k.split(secret).join('[redacted]')] = scrubSecret(v, secret);
    return out;
  }
  return body;
}

function retryAfterFromBody(body: unknown): { retryAfterMs?: number; requestId?: string; code?: string } {
  const parsed = RateLimitErrorBodySchema.safeParse(body);
  if (!parsed.success) return {};
  const e = parsed.data.error;
  return {
    ...(e.retry_after_seconds !== undefined ? { retryAfterMs: Math.ceil(e.retry_after_seconds * 1000) } : {}),
    ...(e.request_id ? { requestId: e.request_id } : {}),
    code: e.code,
  };
}

function describe(r: UpstreamErrorResponse): string {
  return `Sphere ${r.method} ${r.path}`;
}

/** Map one non-2xx Sphere response to a typed error. `apiKey` is only used to scrub the body. */
export function mapSphereError(response: UpstreamErrorResponse, apiKey?: string): ConnectorError {
  const body = scrubSecret(response.body, apiKey);
  const r: UpstreamErrorResponse = { ...response, body };
  const apiError = ApiErrorBodySchema.safeParse(body);
  const apiCode = apiError.success ? apiError.data.code : undefined;
  const apiMessage = apiError.success ? apiError.data.message : undefined;
  const upstream = (upstreamCode?: string, requestId?: string): UpstreamDetails => ({
    service: 'sphere',
    status: r.status,
    method: r.method,
    path: r.path,
    body,
    ...(upstreamCode ? { upstreamCode } : {}),
    ...((requestId ?? r.requestId) ? { requestId: requestId ?? r.requestId } : {}),
  });

  if (r.status === 429) {
    const fromBody = retryAfterFromBody(body);
    const retryAfterMs = r.retryAfterMs ?? fromBody.retryAfterMs;
    const code = fromBody.code ?? apiCode ?? 'too_many_requests';
    return new SphereRateLimitedError(
      `${describe(r)} was rate-limited by Sphere (${code})${retryAfterMs !== undefined ? `; retry after ${retryAfterMs} ms` : ''}`,
      { retryAfterMs, upstream: upstream(code, fromBody.requestId) },
    );
  }

  const common = mapCommonRetryable(r, 'sphere', apiCode);
  if (common) return common;

  if (r.status === 401 || apiCode === 'unauthorized_access') {
    return new UserActionRequiredError('sphere_credentials_rejected', `Sphere rejected the API key (HTTP ${r.status}${apiMessage ? `: ${apiMessage}` : ''})`, {
      fix: 'Check the Sphere API key on the connection (Sphere dashboard, Settings > API Keys) and update it; keys belong to one Sphere organisation.',
      upstream: upstream(apiCode ?? 'unauthorized_access'),
    });
  }
  if (r.status === 403) {
    const detail = DetailErrorBodySchema.safeParse(body);
    return new UserActionRequiredError(
      'sphere_credentials_rejected',
      `Sphere refused the API key for ${r.method} ${r.path} (HTTP 403${detail.success ? `: ${detail.data.detail}` : ''})`,
      {
        fix: 'Use a Sphere API key that is enabled for the Transaction API (v1); ask your Sphere representative if the key was not provisioned for it.',
        upstream: upstream(apiCode ?? 'forbidden'),
      },
    );
  }
  if (r.status === 404) {
    const detail = DetailErrorBodySchema.safeParse(body);
    return new SphereNotFoundError(`${describe(r)}: not found${detail.success ? ` (${detail.data.detail})` : ''}`, { upstream: upstream('not_found') });
  }
  if (r.status === 400 || r.status === 422) {
    if (apiCode && USER_CODES.has(apiCode)) {
      // Say what was being done: the same codes come back from a customer upsert or a transaction.
      const doing = r.path.includes('calculate_tax') ? 'calculate tax' : `accept ${r.method} ${r.path}`;
      return new UserActionRequiredError(apiCode, `Sphere could not ${doing}: ${apiMessage ?? apiCode}`, {
        fix: SPHERE_USER_ERROR_FIXES[apiCode] ?? 'Correct the data Sphere named, then retry.',
        upstream: upstream(apiCode),
      });
    }
    const fields = V1FieldErrorsBodySchema.safeParse(body);
    if (!apiError.success && fields.success && Object.keys(fields.data).length > 0) {
      const list = Object.entries(fields.data).map(([field, msgs]) => `${field}: ${msgs.join(' ')}`);
      return new UserActionRequiredError('validation_errors', `Sphere rejected ${r.method} ${r.path}: ${list.join('; ')}`, {
        fix: `Correct ${Object.keys(fields.data).join(', ')} (${list.join('; ')}), then retry.`,
        upstream: upstream('validation_errors'),
      });
    }
  }
  return new ConnectorBugError('sphere_request_rejected', `${describe(r)} failed with HTTP ${r.status}${apiMessage ? `: ${apiMessage}` : ''}`, {
    upstream: upstream(apiCode),
  });
}
