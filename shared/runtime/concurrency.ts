/** Bounded concurrency for upstream work the per-key rate buckets pace anyway. */

/** Run `work` over `items` with at most `limit` in flight; the first failure rejects (after the in-flight ones settle). */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  const results = await Promise.allSettled(runners);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Run `work` on the next turn of the event loop: upstream calls started just before it leave first,
 * instead of waiting behind its CPU (e.g. marshalling a large DynamoDB item) on the critical path.
 */
export function afterCallsLeave<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<void>((resolve) => setImmediate(resolve)).then(work);
}
