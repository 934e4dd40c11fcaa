import fc from 'fast-check';
import { DEFAULT_BACKOFF, backoffDelayMs, parseRetryAfter } from '../../../shared/domain/retry-policy';

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
