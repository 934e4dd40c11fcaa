/**
 * A stand-in SQS consumer for the benchmarks: counts (and keeps the bodies of) every message per
 * queue and acknowledges it, so a front-door benchmark can check "queued = accepted" without the
 * real workers competing for the CPU. The store is process-global (the runtime loads this module
 * in the benchmark's own process).
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

interface RecorderStore {
  byQueue: Map<string, string[]>;
}

const KEY = Symbol.for('bench.stack-recorder');

export function recorded(): RecorderStore {
  const g = globalThis as unknown as Record<symbol, RecorderStore | undefined>;
  g[KEY] ??= { byQueue: new Map() };
  return g[KEY];
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const store = recorded();
  for (const record of event.Records) {
    const queue = record.eventSourceARN.split(':').pop() ?? 'unknown';
    let bodies = store.byQueue.get(queue);
    if (!bodies) store.byQueue.set(queue, (bodies = []));
    bodies.push(record.body);
  }
  return { batchItemFailures: [] };
}
