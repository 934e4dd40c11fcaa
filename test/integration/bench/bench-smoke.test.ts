/**
 * Smoke test of the benchmark scripts (issue 7) with tiny parameters: they run end to end against
 * the full local stack and produce result JSON of the documented shape, with the correctness
 * counts right (everything accepted and queued once; no customer lost or written twice). Speed is
 * NOT asserted anywhere: these figures depend on the machine (npm run bench measures them).
 */
import { runBackfillBench } from '../../../bench/backfill';
import { runTaxBench, runTaxLatencyBench } from '../../../bench/tax';
import { runWebhookBench } from '../../../bench/webhook-ingest';

// Each benchmark starts its own stack; handlers build their dependencies at module scope from the
// environment of the stack that first loaded them, so every test loads them afresh (as the
// benchmark scripts do, one process each).
beforeEach(() => {
  jest.resetModules();
});

const SHAPE = {
  name: expect.any(String),
  machine: { cpus: expect.any(Number), model: expect.any(String), node: expect.any(String), platform: expect.any(String), arch: expect.any(String), totalMemGb: expect.any(Number) },
  generatedAt: expect.any(String),
  params: expect.any(Object),
  metrics: expect.any(Object),
  targets: expect.any(Object),
  meetsTargets: expect.any(Object),
};
const latency = { count: expect.any(Number), median: expect.any(Number), p99: expect.any(Number), mean: expect.any(Number), min: expect.any(Number), max: expect.any(Number) };

it('tax bench: one Sphere call per calculation, one line page, one line PUT for one changed line', async () => {
  const result = await runTaxBench({ iterations10: 2, iterations100: 2, allLinesIterations: 1, warmup: 1, spacingMs: 50, sustainedIterations: 1, quiet: true });
  expect(result).toMatchObject({ ...SHAPE, name: 'tax' });
  for (const size of ['lines10', 'lines100'] as const) {
    const m = (result.metrics as Record<string, Record<string, Record<string, unknown>>>)[size]!;
    expect(m.noop).toMatchObject({ latencyMs: { ...latency, count: 2 }, calls: { sphere: { total: 0 }, sequence: { puts: 0, patches: 0 } } });
    expect(m.oneLineChanged).toMatchObject({
      latencyMs: { ...latency, count: 2 },
      calls: { sphere: { calculateTax: 1, total: 1 }, sequence: { lineItemPages: 1, linePuts: 1 } },
      sphereCallsPerInvoice: { min: 1, max: 1 },
      linePutsPerInvoice: { min: 1, max: 1 },
    });
  }
  const all = (result.metrics as { lines100: { allLinesChanged: { calls: { sequence: { linePuts: number } } } } }).lines100.allLinesChanged;
  expect(all.calls.sequence.linePuts).toBe(100);
  expect(result.meetsTargets).toMatchObject({ sphereCallsPerInvoice: true, sequenceLineReadsByPage: true, sequenceWritesOnlyForChangedLines: true });
}, 120_000);

it('tax latency bench: depth and upstream waves per scenario, with the wave structure the data dependencies allow', async () => {
  // L = 400 ms: a wave is "calls that started before any of them answered", so on a loaded CI
  // machine a CPU stall longer than L between two parallel reads (or before the reads the tax
  // record foresees, one DynamoDB read after the invoice's) would count as an extra wave. 400 ms
  // keeps that out of reach while the run stays a few seconds; the bench itself uses 40.
  const result = await runTaxLatencyBench({ upstreamLatencyMs: 400, iterations: 1, spacingMs: 150, largeInvoiceLines: 0, quiet: true });
  expect(result).toMatchObject({ ...SHAPE, name: 'tax-latency' });
  for (const size of ['lines10', 'lines100'] as const) {
    const m = (result.metrics as Record<string, Record<string, { depth: number; waves: { max: number }; upstreamCalls: { max: number } }>>)[size]!;
    expect(m.unchanged).toMatchObject({ depth: expect.any(Number), waves: { max: 1 } });
    expect(m.oneLineChanged).toMatchObject({ depth: expect.any(Number), waves: { max: 3 } });
  }
  expect(result.meetsTargets).toMatchObject({ wavesOneLineChanged: true, wavesUnchanged: true });
}, 120_000);

it('webhook ingest bench: every signed webhook accepted and queued exactly once', async () => {
  const result = await runWebhookBench({ webhooks: 200, concurrency: 8, warmup: 20, quiet: true });
  expect(result).toMatchObject({ ...SHAPE, name: 'webhook-ingest' });
  expect(result.metrics).toMatchObject({ sent: 200, accepted: 200, queued: 200, queuedDistinct: 200, lost: 0, duplicatedInQueue: 0, latencyMs: { ...latency, count: 200 } });
  expect(result.meetsTargets).toMatchObject({ allAccepted: true, queuedEqualsAccepted: true });
}, 120_000);

it('backfill bench: every customer in Sphere once, none lost, no 429 storm, memory sampled', async () => {
  const result = await runBackfillBench({ customers: 60, writeLimit: 10, sequenceLimitPerMinute: 1500, timeoutSeconds: 90, quiet: true });
  expect(result).toMatchObject({ ...SHAPE, name: 'backfill' });
  expect(result.metrics).toMatchObject({ seeded: 60, inSphere: 60, lost: 0, duplicatedWrites: 0, successfulCustomerWrites: 60 });
  expect(result.meetsTargets).toMatchObject({ lost: true, duplicatedWrites: true, noRetryStorm: true });
  const memory = (result.metrics as { memory: { peakRssMb: number; samples: number } }).memory;
  expect(memory.peakRssMb).toBeGreaterThan(0);
  expect(memory.samples).toBeGreaterThan(1);
}, 120_000);
