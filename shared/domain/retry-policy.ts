/**
 * When to try again. Pure: the caller supplies the random source so tests are deterministic.
 * Full jitter exponential backoff (AWS Architecture Blog), but never sooner than the upstream's
 * Retry-After, and never longer than `maxDelayMs` unless Retry-After demands it.
 */
export interface BackoffPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 10_000 };

/** Delay before retry number `attempt` (1 = first retry). */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, retryAfterMs?: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterMs !== undefined && retryAfterMs > 0) {
    // The upstream told us when; add a little jitter on top so many clients do not return at once.
    return retryAfterMs + Math.floor(random() * Math.min(policy.baseDelayMs, retryAfterMs));
  }
  return jittered;
}

/**
 * Parse an HTTP Retry-After header: delta-seconds or an HTTP date. Returns milliseconds, or
 * undefined when absent or unparsable.
 */
export function parseRetryAfter(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const trimmed = header.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
