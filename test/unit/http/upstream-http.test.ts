import { z } from 'zod';
import { ConnectorBugError, ConnectorError, UserActionRequiredError } from '../../../shared/domain/errors';
import { TokenBucketRateLimiter } from '../../../shared/http/rate-limiter';
import { UpstreamHttp, type UpstreamCallRecord, type UpstreamErrorResponse, mapCommonRetryable } from '../../../shared/http/upstream-http';

type Reply = { status: number; body?: string; headers?: Record<string, string> } | Error;

function fakeFetch(replies: Reply[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const impl = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const next = replies.shift();
    if (!next) throw new Error('no more replies');
    if (next instanceof Error) throw next;
    return new Response(next.body ?? '', { status: next.status, headers: next.headers });
  }) as typeof fetch;
  return { impl, calls };
}

function mapError(r: UpstreamErrorResponse): ConnectorError {
  return mapCommonRetryable(r, 'sphere') ?? new UserActionRequiredError('rejected', `HTTP ${r.status}`, { fix: 'fix it', upstream: { service: 'sphere', status: r.status, body: r.body } });
}

function client(replies: Reply[], extra: Partial<ConstructorParameters<typeof UpstreamHttp>[0]> = {}) {
  const f = fakeFetch(replies);
  const sleeps: number[] = [];
  const records: UpstreamCallRecord[] = [];
  const http = new UpstreamHttp({
    service: 'sphere',
    baseUrl: 'http://upstream.test/',
    headers: { 'x-api-key': 'sph_secret_value' },
    mapError,
    fetch: f.impl,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    onCall: (r) => records.push(r),
    ...extra,
  });
  return { http, calls: f.calls, sleeps, records };
}

const Thing = z.object({ id: z.string() });

describe('UpstreamHttp', () => {
  it('sends auth headers, JSON body and query, and validates the response', async () => {
    const { http, calls, records } = client([{ status: 200, body: '{"id":"a","extra":1}' }]);
    const out = await http.request({ method: 'POST', path: '/v1/things', query: { limit: 10, skip: undefined }, body: { name: 'x' }, schema: Thing });
    expect(out).toEqual({ id: 'a' });
    expect(calls[0]!.url).toBe('http://upstream.test/v1/things?limit=10');
    const headers = calls[0]!.init.headers as Record<string, string>;
    expect(headers['x-api-key']).toBe('sph_secret_value');
    expect(headers['content-type']).toBe('application/json');
    expect(calls[0]!.init.body).toBe('{"name":"x"}');
    expect(records).toEqual([expect.objectContaining({ service: 'sphere', method: 'POST', path: '/v1/things', status: 200, attempt: 1 })]);
    expect(JSON.stringify(records)).not.toContain('sph_secret_value');
  });

  it('retries 5xx with backoff and then succeeds', async () => {
    const { http, sleeps, calls } = client([{ status: 503 }, { status: 502 }, { status: 200, body: '{"id":"b"}' }]);
    await expect(http.request({ method: 'GET', path: '/x', schema: Thing })).resolves.toEqual({ id: 'b' });
    expect(calls).toHaveLength(3);
    expect(sleeps).toEqual([100, 200]); // full jitter at random 0.5 of 200, 400
  });

  it('honours Retry-After on 429 and pauses the shared limiter', async () => {
    let now = 0;
    const limiter = new TokenBucketRateLimiter({ limit: 10, intervalMs: 1000 }, () => now, async (ms) => void (now += ms));
    const { http, sleeps } = client([{ status: 429, headers: { 'retry-after': '2' } }, { status: 200, body: '{"id":"c"}' }], { rateLimiter: limiter });
    await expect(http.request({ method: 'GET', path: '/x', schema: Thing })).resolves.toEqual({ id: 'c' });
    expect(sleeps[0]).toBeGreaterThanOrEqual(2000);
    expect(now).toBeGreaterThanOrEqual(2000); // the limiter itself waited out the pause before the retry
  });

  it('gives a 429 without a reset time, or with a long Retry-After, back at once with retryAfterMs for the queue', async () => {
    const bare = client([{ status: 429 }, { status: 200, body: '{"id":"c"}' }]);
    await expect(bare.http.request({ method: 'GET', path: '/x', schema: Thing })).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: undefined });
    expect(bare.calls).toHaveLength(1);

    let now = 0;
    const limiter = new TokenBucketRateLimiter({ limit: 10, intervalMs: 1000 }, () => now, async (ms) => void (now += ms));
    const long = client([{ status: 429, headers: { 'retry-after': '30' } }, { status: 200, body: '{"id":"c"}' }], { rateLimiter: limiter });
    await expect(long.http.request({ method: 'GET', path: '/x', schema: Thing })).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 30_000 });
    expect(long.calls).toHaveLength(1);
    await limiter.acquire(); // the next caller holds off for an in-process wait, not the whole 30 s
    expect(now).toBe(2000);

    const reset = client([{ status: 429, headers: { 'ratelimit-reset': '12' } }]);
    await expect(reset.http.request({ method: 'GET', path: '/x', schema: Thing })).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: 12_000 });

    const unavailable = client([{ status: 503, headers: { 'retry-after': '120' } }, { status: 200 }]);
    await expect(unavailable.http.request({ method: 'GET', path: '/x' })).rejects.toMatchObject({ code: 'upstream_server_error', retryAfterMs: 120_000 });
    expect(unavailable.sleeps).toEqual([]);
  });

  it('does not retry user errors and keeps the upstream body', async () => {
    const { http, calls } = client([{ status: 400, body: '{"code":"validation_errors"}' }]);
    const err = await http.request({ method: 'POST', path: '/x', body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserActionRequiredError);
    expect((err as ConnectorError).upstream?.body).toEqual({ code: 'validation_errors' });
    expect(calls).toHaveLength(1);
  });

  it('gives up after maxAttempts and surfaces the retryable error', async () => {
    const { http, calls } = client([{ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }, { status: 500 }]);
    const err = (await http.request({ method: 'GET', path: '/x' }).catch((e: unknown) => e)) as ConnectorError;
    expect(err.kind).toBe('retryable');
    expect(err.code).toBe('upstream_server_error');
    expect(calls).toHaveLength(4);
  });

  it('does not retry when the caller says the write is not idempotent', async () => {
    const { http, calls } = client([{ status: 503 }, { status: 200 }]);
    await expect(http.request({ method: 'POST', path: '/finalize', retry: false })).rejects.toMatchObject({ kind: 'retryable' });
    expect(calls).toHaveLength(1);
  });

  it('turns network failures and timeouts into retryable errors naming the service', async () => {
    const { http } = client([new TypeError('fetch failed'), new TypeError('fetch failed'), new TypeError('fetch failed'), new TypeError('fetch failed')]);
    await expect(http.request({ method: 'GET', path: '/x' })).rejects.toMatchObject({ kind: 'retryable', code: 'upstream_unreachable', message: expect.stringContaining('sphere') });

    const hanging = (async (_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))))) as typeof fetch;
    const slow = new UpstreamHttp({ service: 'sequence', baseUrl: 'http://x', headers: {}, mapError, fetch: hanging, timeoutMs: 20, backoff: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    await expect(slow.request({ method: 'GET', path: '/x' })).rejects.toMatchObject({ code: 'upstream_timeout', message: expect.stringContaining('within 20 ms') });
  });

  it('records the request id from the configured header, else from the mapped error', async () => {
    const withHeader = client([{ status: 200, body: '{"id":"d"}', headers: { 'x-request-id': 'req_header' } }], { requestIdHeader: 'X-Request-Id' });
    await withHeader.http.request({ method: 'GET', path: '/x', schema: Thing });
    expect(withHeader.records).toEqual([expect.objectContaining({ status: 200, requestId: 'req_header' })]);

    // No header: the id the upstream put in its error body (as mapError read it) lands in the record.
    const fromBody = client([{ status: 400 }], {
      requestIdHeader: 'X-Request-Id',
      mapError: (r) => new UserActionRequiredError('rejected', `HTTP ${r.status}`, { fix: 'fix it', upstream: { service: 'sphere', status: r.status, requestId: 'req_body' } }),
    });
    await expect(fromBody.http.request({ method: 'POST', path: '/x', body: {} })).rejects.toBeInstanceOf(UserActionRequiredError);
    expect(fromBody.records).toEqual([expect.objectContaining({ status: 400, requestId: 'req_body', errorCode: 'rejected' })]);
  });

  it('reports a malformed body as a typed bug, not a crash', async () => {
    const { http } = client([{ status: 200, body: '<html>oops' }]);
    await expect(http.request({ method: 'GET', path: '/x', schema: Thing })).rejects.toBeInstanceOf(ConnectorBugError);
    const { http: http2 } = client([{ status: 200, body: '{"id":42}' }]);
    await expect(http2.request({ method: 'GET', path: '/x', schema: Thing })).rejects.toMatchObject({
      code: 'upstream_malformed_response',
      message: expect.stringContaining('id:'),
    });
  });
});

describe('TokenBucketRateLimiter', () => {
  it('never lets more than the limit through per interval', async () => {
    let now = 0;
    const granted: number[] = [];
    const limiter = new TokenBucketRateLimiter({ limit: 10, intervalMs: 1000 }, () => now, async (ms) => void (now += ms));
    await Promise.all(Array.from({ length: 35 }, () => limiter.acquire().then(() => granted.push(now))));
    expect(granted).toHaveLength(35);
    for (let start = 0; start <= now; start += 100) {
      const inWindow = granted.filter((t) => t >= start && t < start + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(10);
    }
    expect(now).toBeGreaterThanOrEqual(3400);
  });

  it('pausing stops everyone until the pause ends', async () => {
    let now = 0;
    const limiter = new TokenBucketRateLimiter({ limit: 100, intervalMs: 1000 }, () => now, async (ms) => void (now += ms));
    limiter.pauseFor(1500);
    await limiter.acquire();
    expect(now).toBeGreaterThanOrEqual(1500);
  });
});
