/**
 * Webhook ingest benchmark (issue 7): signed, unique CUSTOMER_UPDATED webhooks fired at the local
 * front door (POST /webhooks/sequence/{connectionId}) with a fixed number in flight. Each one goes
 * the whole way — connection read (DynamoDB), signature (vault secret), envelope, dedupe claim
 * (DynamoDB conditional put), SQS FIFO send — so queueing is included. The queues are bound to the
 * recording consumer (bench/lib/stack-recorder.ts) so that the workers do not compete for the CPU,
 * and the run checks that the number of messages queued equals the number of 202s.
 *
 * The load generator runs in a worker thread (its own event loop and core); the connector, the
 * emulators (dynalite, fauxqs) and the simulators share the main thread, as under `npm start`.
 * Bodies are signed before the clock starts. Latency is client-side (send → full response).
 *
 *   npm run bench:webhooks -- [--webhooks 5000] [--concurrency 16] [--out file]
 *
 * Targets: ≥ 500 accepted webhooks/s with p99 ≤ 20 ms.
 */
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { SIM_SEQUENCE_ACCOUNT_ID } from '../local/sequence-sim/server';
import { signatureHeader } from '../shared/webhooks/signature';
import { newResult, parseFlags, reportResult, runWhenMain, startBenchStack } from './lib/stack';
import { recorded } from './lib/stack-recorder';
import { round, summarize } from './lib/stats';

export const TARGETS = { acceptedPerSecond: 500, p99Ms: 20 } as const;

export interface WebhookBenchOptions {
  webhooks: number;
  concurrency: number;
  warmup: number;
  out?: string;
  quiet?: boolean;
}

interface FireRequest {
  url: string;
  bodies: string[];
  signatures: string[];
  concurrency: number;
}

interface FireResult {
  latenciesMs: number[];
  statuses: Record<string, number>;
  wallMs: number;
  errors: string[];
}

/** The load generator: plain JS, run in a worker thread. */
const FIRE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { url, bodies, signatures, concurrency } = workerData;
(async () => {
  const latenciesMs = new Array(bodies.length);
  const statuses = {};
  const errors = [];
  let next = 0;
  const started = performance.now();
  const runner = async () => {
    for (;;) {
      const i = next++;
      if (i >= bodies.length) return;
      const t0 = performance.now();
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'sequence-signature': signatures[i] }, body: bodies[i] });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] || 0) + 1;
      } catch (error) {
        statuses.error = (statuses.error || 0) + 1;
        if (errors.length < 5) errors.push(String(error && error.message || error));
      }
      latenciesMs[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, runner));
  parentPort.postMessage({ latenciesMs, statuses, wallMs: performance.now() - started, errors });
})().catch((error) => parentPort.postMessage({ latenciesMs: [], statuses: {}, wallMs: 0, errors: [String(error)] }));
`;

function fire(request: FireRequest): Promise<FireResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(FIRE_SOURCE, { eval: true, workerData: request });
    worker.once('message', (result: FireResult) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}

function signedBatch(secret: string, count: number, prefix: string): { bodies: string[]; signatures: string[] } {
  const bodies: string[] = [];
  const signatures: string[] = [];
  const updatedAt = new Date().toISOString();
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    const body = JSON.stringify({
      notificationType: 'CUSTOMER_UPDATED',
      sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID,
      resourceType: 'Customer',
      resourceId: id,
      resource: { id, legalName: `Bench customer ${i}`, updatedAt, address: { line1: '1 Market St', town: 'San Francisco', state: 'CA', postcode: '94105', country: 'US' } },
    });
    bodies.push(body);
    signatures.push(signatureHeader(secret, body));
  }
  return { bodies, signatures };
}

export async function runWebhookBench(options: WebhookBenchOptions): Promise<ReturnType<typeof newResult>> {
  const log = (line: string) => (options.quiet ? undefined : console.log(line));
  const result = newResult('webhook-ingest', { webhooks: options.webhooks, concurrency: options.concurrency, warmup: options.warmup, notificationType: 'CUSTOMER_UPDATED' });
  const stack = await startBenchStack({ recordQueues: 'all' });
  try {
    const connection = await stack.createConnection();
    const store = recorded();
    store.byQueue.clear();
    const url = connection.webhookUrl;

    // Warm-up: load the handler module, open the SDK connections, fill the secret cache.
    const warm = signedBatch(connection.webhookSecret, options.warmup, `cus_warm_${randomUUID().slice(0, 8)}`);
    const warmResult = await fire({ url, ...warm, concurrency: Math.min(options.concurrency, 8) });
    if ((warmResult.statuses['202'] ?? 0) !== options.warmup) throw new Error(`Warm-up webhooks not all accepted: ${JSON.stringify(warmResult.statuses)} ${warmResult.errors.join('; ')}`);
    await stack.runtime.drain({ timeoutMs: 60_000 });
    store.byQueue.clear();

    log(`Firing ${options.webhooks} signed CUSTOMER_UPDATED webhooks, ${options.concurrency} in flight…`);
    const batch = signedBatch(connection.webhookSecret, options.webhooks, `cus_bench_${randomUUID().slice(0, 8)}`);
    const cpuBefore = process.cpuUsage();
    const run = await fire({ url, ...batch, concurrency: options.concurrency });
    const cpu = process.cpuUsage(cpuBefore);
    await stack.runtime.drain({ timeoutMs: 120_000 });

    const accepted = run.statuses['202'] ?? 0;
    const queuedBodies = [...(store.byQueue.get('customer-sync.fifo') ?? [])];
    const queuedIds = new Set(queuedBodies.map((b) => (JSON.parse(b) as { customerId: string }).customerId));
    const latency = summarize(run.latenciesMs);
    const acceptedPerSecond = round(accepted / (run.wallMs / 1000), 1);

    result.metrics = {
      sent: options.webhooks,
      accepted,
      statuses: run.statuses,
      errors: run.errors,
      queued: queuedBodies.length,
      queuedDistinct: queuedIds.size,
      lost: Math.max(0, accepted - queuedIds.size),
      duplicatedInQueue: queuedBodies.length - queuedIds.size,
      wallSeconds: round(run.wallMs / 1000, 2),
      acceptedPerSecond,
      latencyMs: latency,
      /** CPU seconds the main thread (connector + emulators + simulators) used during the run. */
      mainThreadCpuSeconds: round((cpu.user + cpu.system) / 1e6, 2),
    };
    // One in flight: the service time of one webhook without queueing behind others.
    const sequentialCount = Math.max(20, Math.min(500, Math.floor(options.webhooks / 10)));
    const seqBatch = signedBatch(connection.webhookSecret, sequentialCount, `cus_seq_${randomUUID().slice(0, 8)}`);
    const seqRun = await fire({ url, ...seqBatch, concurrency: 1 });
    await stack.runtime.drain({ timeoutMs: 60_000 });
    result.metrics.sequential = { sent: sequentialCount, accepted: seqRun.statuses['202'] ?? 0, latencyMs: summarize(seqRun.latenciesMs), perSecond: round(((seqRun.statuses['202'] ?? 0) / seqRun.wallMs) * 1000, 1) };

    result.targets = { acceptedPerSecond: `>= ${TARGETS.acceptedPerSecond}`, p99Ms: `<= ${TARGETS.p99Ms}`, allAccepted: true, queuedEqualsAccepted: true };
    result.meetsTargets = {
      acceptedPerSecond: acceptedPerSecond >= TARGETS.acceptedPerSecond,
      p99Ms: latency.p99 <= TARGETS.p99Ms,
      allAccepted: accepted === options.webhooks,
      queuedEqualsAccepted: queuedBodies.length === accepted && queuedIds.size === accepted,
      p99MsOneInFlight: (result.metrics.sequential as { latencyMs: { p99: number } }).latencyMs.p99 <= TARGETS.p99Ms,
    };
    result.notes.push(
      'Client-side latency from a worker thread; the connector, dynalite, fauxqs and both simulators share the main thread of one Node process (as under `npm start`).',
      'Queues are bound to a recording consumer so the workers do not compete for the CPU; each accepted webhook is one SQS FIFO SendMessage.',
    );
    log(`  one in flight: median ${(result.metrics.sequential as { latencyMs: { median: number } }).latencyMs.median} ms, p99 ${(result.metrics.sequential as { latencyMs: { p99: number } }).latencyMs.p99} ms`);
    log(
      `  accepted ${accepted}/${options.webhooks} in ${result.metrics.wallSeconds} s → ${acceptedPerSecond}/s; latency median ${latency.median} ms, p99 ${latency.p99} ms; queued ${queuedBodies.length} (${queuedIds.size} distinct)`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { webhooks: 'number', concurrency: 'number', warmup: 'number', out: 'string' });
  const result = await runWebhookBench({
    webhooks: (flags.webhooks as number | undefined) ?? 5000,
    concurrency: (flags.concurrency as number | undefined) ?? 16,
    warmup: (flags.warmup as number | undefined) ?? 200,
  });
  reportResult(result, flags.out as string | undefined);
}

runWhenMain(module, main);
