/**
 * A token bucket per upstream credential. Every client built for the same credential in one
 * process shares a bucket (see `sharedRateLimiter`), so concurrent work for one merchant cannot
 * exceed the upstream's published limit. A 429 pauses the whole bucket for Retry-After, which is
 * what stops one throttled call from turning into a storm of them.
 */
export interface RateLimit {
  /** Requests allowed per `intervalMs`. */
  limit: number;
  intervalMs: number;
  /**
   * Requests that may go out back to back before pacing starts (default 1). A burst lets a
   * sliding window see up to `limit + burst - 1` calls, so keep it small against strict limits.
   */
  burst?: number;
}

/**
 * A limit shared by every process using one credential (all Lambda instances of all functions),
 * on top of the per-process bucket: the bucket paces one process, the gate caps the sum. Built by
 * shared/store/rate-windows.ts on DynamoDB.
 */
export interface SharedRateGate {
  /** Resolves when one more call fits in the credential's shared budget. */
  acquire(): Promise<void>;
  /**
   * Calls are about to follow: reserve their slots now, so the reservation's round trip overlaps
   * whatever the caller does first. Optional: a gate may decline (a strict limit wastes no slots).
   */
  prepare?(): void;
}

/** Builds the gate for one credential scope (e.g. `sphere-v1-write:<fingerprint>`) at the same rate as its local bucket. */
export type SharedRateGateFactory = (scopeKey: string, rate: RateLimit) => SharedRateGate;

export class TokenBucketRateLimiter {
  private readonly capacity: number;
  private tokens: number;
  private lastRefill: number;
  private pausedUntil = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly rate: RateLimit,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(rate.limit > 0) || !(rate.intervalMs > 0)) throw new RangeError('rate limit must be positive');
    // Pacing, not a full interval's worth of tokens up front: a cold start cannot fire a whole
    // minute's budget in its first second, and no sliding window ever sees more than the limit.
    this.capacity = Math.max(1, rate.burst ?? 1);
    this.tokens = this.capacity;
    this.lastRefill = now();
  }

  private refill(): void {
    const t = this.now();
    const elapsed = t - this.lastRefill;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.rate.limit) / this.rate.intervalMs);
      this.lastRefill = t;
    }
  }

  /** Resolves when the caller may send one request. Callers are served in arrival order. */
  acquire(): Promise<void> {
    const turn = this.queue.then(async () => {
      for (;;) {
        const pause = this.pausedUntil - this.now();
        if (pause > 0) {
          await this.sleep(pause);
          continue;
        }
        this.refill();
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        const waitMs = Math.ceil(((1 - this.tokens) * this.rate.intervalMs) / this.rate.limit);
        await this.sleep(Math.max(1, waitMs));
      }
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  /** The upstream said "slow down": nobody sharing this bucket sends anything for `ms`. */
  pauseFor(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.tokens = 0;
  }
}

const shared = new Map<string, TokenBucketRateLimiter>();

/**
 * One limiter per (scope, credential fingerprint, rate) in this process. `key` must already be a
 * non-reversible fingerprint of the credential, never the credential itself.
 */
export function sharedRateLimiter(key: string, rate: RateLimit): TokenBucketRateLimiter {
  const id = `${key}|${rate.limit}/${rate.intervalMs}/${rate.burst ?? 1}`;
  let limiter = shared.get(id);
  if (!limiter) {
    limiter = new TokenBucketRateLimiter(rate);
    shared.set(id, limiter);
  }
  return limiter;
}
