/**
 * Small statistics helpers for the benchmarks: nearest-rank percentiles (no interpolation, so a
 * p99 of 30 samples is the worst sample — with few samples p99 is the maximum, and says so), and
 * a timer. All values in milliseconds unless the caller says otherwise.
 */

export interface Summary {
  count: number;
  median: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

const round = (n: number, digits = 2): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** Nearest-rank percentile of `samples` (q in 0..1). */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(samples: readonly number[], digits = 2): Summary {
  if (samples.length === 0) return { count: 0, median: Number.NaN, p99: Number.NaN, mean: Number.NaN, min: Number.NaN, max: Number.NaN };
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const s of samples) {
    if (s < min) min = s;
    if (s > max) max = s;
    sum += s;
  }
  return {
    count: samples.length,
    median: round(median(samples), digits),
    p99: round(percentile(samples, 0.99), digits),
    mean: round(sum / samples.length, digits),
    min: round(min, digits),
    max: round(max, digits),
  };
}

/** Time one async call in milliseconds (high resolution). */
export async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

export { round };
