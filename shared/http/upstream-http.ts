/**
 * The transport both upstream clients share: JSON over fetch with a timeout per attempt,
 * rate limiting, a few quick retries with jittered backoff for retryable errors only (honouring a
 * short Retry-After; a longer one, or a 429 without any, is thrown at once with `retryAfterMs` so
 * the queue retries later: shared/domain/retry-policy.ts), typed errors, and zod validation of every response body. It never logs or returns headers it
 * was given (they carry credentials).
 */
import { type ZodType } from 'zod';
import { ConnectorBugError, ConnectorError, UpstreamRateLimitedError, UpstreamUnavailableError, type UpstreamService } from '../domain/errors';
import { type BackoffPolicy, DEFAULT_BACKOFF, DEFAULT_MAX_IN_PROCESS_WAIT_MS, backoffDelayMs, parseRateLimitReset, parseRetryAfter, retriesInProcess } from '../domain/retry-policy';
import { type SharedRateGate, type TokenBucketRateLimiter } from './rate-limiter';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One upstream call as the audit log records it: no bodies, no headers. */
export interface UpstreamCallRecord {
  service: UpstreamService;
  method: HttpMethod;
  path: string;
  status?: number;
  latencyMs: number;
  attempt: number;
  requestId?: string;
  errorCode?: string;
}

export interface UpstreamErrorResponse {
  status: number;
  method: HttpMethod;
  path: string;
  headers: Headers;
  /** Parsed JSON when the body was JSON, else the text (truncated). */
  body: unknown;
  requestId?: string;
  /** From Retry-After; on a 429 without it, from the rate-limit reset headers. */
  retryAfterMs?: number;
}

/** What the runtime and tests may give either upstream client (and its transport): timing, randomness, the fetch, the audit hook. */
export interface UpstreamTransportOptions {
  /** Per attempt. */
  timeoutMs?: number;
  backoff?: BackoffPolicy;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onCall?: (record: UpstreamCallRecord) => void;
}

export interface UpstreamHttpOptions extends UpstreamTransportOptions {
  service: UpstreamService;
  baseUrl: string;
  /** Headers on every call (auth, version). Never logged. */
  headers: Record<string, string>;
  rateLimiter?: TokenBucketRateLimiter;
  /** The credential's budget shared with other processes, taken after the local bucket. */
  sharedRateGate?: SharedRateGate;
  /** Map a non-2xx response to the service's typed error. */
  mapError: (response: UpstreamErrorResponse) => ConnectorError;
  /** Header carrying the upstream's request id, if any. */
  requestIdHeader?: string;
}

export interface UpstreamRequest<T> {
  method: HttpMethod;
  /** Path relative to baseUrl, starting with `/`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** Validates the 2xx body. Omit for calls whose body we ignore. */
  schema?: ZodType<T>;
  /** Retry retryable failures (default true). Turn off for non-idempotent writes. */
  retry?: boolean;
  /** Extra headers for this call (e.g. Idempotency-Key). */
  headers?: Record<string, string>;
}

const MAX_ERROR_TEXT = 2000;

export class UpstreamHttp {
  private readonly timeoutMs: number;
  private readonly backoff: BackoffPolicy;
  private readonly doFetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  readonly baseUrl: string;

  constructor(private readonly options: UpstreamHttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.doFetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = options.random ?? Math.random;
  }

  /** Calls are about to follow: the shared budget reserves their slots now (SharedRateGate.prepare). */
  prepare(): void {
    this.options.sharedRateGate?.prepare?.();
  }

  async request<T = unknown>(req: UpstreamRequest<T>): Promise<T> {
    const maxAttempts = req.retry === false ? 1 : this.backoff.maxAttempts;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(req, attempt);
      } catch (error) {
        const retryable = error instanceof ConnectorError && error.kind === 'retryable';
        if (!retryable || attempt >= maxAttempts) throw error;
        const retryAfterMs = (error as ConnectorError).retryAfterMs;
        const rateLimited = error instanceof UpstreamRateLimitedError;
        if (rateLimited && retryAfterMs !== undefined) {
          // Everyone sharing the bucket holds off, but no longer than an in-process wait: after a
          // long Retry-After the rest of a batch fails over to the queue's delay instead of
          // sleeping towards the Lambda timeout.
          this.options.rateLimiter?.pauseFor(Math.min(retryAfterMs, this.backoff.maxInProcessWaitMs ?? DEFAULT_MAX_IN_PROCESS_WAIT_MS));
        }
        if (!retriesInProcess(rateLimited, retryAfterMs, this.backoff)) throw error;
        await this.sleep(backoffDelayMs(attempt, this.backoff, retryAfterMs, this.random));
      }
    }
  }

  private buildUrl(path: string, query?: UpstreamRequest<unknown>['query']): string {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    return url.toString();
  }

  private async attempt<T>(req: UpstreamRequest<T>, attempt: number): Promise<T> {
    await this.options.rateLimiter?.acquire();
    await this.options.sharedRateGate?.acquire();
    const started = Date.now();
    const record: UpstreamCallRecord = { service: this.options.service, method: req.method, path: req.path, latencyMs: 0, attempt };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await this.doFetch(this.buildUrl(req.path, req.query), {
        method: req.method,
        headers: {
          accept: 'application/json',
          ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...this.options.headers,
          ...req.headers,
        },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
        signal: controller.signal,
      });
      text = await response.text();
    } catch (error) {
      const timedOut = controller.signal.aborted;
      const err = new UpstreamUnavailableError(
        timedOut ? 'upstream_timeout' : 'upstream_unreachable',
        timedOut
          ? `${this.options.service} did not answer ${req.method} ${req.path} within ${this.timeoutMs} ms`
          : `${this.options.service} could not be reached for ${req.method} ${req.path}: ${error instanceof Error ? error.message : String(error)}`,
        { upstream: { service: this.options.service, method: req.method, path: req.path } },
      );
      record.latencyMs = Date.now() - started;
      record.errorCode = err.code;
      this.options.onCall?.(record);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    record.latencyMs = Date.now() - started;
    record.status = response.status;
    const requestId = this.options.requestIdHeader ? (response.headers.get(this.options.requestIdHeader) ?? undefined) : undefined;
    if (requestId) record.requestId = requestId;

    const body = parseBody(text);
    if (!response.ok) {
      const err = this.options.mapError({
        status: response.status,
        method: req.method,
        path: req.path,
        headers: response.headers,
        body: body.ok ? body.value : text.slice(0, MAX_ERROR_TEXT),
        requestId,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) ?? (response.status === 429 ? parseRateLimitReset((name) => response.headers.get(name)) : undefined),
      });
      record.errorCode = err.code;
      // Some upstreams put the request id only in the error body (Sphere's v1 429 `error.request_id`).
      if (!record.requestId && err.upstream?.requestId) record.requestId = err.upstream.requestId;
      this.options.onCall?.(record);
      throw err;
    }
    this.options.onCall?.(record);
    if (!req.schema) return undefined as T;
    if (!body.ok) {
      throw new ConnectorBugError('upstream_malformed_response', `${this.options.service} answered ${req.method} ${req.path} with a body that is not JSON`, {
        upstream: { service: this.options.service, status: response.status, method: req.method, path: req.path, body: text.slice(0, 200), requestId },
      });
    }
    const parsed = req.schema.safeParse(body.value);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new ConnectorBugError(
        'upstream_malformed_response',
        `${this.options.service} answered ${req.method} ${req.path} with an unexpected body (${issues.join('; ')})`,
        { upstream: { service: this.options.service, status: response.status, method: req.method, path: req.path, requestId } },
      );
    }
    return parsed.data;
  }
}

function parseBody(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** Default mapping for statuses every upstream shares: 429 and 5xx are retryable. */
export function mapCommonRetryable(response: UpstreamErrorResponse, service: UpstreamService, upstreamCode?: string): ConnectorError | undefined {
  const upstream = { service, status: response.status, method: response.method, path: response.path, body: response.body, requestId: response.requestId, upstreamCode };
  if (response.status === 429) {
    return new UpstreamRateLimitedError(`${service} rate-limited ${response.method} ${response.path}`, { retryAfterMs: response.retryAfterMs, upstream });
  }
  if (response.status >= 500 || response.status === 408 || response.status === 425) {
    return new UpstreamUnavailableError('upstream_server_error', `${service} failed ${response.method} ${response.path} with HTTP ${response.status}`, {
      retryAfterMs: response.retryAfterMs,
      upstream,
    });
  }
  return undefined;
}
