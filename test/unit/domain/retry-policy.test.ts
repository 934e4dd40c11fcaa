import fc from 'fast-check';
import { DEFAULT_BACKOFF, QUEUE_RETRY_BACKOFF, SQS_MAX_VISIBILITY_TIMEOUT_SECONDS, backoffDelayMs, parseRateLimitReset, parseRetryAfter, queueRetryDelaySeconds, retriesInProcess } from '../../../shared/domain/retry-policy';

describe('backoff', () => {
  it('grows exponentially with full jitter and never exceeds the cap', () => {
    const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(1, policy, undefined, () => 0.999)).toBe(99);
    expect(backoffDelayMs(2, policy, undefined, () => 0.999)).toBe(199);
    expect(backoffDelayMs(3, policy, undefined, () => 0.999)).toBe(399);
    expect(backoffDelayMs(8, policy, undefined, () => 0.999)).toBe(999);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.double({ min: 0, max: 0.9999, noNaN: true }), (attempt, r) => {
        const d = backoffDelayMs(attempt, policy, undefined, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(policy.maxDelayMs);
      }),
    );
  });

  it('never retries sooner than Retry-After, even above the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 120_000 }), fc.double({ min: 0, max: 0.9999, noNaN: true }), (attempt, retryAfter, r) => {
        const d = backoffDelayMs(attempt, DEFAULT_BACKOFF, retryAfter, () => r);
        expect(d).toBeGreaterThanOrEqual(retryAfter);
        expect(d).toBeLessThanOrEqual(retryAfter + DEFAULT_BACKOFF.baseDelayMs);
      }),
    );
  });

  it('parses Retry-After seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0.5')).toBe(500);
    const now = Date.parse('2026-11-21T10:00:00Z');
    expect(parseRetryAfter('Sat, 21 Nov 2026 10:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Sat, 21 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('in-process retries', () => {
  it('waits out a short Retry-After, but gives a long one, or a rate limit without one, back to the queue', () => {
    expect(retriesInProcess(false, undefined, DEFAULT_BACKOFF)).toBe(true); // a 503 blip
    expect(retriesInProcess(true, undefined, DEFAULT_BACKOFF)).toBe(false); // Sequence's per-minute limit: no reset given
    expect(retriesInProcess(true, 1000, DEFAULT_BACKOFF)).toBe(true); // Sphere's per-second write limit
    expect(retriesInProcess(true, 2000, DEFAULT_BACKOFF)).toBe(true);
    expect(retriesInProcess(true, 2001, DEFAULT_BACKOFF)).toBe(false);
    expect(retriesInProcess(false, 30_000, DEFAULT_BACKOFF)).toBe(false); // a 503 with Retry-After: 30
  });

  it('reads a rate limit reset from RateLimit-Reset or X-RateLimit-Reset (delta or epoch seconds)', () => {
    const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;
    const now = 1_800_000_000_000;
    expect(parseRateLimitReset(headers({ 'ratelimit-reset': '17' }), now)).toBe(17_000);
    expect(parseRateLimitReset(headers({ 'x-ratelimit-reset': '30' }), now)).toBe(30_000);
    expect(parseRateLimitReset(headers({ 'x-ratelimit-reset': String(now / 1000 + 45) }), now)).toBe(45_000);
    expect(parseRateLimitReset(headers({ 'x-ratelimit-reset': 'soon' }), now)).toBeUndefined();
    expect(parseRateLimitReset(headers({}), now)).toBeUndefined();
  });
});

describe('queue retry delay', () => {
  const receiveCount = fc.integer({ min: 1, max: 50 });
  const unit = fc.double({ min: 0, max: 1, noNaN: true });
  const ceilingOf = (n: number) => Math.min(QUEUE_RETRY_BACKOFF.maxDelaySeconds, QUEUE_RETRY_BACKOFF.firstDelaySeconds * QUEUE_RETRY_BACKOFF.multiplier ** (n - 1));

  it('goes from a few seconds to a few minutes over the receives before the DLQ', () => {
    const top = () => 1;
    const bottom = () => 0;
    expect([1, 2, 3, 4].map((n) => queueRetryDelaySeconds({ receiveCount: n }, QUEUE_RETRY_BACKOFF, top))).toEqual([5, 20, 80, 300]);
    expect([1, 2, 3, 4].map((n) => queueRetryDelaySeconds({ receiveCount: n }, QUEUE_RETRY_BACKOFF, bottom))).toEqual([3, 10, 40, 150]);
  });

  it('is whole seconds between half and all of the capped exponential ceiling', () => {
    fc.assert(
      fc.property(receiveCount, unit, (n, r) => {
        const d = queueRetryDelaySeconds({ receiveCount: n }, QUEUE_RETRY_BACKOFF, () => r);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(Math.max(1, Math.floor(ceilingOf(n) / 2)));
        expect(d).toBeLessThanOrEqual(Math.ceil(ceilingOf(n)));
        expect(d).toBeLessThanOrEqual(QUEUE_RETRY_BACKOFF.maxDelaySeconds);
      }),
    );
  });

  it('never shrinks as the receive count grows (one random draw), and stops growing at the cap', () => {
    fc.assert(
      fc.property(receiveCount, unit, (n, r) => {
        const now = queueRetryDelaySeconds({ receiveCount: n }, QUEUE_RETRY_BACKOFF, () => r);
        const next = queueRetryDelaySeconds({ receiveCount: n + 1 }, QUEUE_RETRY_BACKOFF, () => r);
        expect(next).toBeGreaterThanOrEqual(now);
        if (ceilingOf(n) === QUEUE_RETRY_BACKOFF.maxDelaySeconds) expect(next).toBe(now);
      }),
    );
  });

  it('honours Retry-After (even above the backoff cap), within the limit', () => {
    fc.assert(
      fc.property(receiveCount, unit, fc.integer({ min: 1, max: 7_200_000 }), fc.option(fc.integer({ min: 1, max: 86_400 }), { nil: undefined }), (n, r, retryAfterMs, limitSeconds) => {
        const d = queueRetryDelaySeconds({ receiveCount: n, retryAfterMs, ...(limitSeconds !== undefined ? { limitSeconds } : {}) }, QUEUE_RETRY_BACKOFF, () => r);
        const limit = Math.min(limitSeconds ?? SQS_MAX_VISIBILITY_TIMEOUT_SECONDS, SQS_MAX_VISIBILITY_TIMEOUT_SECONDS);
        expect(d).toBeLessThanOrEqual(limit);
        expect(d).toBeGreaterThanOrEqual(1);
        if (Math.ceil(retryAfterMs / 1000) <= limit) expect(d * 1000).toBeGreaterThanOrEqual(retryAfterMs);
        expect(d).toBeGreaterThanOrEqual(Math.min(limit, queueRetryDelaySeconds({ receiveCount: n }, QUEUE_RETRY_BACKOFF, () => r)));
      }),
    );
  });

  it('treats a missing or nonsense receive count as the first receive', () => {
    expect(queueRetryDelaySeconds({ receiveCount: Number.NaN }, QUEUE_RETRY_BACKOFF, () => 1)).toBe(5);
    expect(queueRetryDelaySeconds({ receiveCount: 0 }, QUEUE_RETRY_BACKOFF, () => 1)).toBe(5);
  });
});
