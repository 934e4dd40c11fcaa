/**
 * The one wait helper for tests, benchmarks and chaos runs: poll `probe` until it returns a truthy
 * value (returned to the caller) or the deadline passes. A probe that throws is retried (an upstream
 * that is still starting is the usual cause); throw `GiveUp` to stop at once (the awaited thing can no
 * longer happen). On timeout the error names what was awaited and the probe's last value or error.
 *
 * Prefer draining (runtime.drain()/idle(), sequence.webhooksIdle()) when the thing awaited is "all
 * work done"; this helper is for a specific outcome that arrives asynchronously.
 */
export interface EventuallyOptions {
  /** Give up after this long (default 20 s). */
  timeoutMs?: number;
  /** Wait this long between probes (default 100 ms). */
  everyMs?: number;
}

/** Thrown by a probe to stop waiting at once; `eventually` rethrows it unchanged. */
export class GiveUp extends Error {
  override name = 'GiveUp';
}

type Awaited_<T> = Exclude<T, undefined | null | false | 0 | ''>;

export async function eventually<T>(
  what: string,
  probe: () => Promise<T> | T,
  { timeoutMs = 20_000, everyMs = 100 }: EventuallyOptions = {},
): Promise<Awaited_<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } = { value: undefined };
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as Awaited_<T>;
      last = { value };
    } catch (error) {
      if (error instanceof GiveUp) throw error;
      last = { error };
    }
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; last ${describe(last)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

function describe(last: { value: unknown } | { error: unknown }): string {
  if ('error' in last) return `error: ${last.error instanceof Error ? last.error.message : String(last.error)}`;
  try {
    return `value: ${JSON.stringify(last.value) ?? String(last.value)}`.slice(0, 500);
  } catch {
    return `value: ${String(last.value)}`;
  }
}
