/**
 * The full connector for the benchmarks: local/stack.ts (every route and queue binding of
 * local/wiring.ts, what `npm start` hosts, and both simulators in this process on free ports), and a
 * connection created through the admin API (POST /connections, as an operator would: credentials
 * checked, webhook policy registered, backfill queued). Queue bindings can be swapped for the
 * recording consumer (bench/lib/stack-recorder.ts) so that a benchmark of the front door does not
 * compete with the workers for the CPU.
 *
 * Everything runs in ONE Node process (as `npm start` does): the handlers, the emulators and the
 * simulators share the event loop and the heap. Say so next to any figure measured here. With
 * `simulatorsOnThread` the simulators run on a worker thread of their own (the tax latency bench).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type HttpRoute, type QueueBinding } from '../../local/runtime';
import { type SequenceSimulatorOptions } from '../../local/sequence-sim/server';
import { type SphereSimulatorOptions } from '../../local/sphere-sim/server';
import { type Stack, type ThreadedStack, startStack } from '../../local/stack';
import { machineInfo } from './machine';
import { callSequenceApi, callSimulator } from '../../local/sim-client';

export const SPHERE_KEY = 'sph_test_local';
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const RESULTS_DIR = path.join(PROJECT_ROOT, 'bench', 'results');

export interface BenchStackOptions {
  sequence?: SequenceSimulatorOptions;
  sphere?: SphereSimulatorOptions;
  /** Queue names (e.g. `customer-sync.fifo`) whose real worker is replaced by the recording consumer; `'all'` for every queue. */
  recordQueues?: string[] | 'all';
  /** Override fields of the wiring's bindings (e.g. a shorter visibility timeout). */
  queueOverrides?: Partial<QueueBinding>;
  routes?: HttpRoute[];
  /** Both simulators on their own thread (local/simulators-thread); their state is then reached over `/_sim/` only. */
  simulatorsOnThread?: boolean;
}

export interface BenchConnection {
  id: string;
  webhookSecret: string;
  webhookUrl: string;
}

/** What every benchmark stack offers, whichever thread its simulators run on. */
export type AnyBenchStack = BenchStack | ThreadedBenchStack;

export type ThreadedBenchStack = ThreadedStack & BenchStackMethods;

export interface BenchStack extends Stack, BenchStackMethods {}

interface BenchStackMethods {
  /** Sequence's public API on the simulator (Basic auth). */
  sequenceApi<T = Record<string, unknown>>(method: string, apiPath: string, body?: unknown): Promise<T>;
  /** A simulator's /_sim control surface. */
  sim<T = Record<string, unknown>>(baseUrl: string, method: string, simPath: string, body?: unknown): Promise<T>;
  /** POST /connections through the admin API; waits for the connection (and its first backfill) to settle. */
  createConnection(options?: { taxCodes?: { default: string; byTaxCategory?: Record<string, string> }; options?: { recordTransactions?: boolean; calculateOnDraft?: boolean }; settle?: boolean }): Promise<BenchConnection>;
}

/** How long one settle round may take in a benchmark (a large backlog drains slowly). */
export const BENCH_SETTLE_TIMEOUT_MS = 120_000;

const RECORDER = () => import('./stack-recorder');

export function startBenchStack(options: BenchStackOptions & { simulatorsOnThread: true }): Promise<ThreadedBenchStack>;
export function startBenchStack(options?: BenchStackOptions & { simulatorsOnThread?: false }): Promise<BenchStack>;
export async function startBenchStack(options: BenchStackOptions = {}): Promise<AnyBenchStack> {
  const record = options.recordQueues ?? [];
  const stackOptions = {
    sequence: { webhookRetryDelaysMs: [100, 500, 2000], ...options.sequence },
    sphere: options.sphere ?? {},
    queue: (q: QueueBinding) => ({
      ...q,
      ...options.queueOverrides,
      ...(record === 'all' || record.includes(q.queueName) ? { functionName: `${q.functionName}-recorder`, load: RECORDER } : {}),
    }),
    ...(options.routes ? { routes: options.routes } : {}),
    runtime: { log: () => undefined },
  };
  const stack: Stack | ThreadedStack = options.simulatorsOnThread ? await startStack({ ...stackOptions, simulatorsOnThread: true }) : await startStack(stackOptions);
  const { runtime, sequence, sphere, deps, admin } = stack;
  return {
    ...stack,
    sequenceApi: (method, apiPath, body) => callSequenceApi(sequence, method, apiPath, body),
    sim: callSimulator,
    async createConnection(connectionOptions = {}) {
      const created = await admin.call<{ id: string; status: string; error?: unknown }>('POST', '/connections', {
        name: 'Benchmark merchant',
        sequence: { environment: 'sandbox', clientId: sequence.clientId, clientSecret: sequence.clientSecret, baseUrl: sequence.apiUrl },
        sphere: { apiKey: SPHERE_KEY, baseUrl: sphere.url },
        // A code of the Sphere simulator's catalogue unless the benchmark maps its own (no built-in default).
        taxCodes: connectionOptions.taxCodes ?? { default: 'txcd_10000000' },
        ...(connectionOptions.options ? { options: connectionOptions.options } : {}),
      });
      if (created.status !== 201) throw new Error(`POST /connections → ${created.status}: ${created.text}`);
      const id = created.body.id;
      const secrets = await deps.vault.get(id);
      if (connectionOptions.settle !== false) await stack.settle({ timeoutMs: BENCH_SETTLE_TIMEOUT_MS });
      return { id, webhookSecret: secrets.webhookSigningSecret, webhookUrl: `${runtime.url}/webhooks/sequence/${id}` };
    },
  };
}

// ---- results ---------------------------------------------------------------------------------

/**
 * A new result of benchmark `name` run with `params`, for bench/results/<name>.json: the machine, when,
 * and (filled in by the run) what was measured, the targets and whether each is met.
 */
export function newResult(name: string, params: Record<string, unknown>) {
  return {
    name,
    machine: machineInfo(),
    generatedAt: new Date().toISOString(),
    durationSeconds: 0,
    params,
    metrics: {} as Record<string, unknown>,
    targets: {} as Record<string, unknown>,
    meetsTargets: {} as Record<string, boolean>,
    notes: [] as string[],
    startedAt: Date.now(),
  };
}

/** A benchmark's result as written (the shape newResult builds, without its start time). */
export type BenchResult = Omit<ReturnType<typeof newResult>, 'startedAt'>;

/** Write bench/results/<name>.json (or `out`); returns the path. */
export function writeResult(result: BenchResult & { startedAt?: number }, out?: string): string {
  const { startedAt, ...rest } = result;
  if (startedAt !== undefined) rest.durationSeconds = Math.round((Date.now() - startedAt) / 100) / 10;
  const file = out ?? path.join(RESULTS_DIR, `${result.name}.json`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(rest, null, 2)}\n`);
  return file;
}

// ---- memory --------------------------------------------------------------------------------

export interface MemorySample {
  t: number;
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** Samples process.memoryUsage() every `everyMs`; `stop()` returns the peaks (MB) and the samples. */
export function sampleMemory(everyMs = 100): { stop(): { peakRssMb: number; peakHeapUsedMb: number; peakExternalMb: number; samples: MemorySample[] } } {
  const samples: MemorySample[] = [];
  const take = () => {
    const m = process.memoryUsage();
    samples.push({ t: Date.now(), rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers });
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      take();
      const mb = (n: number) => Math.round((n / 1024 / 1024) * 10) / 10;
      return {
        peakRssMb: mb(Math.max(...samples.map((s) => s.rss))),
        peakHeapUsedMb: mb(Math.max(...samples.map((s) => s.heapUsed))),
        peakExternalMb: mb(Math.max(...samples.map((s) => s.external))),
        samples,
      };
    },
  };
}

// ---- command line ------------------------------------------------------------------------

/** `--name value` / `--flag` parsing for the bench scripts. */
export function parseFlags(argv: string[], known: Record<string, 'number' | 'string' | 'boolean'>): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`Unexpected argument ${arg}`);
    const [rawName, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const kind = known[rawName];
    if (!kind) throw new Error(`Unknown flag --${rawName} (known: ${Object.keys(known).map((k) => `--${k}`).join(', ')})`);
    if (kind === 'boolean') {
      out[rawName] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${rawName} needs a value`);
    if (kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${rawName} must be a positive number`);
      out[rawName] = n;
    } else out[rawName] = value;
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Write the result (bench/results/<name>.json, or `out`) and say whether it meets its targets. */
export function reportResult(result: BenchResult & { startedAt?: number }, out?: string): void {
  const file = writeResult(result, out);
  console.log(`meets targets: ${JSON.stringify(result.meetsTargets)}\nwrote ${file}`);
}

/** Run a bench script's `main` when the file is run itself (not imported by a test); an error exits 1. */
export function runWhenMain(script: NodeModule, main: () => Promise<void>): void {
  if (require.main !== script) return;
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
}
