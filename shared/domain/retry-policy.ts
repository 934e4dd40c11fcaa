/**
 * When to try again, at two levels. Pure: the caller supplies the random source so tests are
 * deterministic.
 *  - In process (`backoffDelayMs`): a few quick retries of an upstream call for blips. Full jitter
 *    exponential backoff (AWS Architecture Blog), never sooner than the upstream's Retry-After. A
 *    wait longer than `maxInProcessWaitMs`, or a rate limit that gives no reset time, is not waited
 *    out in process: the error goes back to the queue.
 *  - On the queue (`queueRetryDelaySeconds`): how long a failed message stays invisible before its
 *    next receive, growing with its receive count, never sooner than Retry-After.
 */
export interface BackoffPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest in-process wait for a retry (default DEFAULT_MAX_IN_PROCESS_WAIT_MS). */
  maxInProcessWaitMs?: number;
}

/** A Retry-After up to this is waited out in process (Sphere's per-second limits say 1 s); longer goes back to the queue. */
export const DEFAULT_MAX_IN_PROCESS_WAIT_MS = 2_000;

export const DEFAULT_BACKOFF: BackoffPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 10_000, maxInProcessWaitMs: DEFAULT_MAX_IN_PROCESS_WAIT_MS };

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
 * Whether the in-process retry loop should wait `retryAfterMs` and try again, or give the error
 * back to its caller (the queue worker then returns the message with `queueRetryDelaySeconds`).
 * A rate limit without a stated reset (Sequence's per-minute limit sends none) is not retried in
 * process: a few quick retries only burn the window's remaining budget.
 */
export function retriesInProcess(rateLimited: boolean, retryAfterMs: number | undefined, policy: BackoffPolicy): boolean {
  if (retryAfterMs === undefined) return !rateLimited;
  return retryAfterMs <= (policy.maxInProcessWaitMs ?? DEFAULT_MAX_IN_PROCESS_WAIT_MS);
}

/** How long a message whose processing failed with a retryable error stays invisible. */
export interface QueueRetryPolicy {
  /** Ceiling of the delay after the first receive. */
  firstDelaySeconds: number;
  /** Growth of the ceiling per further receive. */
  multiplier: number;
  /** Largest delay the backoff itself gives (a longer Retry-After is still honoured). */
  maxDelaySeconds: number;
}

/**
 * ≤5 s, ≤20 s, ≤80 s, ≤300 s after receives 1–4 (each at least half its ceiling), so the queue
 * retries soon after a blip and the rest of the message group is not held behind the failure;
 * with maxReceiveCount 5 a message reaches the DLQ ~3.5–7 minutes after its first failure.
 */
export const QUEUE_RETRY_BACKOFF: QueueRetryPolicy = { firstDelaySeconds: 5, multiplier: 4, maxDelaySeconds: 300 };

/** SQS's largest visibility timeout (12 hours). */
export const SQS_MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;

export interface QueueRetryInput {
  /** ApproximateReceiveCount of the receive that just failed (1 on the first delivery). */
  receiveCount: number;
  /** The upstream's Retry-After, when it gave one. */
  retryAfterMs?: number;
  /**
   * Never later than this (the queue's own visibility timeout: the queue would retry then anyway).
   * Default and upper bound: SQS's 12-hour maximum.
   */
  limitSeconds?: number;
}

/**
 * Whole seconds (≥ 1) before the next receive: equal jitter (between half and all of
 * `firstDelaySeconds × multiplier^(receiveCount−1)`, capped at `maxDelaySeconds`), so the delay
 * never shrinks as the receive count grows for one random draw; at least the Retry-After; at most
 * `limitSeconds`.
 */
export function queueRetryDelaySeconds(input: QueueRetryInput, policy: QueueRetryPolicy = QUEUE_RETRY_BACKOFF, random: () => number = Math.random): number {
  const receives = Number.isFinite(input.receiveCount) ? Math.max(1, Math.floor(input.receiveCount)) : 1;
  const ceiling = Math.min(policy.maxDelaySeconds, policy.firstDelaySeconds * policy.multiplier ** (receives - 1));
  const jittered = ceiling / 2 + (Math.min(Math.max(random(), 0), 1) * ceiling) / 2;
  const retryAfterSeconds = input.retryAfterMs !== undefined && input.retryAfterMs > 0 ? Math.ceil(input.retryAfterMs / 1000) : 0;
  const limit = Math.min(SQS_MAX_VISIBILITY_TIMEOUT_SECONDS, Math.max(1, Math.floor(input.limitSeconds ?? SQS_MAX_VISIBILITY_TIMEOUT_SECONDS)));
  return Math.min(limit, Math.max(1, Math.ceil(jittered), retryAfterSeconds));
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

/**
 * When a rate limit resets, from rate-limit headers, for a 429 without Retry-After:
 * `RateLimit-Reset` (IETF draft: delta-seconds) or `X-RateLimit-Reset` (delta-seconds, or epoch
 * seconds when it is a plausible timestamp). Milliseconds, or undefined.
 */
export function parseRateLimitReset(header: (name: string) => string | null | undefined, now: number = Date.now()): number | undefined {
  const standard = header('ratelimit-reset')?.trim();
  if (standard && /^\d+$/.test(standard)) return Number(standard) * 1000;
  const legacy = header('x-ratelimit-reset')?.trim();
  if (!legacy || !/^\d+(\.\d+)?$/.test(legacy)) return undefined;
  const value = Number(legacy);
  // Seconds since the epoch (after 2001) rather than a delta.
  if (value > 1_000_000_000) return Math.max(0, Math.ceil(value * 1000 - now));
  return Math.ceil(value * 1000);
}
