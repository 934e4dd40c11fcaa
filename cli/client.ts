/**
 * The admin CLI's HTTP client: JSON in and out, either a bearer token (the local runtime) or SigV4
 * (a deployed stack's IAM-authorised routes). Errors carry the API's `{"error":{code,message}}`.
 */
import type { RequestSigner } from './sigv4';

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{
  status: number;
  headers?: { get(name: string): string | null };
  text: () => Promise<string>;
}>;

export interface AdminClientOptions {
  baseUrl: string;
  /** Bearer token (local runtime). Ignored when `signer` is set. */
  token?: string;
  /** SigV4 signer (deployed stack). */
  signer?: RequestSigner;
  fetch?: FetchLike;
}

export interface ApiAnswer<T = unknown> {
  status: number;
  body: T;
}

/** Any answer of the admin API, error or not (see AdminClient.call). */
export interface AdminAnswer<T = Record<string, unknown>> extends ApiAnswer<T> {
  /** The body as received. */
  text: string;
  headers: { get(name: string): string | null };
}

const NO_HEADERS = { get: () => null };

/** An error answer of the admin API (or a transport failure, status 0). */
export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function errorFrom(status: number, text: string): AdminApiError {
  const parsed = parseJson(text) as { error?: { code?: unknown; message?: unknown }; message?: unknown } | undefined;
  if (parsed?.error && typeof parsed.error === 'object') {
    return new AdminApiError(status, String(parsed.error.code ?? 'error'), String(parsed.error.message ?? 'The request failed'));
  }
  // API Gateway's own answers (e.g. IAM denial) are `{"message": "..."}`.
  if (parsed && typeof parsed.message === 'string') return new AdminApiError(status, status === 403 ? 'forbidden' : 'error', parsed.message);
  return new AdminApiError(status, 'error', `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

export class AdminClient {
  private readonly baseUrl: string;
  private readonly fetchFn: FetchLike;

  constructor(private readonly options: AdminClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
  }

  /**
   * Send one request as it is (signed, or with the token) and answer status and raw text, whatever
   * the status; only a transport failure throws. `path` may carry a query string.
   */
  async send(method: string, path: string, payload?: string): Promise<{ status: number; text: string; headers: { get(name: string): string | null } }> {
    const url = `${this.baseUrl}${path}`;
    let headers: Record<string, string> = { accept: 'application/json', ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) };
    if (this.options.signer) {
      headers = await this.options.signer({ method, url, headers, ...(payload !== undefined ? { body: payload } : {}) });
      delete headers.host; // fetch sets it; some runtimes reject an explicit one
    } else if (this.options.token) {
      headers.authorization = `Bearer ${this.options.token}`;
    }
    let answer: Awaited<ReturnType<FetchLike>>;
    try {
      answer = await this.fetchFn(url, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
    } catch (error) {
      const cause = error instanceof Error ? ((error.cause as { code?: string } | undefined)?.code ?? error.message) : String(error);
      throw new AdminApiError(0, 'unreachable', `Cannot reach ${this.baseUrl} (${cause}). Is the connector running (npm start), or is --url right?`);
    }
    return { status: answer.status, text: await answer.text(), headers: answer.headers ?? NO_HEADERS };
  }

  /**
   * Call the API and answer whatever the status, the body parsed (`{}` when empty or not JSON), for
   * callers that check error answers themselves (tests, benchmarks). A string body is sent as it is
   * (malformed JSON, for example); anything else as JSON.
   */
  async call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<AdminAnswer<T>> {
    const { status, text, headers } = await this.send(method, path, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
    return { status, body: (parseJson(text) ?? {}) as T, text, headers };
  }

  /** The same client with another bearer token (`null`: none), e.g. to show a refusal. */
  withToken(token: string | null): AdminClient {
    const { signer: _signer, token: _token, ...rest } = this.options;
    return new AdminClient({ ...rest, ...(token === null ? {} : { token }) });
  }

  /** Call the API; any status ≥ 400 throws AdminApiError. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiAnswer<T>> {
    const { status, text } = await this.send(method, path, body === undefined ? undefined : JSON.stringify(body));
    if (status >= 400) throw errorFrom(status, text);
    return { status, body: parseJson(text) as T };
  }
}
