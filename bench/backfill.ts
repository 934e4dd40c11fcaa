/**
 * Backfill benchmark (issue 7): N customers seeded in the Sequence simulator, a connection created
 * through the admin API (which queues the backfill, registers the webhook policy — so the tag PUTs'
 * CUSTOMER_UPDATED echoes are included), and the real backfill + customer-sync workers running
 * until every customer exists in the Sphere simulator. Measured:
 *  - achieved Sphere customer writes/s over the steady-state window (the middle 90 % of successful
 *    writes, from the simulator's own request timestamps) ÷ the simulator's write limit;
 *  - 429s (a retry storm would show as many), lost customers (in Sequence, not in Sphere) and
 *    duplicated writes (successful writes beyond one per customer);
 *  - Sequence calls per customer (the other budget: 1,500 requests/minute per key);
 *  - peak RSS and V8 heap of the process, sampled every 100 ms (an upper bound for "worker peak
 *    memory": the workers run in this process next to dynalite, fauxqs and both simulators).
 *
 *   npm run bench:backfill -- [--customers 1000] [--write-limit 10] [--sequence-limit 1500] [--out file]
 *
 * --write-limit is the Sphere simulator's v1 write limit per second, --sequence-limit the Sequence
 * simulator's limit per minute. The connector's clients pace at the published limits (Sphere 10/s,
 * Sequence 1,500/min); when a flag differs from the published figure the benchmark re-keys the
 * client's process-wide bucket for this credential to the same figure (bench only, see
 * `matchClientPacing`), so that client and simulator agree as they would in production.
 *
 * Targets: writes/s ÷ limit ≥ 0.9; zero lost, zero duplicated; no 429 retry storm; peak memory ≤ 128 MB.
 */
import { SPHERE_V1_WRITE_LIMIT, SPHERE_V1_WRITE_PACE, sphereKeyFingerprint } from '../shared/sphere/client';
import { SEQUENCE_RATE_LIMIT_PER_MINUTE, credentialFingerprint, sequenceRate } from '../shared/sequence/client';
import { type RateLimit, sharedRateLimiter } from '../shared/http/rate-limiter';
import { type BenchStack, newResult, parseFlags, reportResult, runWhenMain, sampleMemory, sleep, SPHERE_KEY, startBenchStack } from './lib/stack';
import { round } from './lib/stats';

export const TARGETS = { writeRatio: 0.9, peakMemoryMb: 128 } as const;
const SEED_CHUNK = 500;

export interface BackfillBenchOptions {
  customers: number;
  writeLimit: number;
  sequenceLimitPerMinute: number;
  timeoutSeconds: number;
  quiet?: boolean;
}

/**
 * The connector's clients pace at the published limits. For a simulator limit other than those,
 * create this credential's shared bucket first (same id the client will ask for) and change its
 * refill rate to the simulator's figure. Bench only: production code is unchanged.
 */
function matchClientPacing(stack: BenchStack, writeLimit: number, sequencePerMinute: number): void {
  if (writeLimit !== SPHERE_V1_WRITE_LIMIT.limit) {
    // Same headroom as the client keeps under the published limit (SPHERE_V1_WRITE_PACE).
    const rate: RateLimit = { ...SPHERE_V1_WRITE_PACE };
    sharedRateLimiter(`sphere-v1-write:${sphereKeyFingerprint(SPHERE_KEY)}`, rate);
    rate.limit = (writeLimit * SPHERE_V1_WRITE_PACE.limit) / SPHERE_V1_WRITE_LIMIT.limit;
  }
  if (sequencePerMinute !== SEQUENCE_RATE_LIMIT_PER_MINUTE) {
    const rate = { ...sequenceRate(SEQUENCE_RATE_LIMIT_PER_MINUTE) };
    sharedRateLimiter(`sequence:${credentialFingerprint(stack.sequence.apiUrl, stack.sequence.clientId, stack.sequence.clientSecret)}`, rate);
    rate.limit = sequenceRate(sequencePerMinute).limit;
  }
}

interface Logged {
  method: string;
  path: string;
  status: number;
  t: number;
}

export async function runBackfillBench(options: BackfillBenchOptions): Promise<ReturnType<typeof newResult>> {
  const log = (line: string) => (options.quiet ? undefined : console.log(line));
  const result = newResult('backfill', { customers: options.customers, writeLimitPerSecond: options.writeLimit, sequenceLimitPerMinute: options.sequenceLimitPerMinute });
  const stack = await startBenchStack({ sphere: { writeLimitPerSecond: options.writeLimit }, sequence: { rateLimitPerMinute: options.sequenceLimitPerMinute } });
  try {
    matchClientPacing(stack, options.writeLimit, options.sequenceLimitPerMinute);

    // Every upstream call, uncapped (the simulators keep only the last few thousand).
    const sphereLog: Logged[] = [];
    const originalLog = stack.sphere.state.logRequest.bind(stack.sphere.state);
    stack.sphere.state.logRequest = (record) => {
      sphereLog.push({ method: record.method, path: record.path, status: record.status, t: Date.parse(record.time) });
      originalLog(record);
    };
    const sequenceCounts = { total: 0, gets: 0, puts: 0, rateLimited: 0 };
    const seqRequests = stack.sequence.requests;
    const originalPush = seqRequests.push.bind(seqRequests);
    seqRequests.push = (...entries) => {
      for (const e of entries) {
        sequenceCounts.total++;
        if (e.method === 'GET') sequenceCounts.gets++;
        if (e.method === 'PUT') sequenceCounts.puts++;
        if (e.status === 429) sequenceCounts.rateLimited++;
      }
      return originalPush(...entries);
    };

    log(`Seeding ${options.customers} customers in the Sequence simulator…`);
    const seededIds: string[] = [];
    for (let start = 0; start < options.customers; start += SEED_CHUNK) {
      const count = Math.min(SEED_CHUNK, options.customers - start);
      const out = await stack.sim<{ customers: string[] }>(stack.sequence.url, 'POST', '/_sim/seed', {
        customers: Array.from({ length: count }, (_, i) => ({
          legalName: `Backfill Customer ${start + i}`,
          address: { line1: `${start + i} Market St`, town: 'San Francisco', state: 'CA', postcode: '94105', country: 'US' },
          contacts: [{ name: 'Billing', email: `billing+${start + i}@example.com`, billingPreference: 'PRIMARY' }],
          taxStatus: 'TAXED',
        })),
      });
      seededIds.push(...out.customers);
    }

    if (global.gc) global.gc();
    const baseline = process.memoryUsage();
    const memory = sampleMemory(100);
    const started = Date.now();
    log(`Creating the connection (queues the backfill); Sphere write limit ${options.writeLimit}/s, Sequence ${options.sequenceLimitPerMinute}/min…`);
    const connection = await stack.createConnection({ settle: false });
    const deadline = started + options.timeoutSeconds * 1000;
    let lastReport = 0;
    for (;;) {
      const inSphere = stack.sphere.state.customers.size;
      if (inSphere >= options.customers) break;
      if (Date.now() > deadline) break;
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        log(`  ${Math.round((Date.now() - started) / 1000)} s: ${inSphere}/${options.customers} customers in Sphere, RSS ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MB`);
      }
      await sleep(200);
    }
    const allInSphereAt = Date.now();
    await stack.settle({ rounds: 3, timeoutMs: 300_000 }).catch((error: unknown) => log(`  settle: ${String(error)}`));
    const settledAt = Date.now();
    const mem = memory.stop();

    const writes = sphereLog.filter((r) => r.method === 'POST' && r.path === '/v1/customers');
    const ok = writes.filter((r) => r.status >= 200 && r.status < 300).map((r) => r.t).sort((a, b) => a - b);
    const rateLimited = sphereLog.filter((r) => r.status === 429).length;
    const trim = Math.floor(ok.length * 0.05);
    const window = ok.slice(trim, ok.length - trim);
    const windowSeconds = window.length > 1 ? (window[window.length - 1]! - window[0]!) / 1000 : 0;
    const steadyWritesPerSecond = windowSeconds > 0 ? (window.length - 1) / windowSeconds : 0;
    const overallSeconds = ok.length > 1 ? (ok[ok.length - 1]! - ok[0]!) / 1000 : 0;
    const sphereIds = new Set(stack.sphere.state.customers.keys());
    const lost = seededIds.filter((id) => !sphereIds.has(id)).length;
    const duplicatedWrites = Math.max(0, ok.length - sphereIds.size);
    const conn = await stack.admin.call<{ backfill: { state: string; done: number; total: number }; counts: Record<string, number> }>('GET', `/connections/${connection.id}`);
    const failures = await stack.admin.call<{ items: unknown[] }>('GET', `/connections/${connection.id}/failures`);
    const dlq = await stack.admin.call<{ queues?: { name: string; approximateMessages?: number }[]; items?: unknown[] }>('GET', '/dlq');
    const ratio = round(steadyWritesPerSecond / options.writeLimit, 3);
    const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;

    result.metrics = {
      seeded: seededIds.length,
      inSphere: sphereIds.size,
      lost,
      duplicatedWrites,
      successfulCustomerWrites: ok.length,
      sphere429s: rateLimited,
      sphereCalls: sphereLog.length,
      steadyStateWritesPerSecond: round(steadyWritesPerSecond, 2),
      writeRatio: ratio,
      overallWritesPerSecond: overallSeconds > 0 ? round((ok.length - 1) / overallSeconds, 2) : 0,
      secondsUntilAllInSphere: round((allInSphereAt - started) / 1000, 1),
      secondsUntilSettled: round((settledAt - started) / 1000, 1),
      sequence: { ...sequenceCounts, callsPerCustomer: round(sequenceCounts.total / Math.max(1, seededIds.length), 2), putsPerCustomer: round(sequenceCounts.puts / Math.max(1, seededIds.length), 2) },
      connection: { status: conn.status, backfill: conn.body.backfill, counts: conn.body.counts },
      openFailures: failures.body.items?.length ?? null,
      dlq: dlq.body,
      memory: {
        peakRssMb: mem.peakRssMb,
        peakHeapUsedMb: mem.peakHeapUsedMb,
        peakExternalMb: mem.peakExternalMb,
        baselineRssMb: mb(baseline.rss),
        baselineHeapUsedMb: mb(baseline.heapUsed),
        peakHeapGrowthMb: round(mem.peakHeapUsedMb - mb(baseline.heapUsed), 1),
        samples: mem.samples.length,
      },
    };
    result.targets = { writeRatio: `>= ${TARGETS.writeRatio}`, lost: 0, duplicatedWrites: 0, retryStorm: '429s <= 1 % of writes', peakRssMb: `<= ${TARGETS.peakMemoryMb}` };
    result.meetsTargets = {
      writeRatio: ratio >= TARGETS.writeRatio,
      lost: lost === 0,
      duplicatedWrites: duplicatedWrites === 0,
      noRetryStorm: rateLimited <= Math.max(1, ok.length * 0.01),
      peakRssMb: mem.peakRssMb <= TARGETS.peakMemoryMb,
    };
    result.notes.push(
      'Steady-state window: the middle 90 % of successful POST /v1/customers, timestamps from the Sphere simulator.',
      'Memory is the whole process (connector workers + dynalite + fauxqs + both simulators + the benchmark), sampled every 100 ms: an upper bound for one worker. peakHeapGrowthMb is the V8 heap growth over the baseline taken after seeding.',
      `Client pacing: Sphere ${options.writeLimit}/s, Sequence ${options.sequenceLimitPerMinute}/min (${options.writeLimit === SPHERE_V1_WRITE_LIMIT.limit && options.sequenceLimitPerMinute === SEQUENCE_RATE_LIMIT_PER_MINUTE ? 'the published limits, unchanged' : 'bench re-keyed the shared buckets to the simulator limits'}).`,
    );
    log(
      `  ${sphereIds.size}/${seededIds.length} in Sphere after ${result.metrics.secondsUntilAllInSphere} s; steady ${round(steadyWritesPerSecond, 2)} writes/s ÷ ${options.writeLimit} = ${ratio}; 429s ${rateLimited}; lost ${lost}; duplicated ${duplicatedWrites}; Sequence calls/customer ${round(sequenceCounts.total / Math.max(1, seededIds.length), 2)}; peak RSS ${mem.peakRssMb} MB (heap ${mem.peakHeapUsedMb} MB)`,
    );
    return result;
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { customers: 'number', 'write-limit': 'number', 'sequence-limit': 'number', 'timeout-seconds': 'number', out: 'string' });
  const result = await runBackfillBench({
    customers: (flags.customers as number | undefined) ?? 1000,
    writeLimit: (flags['write-limit'] as number | undefined) ?? SPHERE_V1_WRITE_LIMIT.limit,
    sequenceLimitPerMinute: (flags['sequence-limit'] as number | undefined) ?? SEQUENCE_RATE_LIMIT_PER_MINUTE,
    timeoutSeconds: (flags['timeout-seconds'] as number | undefined) ?? 1800,
  });
  reportResult(result, flags.out as string | undefined);
}

runWhenMain(module, main);
