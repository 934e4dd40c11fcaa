/**
 * Cold-start benchmark (issue 7): for every functions/<name>/handler.ts, bundle it exactly as the
 * stack does (bench/lib/bundle.ts, CONNECTOR_BUNDLING), report the bundle size (raw and gzip) and the
 * time to import it in a fresh Node process, measured inside the child from just before `import()`
 * to just after (module evaluation included: dependencies() and the SDK clients built at module
 * scope). Target: ≤ 150 ms median. Runs are interleaved across functions (and with/without source
 * maps) so that background load drifts affect all of them alike.
 *
 * Side by side (issue 15): a reference bundle (bench/lib/reference-handler.ts: the Powertools Logger
 * and one DynamoDB client) is built the same way and imported in the same runs; every function's
 * median is also reported as a ratio to it (`ratioToReference`, aim ≤ 1.5), which holds across
 * machines where the absolute milliseconds do not.
 *
 *   npm run bench:cold-start -- [--runs 15] [--only admin-api,reconcile] [--out bench/results/cold-start.json] [--strict]
 *
 * --strict exits 1 when a function misses the target (the default only reports). A function that
 * fails to bundle or import always exits 1. Writes machine-readable JSON (bench/results/ is
 * git-ignored) and prints a table.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../lib/constructs/connector-function';
import { bundleAll, discoverFunctions, type BundledFunction, type PackageSize } from './lib/bundle';
import { describeRun, runBundle } from './lib/run-bundle';

const TARGET_MS = 150;
const TARGET_RATIO = 1.5;
const REFERENCE = { name: 'reference', entry: path.join(PROJECT_ROOT, 'bench', 'lib', 'reference-handler.ts') };

interface Options {
  runs: number;
  only?: string[];
  out: string;
  strict: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { runs: 15, out: path.join(PROJECT_ROOT, 'bench', 'results', 'cold-start.json'), strict: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    if (arg === '--runs') {
      options.runs = Number(value());
      if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error('--runs must be a positive integer');
    } else if (arg === '--only') options.only = value().split(',').filter(Boolean);
    else if (arg === '--out') options.out = path.resolve(value());
    else if (arg === '--strict') options.strict = true;
    else throw new Error(`Unknown argument ${arg}`);
  }
  return options;
}

/**
 * The function environment as on Lambda (production-like: Secrets Manager backend, real-looking
 * resource names). Importing must not reach any of these: the SDK clients connect lazily.
 */
function lambdaEnvironment(name: string, sourceMaps: boolean): Record<string, string> {
  const queue = (q: string) => `https://sqs.eu-west-1.amazonaws.com/123456789012/sphere-connector-bench-${q}.fifo`;
  const queues = ['customer-sync', 'product-sync', 'invoice-tax', 'exemptions', 'backfill'];
  return {
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'ASIABENCHEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'bench-not-a-secret',
    AWS_LAMBDA_FUNCTION_NAME: `sphere-connector-bench-${name}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    TZ: ':UTC',
    ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
    POWERTOOLS_SERVICE_NAME: 'sphere-connector',
    POWERTOOLS_METRICS_NAMESPACE: 'SphereConnector',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    POWERTOOLS_TRACE_ENABLED: 'false',
    STAGE: 'bench',
    CONNECTOR_TABLE_NAME: 'sphere-connector-bench',
    IDEMPOTENCY_TABLE_NAME: 'sphere-connector-bench-idempotency',
    SECRETS_BACKEND: 'secrets-manager',
    SECRETS_PREFIX: 'sphere-connector/bench/connections/',
    CONNECTOR_PUBLIC_URL: 'https://abcdef1234.execute-api.eu-west-1.amazonaws.com',
    ...Object.fromEntries(queues.flatMap((q) => [[`${q.replace(/-/g, '_').toUpperCase()}_QUEUE_URL`, queue(q)], [`${q.replace(/-/g, '_').toUpperCase()}_DLQ_URL`, queue(`${q}-dlq`)]])),
  };
}

interface Stats {
  median: number;
  p99: number;
  min: number;
  max: number;
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  const mid = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (n: number) => Math.round(n * 10) / 10;
  return { median: round(median), p99: round(at(0.99)), min: round(sorted[0]!), max: round(sorted[sorted.length - 1]!) };
}

interface FunctionResult {
  name: string;
  bytes: number;
  gzipBytes: number;
  sourceMapBytes: number;
  /** Import time as deployed (NODE_OPTIONS=--enable-source-maps), measured inside the child. */
  importMs: Stats;
  /** The same without source-map support, to show what source maps cost at start-up. */
  importMsWithoutSourceMaps: Stats;
  /** Wall time of the whole child process (node start-up + import + exit), as seen by the parent. */
  processMs: Stats;
  meetsTarget: boolean;
  /** importMs median ÷ the reference bundle's, same run. */
  ratioToReference?: number;
  meetsRatioTarget?: boolean;
  topPackages: PackageSize[];
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  let functions = discoverFunctions();
  if (options.only) {
    const missing = options.only.filter((n) => !functions.some((f) => f.name === n));
    if (missing.length > 0) throw new Error(`No functions/<name>/handler.ts for: ${missing.join(', ')}`);
    functions = functions.filter((f) => options.only!.includes(f.name));
  }
  if (functions.length === 0) throw new Error('No functions/*/handler.ts found');

  const outRoot = mkdtempSync(path.join(os.tmpdir(), 'cold-start-'));
  const problems: string[] = [];
  try {
    console.log(`Bundling ${functions.length} function(s) with CONNECTOR_BUNDLING…`);
    const outcomes = await bundleAll([...functions, REFERENCE], outRoot, { concurrency: 2 });
    const bundled: BundledFunction[] = [];
    for (const fn of [...functions, REFERENCE]) {
      const outcome = outcomes.get(fn.name)!;
      if (outcome.ok) bundled.push(outcome);
      else problems.push(`${fn.name}: bundling failed: ${outcome.error}`);
    }

    const samples = new Map(bundled.map((b) => [b.name, { withMaps: [] as number[], withoutMaps: [] as number[], process: [] as number[] }]));
    const failed = new Set<string>();
    console.log(`Importing each bundle ${options.runs}× in fresh node processes (with and without source maps)…`);
    for (let run = 0; run < options.runs; run++) {
      for (const bundle of bundled) {
        if (failed.has(bundle.name)) continue;
        for (const sourceMaps of run % 2 === 0 ? [true, false] : [false, true]) {
          const started = performance.now();
          const outcome = await runBundle({ bundle: bundle.outfile, functionName: bundle.name, env: lambdaEnvironment(bundle.name, sourceMaps), timeoutMs: 30_000 });
          const wall = performance.now() - started;
          if (!outcome.report?.ok || outcome.report.importMs === undefined) {
            failed.add(bundle.name);
            problems.push(describeRun(bundle.name, outcome));
            break;
          }
          const s = samples.get(bundle.name)!;
          if (sourceMaps) {
            s.withMaps.push(outcome.report.importMs);
            s.process.push(wall);
          } else s.withoutMaps.push(outcome.report.importMs);
        }
      }
      process.stdout.write(`  run ${run + 1}/${options.runs}\r`);
    }
    process.stdout.write('\n');

    const referenceSamples = failed.has(REFERENCE.name) ? undefined : samples.get(REFERENCE.name);
    const referenceMs = referenceSamples && referenceSamples.withMaps.length > 0 ? stats(referenceSamples.withMaps).median : undefined;
    const results: FunctionResult[] = bundled
      .filter((b) => !failed.has(b.name))
      .map((b) => {
        const s = samples.get(b.name)!;
        const importMs = stats(s.withMaps);
        const ratio = referenceMs ? Math.round((importMs.median / referenceMs) * 100) / 100 : undefined;
        return {
          name: b.name,
          bytes: b.bytes,
          gzipBytes: b.gzipBytes,
          sourceMapBytes: b.sourceMapBytes,
          importMs,
          importMsWithoutSourceMaps: stats(s.withoutMaps),
          processMs: stats(s.process),
          meetsTarget: importMs.median <= TARGET_MS,
          ...(ratio !== undefined ? { ratioToReference: ratio, meetsRatioTarget: ratio <= TARGET_RATIO } : {}),
          topPackages: b.packages.slice(0, 8),
        };
      });

    const cpus = os.cpus();
    const report = {
      machine: {
        cpus: cpus.length,
        model: cpus[0]?.model ?? 'unknown',
        node: process.version,
        platform: process.platform,
        arch: process.arch,
        totalMemGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
        /** 1/5/15-minute load averages when the run started: a busy machine inflates every number. */
        loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
      },
      generatedAt: new Date().toISOString(),
      targetMs: TARGET_MS,
      targetRatioToReference: TARGET_RATIO,
      reference: { entry: path.relative(PROJECT_ROOT, REFERENCE.entry), what: 'Powertools Logger + one DynamoDB client, bundled with CONNECTOR_BUNDLING', importMsMedian: referenceMs ?? null },
      runs: options.runs,
      method:
        'Each run: a fresh `node` process imports the bundle (index.mjs, written outside the repo) with the Lambda-like environment; importMs is measured inside the child from just before import() to just after. meetsTarget compares the median of importMs (with --enable-source-maps, as deployed) to targetMs.',
      functions: results,
      failures: problems,
    };
    mkdirSync(path.dirname(options.out), { recursive: true });
    writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);

    const header = ['function', 'bundle', 'gzip', 'import p50', 'import p99', 'no-maps p50', 'process p50', `≤ ${TARGET_MS} ms`, `÷ reference (≤ ${TARGET_RATIO})`];
    const rows = results.map((r) => [
      r.name,
      kb(r.bytes),
      kb(r.gzipBytes),
      `${r.importMs.median} ms`,
      `${r.importMs.p99} ms`,
      `${r.importMsWithoutSourceMaps.median} ms`,
      `${r.processMs.median} ms`,
      r.meetsTarget ? 'yes' : 'NO',
      r.ratioToReference === undefined ? '—' : `${r.ratioToReference.toFixed(2)}${r.meetsRatioTarget ? '' : ' NO'}`,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log(`\n${report.machine.cpus}× ${report.machine.model}, ${report.machine.totalMemGb} GB, node ${report.machine.node} ${report.machine.platform}/${report.machine.arch}, load ${report.machine.loadAverage.join(' ')}`);
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const row of rows) console.log(line(row));
    for (const r of results) console.log(`  ${r.name}: ${r.topPackages.slice(0, 5).map((p) => `${p.name} ${kb(p.bytes)}`).join(', ')}`);
    for (const problem of problems) console.error(`\nFAILED ${problem}`);
    console.log(`\nWrote ${path.relative(PROJECT_ROOT, options.out)}`);

    if (problems.length > 0 || (options.strict && results.some((r) => !r.meetsTarget))) process.exitCode = 1;
  } finally {
    rmSync(outRoot, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
