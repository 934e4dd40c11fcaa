/**
 * The error taxonomy the whole connector uses. Every failure is one of three kinds:
 *  - `user`: the merchant's data or configuration is wrong (bad credential, address Sphere cannot
 *    locate, product without a tax category). Never retried automatically; shown to the operator
 *    with `fix`, kept as a retryable failure record once they have fixed it.
 *  - `retryable`: the upstream was slow, down or busy (5xx, timeout, 429). Retried with backoff,
 *    honouring `retryAfterMs` when the upstream gave one; after the retries, the DLQ.
 *  - `bug`: anything else, including upstream bodies that do not match what we expect. Not retried
 *    blindly; logged loudly.
 */
export type ErrorKind = 'user' | 'retryable' | 'bug';

export type UpstreamService = 'sequence' | 'sphere';

export interface UpstreamDetails {
  service: UpstreamService;
  /** HTTP status, absent for network errors and timeouts. */
  status?: number;
  method?: string;
  /** Path only, never a query string that could carry data. */
  path?: string;
  /** The upstream's error body, parsed when it was JSON. Never contains our credentials. */
  body?: unknown;
  /** The upstream's error code when it gave one (`customer_tax_location_invalid`, `validationError`). */
  upstreamCode?: string;
  requestId?: string;
}

export interface ConnectorErrorOptions {
  /** What the operator should do about it. Required for user errors. */
  fix?: string;
  retryAfterMs?: number;
  upstream?: UpstreamDetails;
  cause?: unknown;
}

export class ConnectorError extends Error {
  readonly kind: ErrorKind;
  /** Stable snake_case code, safe to show and to match on. */
  readonly code: string;
  readonly fix?: string;
  readonly retryAfterMs?: number;
  readonly upstream?: UpstreamDetails;

  constructor(kind: ErrorKind, code: string, message: string, options: ConnectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.code = code;
    this.fix = options.fix;
    this.retryAfterMs = options.retryAfterMs;
    this.upstream = options.upstream;
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }

  /** A plain object safe for logs and API responses (no stack, no cause chain). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      code: this.code,
      message: this.message,
      ...(this.fix ? { fix: this.fix } : {}),
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
      ...(this.upstream ? { upstream: this.upstream } : {}),
    };
  }
}

/** The merchant must change data or configuration; retrying unchanged will fail the same way. */
export class UserActionRequiredError extends ConnectorError {
  constructor(code: string, message: string, options: ConnectorErrorOptions & { fix: string }) {
    super('user', code, message, options);
  }
}

/**
 * The request cannot be done as asked: a malformed body or id, something it names that does not
 * exist, a conflict with the current state. A `user` error (never retried) without a `fix`: the
 * message already says what to change. `details` are safe, extra fields of the answer (`field`).
 */
export class RequestError extends ConnectorError {
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super('user', code, message);
    this.details = details;
  }
}

/** A request field (body, path or payload) that does not have the shape it must have: 400 naming it. */
export function invalidRequest(field: string, message: string): RequestError {
  return new RequestError('invalid_request', `${field}: ${message}`, { field });
}

/** A transient upstream problem: retry later (after `retryAfterMs` when known). */
export class RetryableUpstreamError extends ConnectorError {
  constructor(code: string, message: string, options: ConnectorErrorOptions = {}) {
    super('retryable', code, message, options);
  }
}

/** The upstream asked us to slow down (HTTP 429). */
export class UpstreamRateLimitedError extends RetryableUpstreamError {
  constructor(message: string, options: ConnectorErrorOptions = {}) {
    super('rate_limited', message, options);
  }
}

/** The upstream did not answer in time, or the connection failed. */
export class UpstreamUnavailableError extends RetryableUpstreamError {
  constructor(code: 'upstream_timeout' | 'upstream_unreachable' | 'upstream_server_error', message: string, options: ConnectorErrorOptions = {}) {
    super(code, message, options);
  }
}

/** Something we did not expect: a malformed upstream body, a broken invariant. */
export class ConnectorBugError extends ConnectorError {
  constructor(code: string, message: string, options: ConnectorErrorOptions = {}) {
    super('bug', code, message, options);
  }
}

/** HTTP statuses an upstream returns for transient trouble. */
export function isRetryableHttpStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

export interface ClassifiedError {
  kind: ErrorKind;
  code: string;
  message: string;
  retryable: boolean;
  fix?: string;
  retryAfterMs?: number;
}

/** Classify anything thrown into the taxonomy; unknown errors are bugs. */
export function classifyError(error: unknown): ClassifiedError {
  if (error instanceof ConnectorError) {
    return {
      kind: error.kind,
      code: error.code,
      message: error.message,
      retryable: error.kind === 'retryable',
      ...(error.fix ? { fix: error.fix } : {}),
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { kind: 'bug', code: 'internal_error', message, retryable: false };
}
