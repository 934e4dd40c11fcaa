/**
 * Every benchmark, one after the other (each in its own Node process, so one cannot warm or starve
 * the next), then bench/results/summary.json and a table: tax, webhook ingest, backfill, and cold
 * start when bench/cold-start.ts exists. Flags after `--` go to every benchmark unchanged only
 * through the env-free defaults; to tune one, run it on its own (npm run bench:tax -- …).
 *
 *   npm run bench              all of them with their defaults
 *   npm run bench -- --quick   small parameters (a minute or two; figures are indicative only)
 *   npm run bench -- --only tax,backfill
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { machineInfo } from './lib/machine';

const ROOT = path.resolve(__dirname, '..');
const RESULTS = path.join(ROOT, 'bench', 'results');

interface Bench {
  name: string;
  script: string;
  result: string;
  args: string[];
  quickArgs: string[];
}

const BENCHES: Bench[] = [
  { name: 'tax', script: 'bench/tax.ts', result: 'tax.json', args: [], quickArgs: ['--iterations10', '5', '--iterations100', '5', '--all-lines-iterations', '1', '--sustained-iterations', '3', '--warmup', '1'] },
  { name: 'tax-latency', script: 'bench/tax.ts', result: 'tax-latency.json', args: ['--upstream-latency-ms', '40'], quickArgs: ['--upstream-latency-ms', '40', '--iterations', '3', '--spacing-ms', '300'] },
  { name: 'webhook-ingest', script: 'bench/webhook-ingest.ts', result: 'webhook-ingest.json', args: [], quickArgs: ['--webhooks', '500', '--warmup', '50'] },
  { name: 'backfill', script: 'bench/backfill.ts', result: 'backfill.json', args: [], quickArgs: ['--customers', '200'] },
  { name: 'cold-start', script: 'bench/cold-start.ts', result: 'cold-start.json', args: [], quickArgs: ['--runs', '3'] },
];

function parseArgs(argv: string[]): { quick: boolean; only?: string[] } {
  const out: { quick: boolean; only?: string[] } = { quick: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') out.quick = true;
    else if (arg === '--only') out.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else throw new Error(`Unknown argument ${arg} (known: --quick, --only a,b)`);
  }
  return out;
}

type Json = Record<string, unknown>;

function get(obj: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Json)[k] : undefined), obj);
}

/** The headline rows of one result file. */
function rows(name: string, r: Json): [string, string, string, string][] {
  const ok = (v: unknown) => (v === true ? 'yes' : v === false ? 'NO' : '—');
  const ms = (v: unknown) => (typeof v === 'number' ? `${v} ms` : String(v));
  switch (name) {
    case 'tax':
      return [
        ['tax 100 lines, one line changed', `median ${ms(get(r, 'metrics.lines100.oneLineChanged.latencyMs.median'))}, p99 ${ms(get(r, 'metrics.lines100.oneLineChanged.latencyMs.p99'))}`, 'p99 ≤ 50 ms', ok(get(r, 'meetsTargets.p99Ms100LinesOneLineChanged'))],
        ['tax 100 lines, unchanged (no-op)', `median ${ms(get(r, 'metrics.lines100.noop.latencyMs.median'))}, p99 ${ms(get(r, 'metrics.lines100.noop.latencyMs.p99'))}`, 'p99 ≤ 50 ms', ok(get(r, 'meetsTargets.p99Ms100LinesNoop'))],
        ['tax 10 lines, one line changed', `median ${ms(get(r, 'metrics.lines10.oneLineChanged.latencyMs.median'))}, p99 ${ms(get(r, 'metrics.lines10.oneLineChanged.latencyMs.p99'))}`, '—', '—'],
        ['tax 100 lines, all lines changed', `median ${ms(get(r, 'metrics.lines100.allLinesChanged.latencyMs.median'))}`, '(N PUTs at 25/s)', '—'],
        ['tax upstream calls / invoice', `Sphere ${String(get(r, 'metrics.lines100.oneLineChanged.calls.sphere.total'))}, Sequence GET ${String(get(r, 'metrics.lines100.oneLineChanged.calls.sequence.gets'))} (line pages ${String(get(r, 'metrics.lines100.oneLineChanged.calls.sequence.lineItemPages'))}), line PUT ${String(get(r, 'metrics.lines100.oneLineChanged.calls.sequence.linePuts'))}`, '1 Sphere; pages; changed lines', ok(Boolean(get(r, 'meetsTargets.sphereCallsPerInvoice')) && Boolean(get(r, 'meetsTargets.sequenceWritesOnlyForChangedLines')) && Boolean(get(r, 'meetsTargets.sequenceLineReadsByPage')))],
      ];
    case 'tax-latency':
      return (['lines10', 'lines100'] as const).flatMap((size) => [
        [`tax ${size.slice(5)} lines, one line changed, L = ${String(get(r, 'params.upstreamLatencyMs'))} ms`, `depth ${String(get(r, `metrics.${size}.oneLineChanged.depth`))} × L, ${String(get(r, `metrics.${size}.oneLineChanged.waves.max`))} waves`, 'depth ≤ 5.5, 3 waves', ok(Boolean(get(r, 'meetsTargets.depthOneLineChanged')) && Boolean(get(r, 'meetsTargets.wavesOneLineChanged')))],
        [`tax ${size.slice(5)} lines, unchanged, L = ${String(get(r, 'params.upstreamLatencyMs'))} ms`, `depth ${String(get(r, `metrics.${size}.unchanged.depth`))} × L, ${String(get(r, `metrics.${size}.unchanged.waves.max`))} waves`, 'depth ≤ 3.5, 1 wave', ok(Boolean(get(r, 'meetsTargets.depthUnchanged')) && Boolean(get(r, 'meetsTargets.wavesUnchanged')))],
      ]);
    case 'webhook-ingest':
      return [
        ['webhook ingest throughput', `${String(get(r, 'metrics.acceptedPerSecond'))}/s (${String(get(r, 'metrics.accepted'))}/${String(get(r, 'metrics.sent'))} accepted, ${String(get(r, 'metrics.queued'))} queued)`, '≥ 500/s', ok(get(r, 'meetsTargets.acceptedPerSecond'))],
        ['webhook ingest latency', `median ${ms(get(r, 'metrics.latencyMs.median'))}, p99 ${ms(get(r, 'metrics.latencyMs.p99'))}`, 'p99 ≤ 20 ms', ok(get(r, 'meetsTargets.p99Ms'))],
        ['webhook ingest, one in flight', `median ${ms(get(r, 'metrics.sequential.latencyMs.median'))}, p99 ${ms(get(r, 'metrics.sequential.latencyMs.p99'))}`, '—', '—'],
      ];
    case 'backfill':
      return [
        ['backfill writes/s ÷ limit', `${String(get(r, 'metrics.steadyStateWritesPerSecond'))}/s ÷ ${String(get(r, 'params.writeLimitPerSecond'))} = ${String(get(r, 'metrics.writeRatio'))}`, '≥ 0.9', ok(get(r, 'meetsTargets.writeRatio'))],
        ['backfill lost / duplicated / 429s', `${String(get(r, 'metrics.lost'))} / ${String(get(r, 'metrics.duplicatedWrites'))} / ${String(get(r, 'metrics.sphere429s'))} (${String(get(r, 'metrics.inSphere'))} of ${String(get(r, 'metrics.seeded'))})`, '0 / 0 / no storm', ok(Boolean(get(r, 'meetsTargets.lost')) && Boolean(get(r, 'meetsTargets.duplicatedWrites')) && Boolean(get(r, 'meetsTargets.noRetryStorm')))],
        ['worker peak memory (whole process)', `RSS ${String(get(r, 'metrics.memory.peakRssMb'))} MB, heap ${String(get(r, 'metrics.memory.peakHeapUsedMb'))} MB`, '≤ 128 MB', ok(get(r, 'meetsTargets.peakRssMb'))],
      ];
    case 'cold-start': {
      const fns = (r.functions as { name: string; importMs: { median: number; p99: number }; bytes: number; meetsTarget: boolean }[] | undefined) ?? [];
      return fns.map((f) => [`cold start ${f.name}`, `import median ${f.importMs.median} ms, p99 ${f.importMs.p99} ms, ${Math.round(f.bytes / 1024)} KiB`, '≤ 150 ms', ok(f.meetsTarget)]);
    }
    default:
      return [];
  }
}

function main(): void {
  const options = parseArgs(process.argv.slice(2));
  const selected = BENCHES.filter((b) => (!options.only || options.only.includes(b.name)) && existsSync(path.join(ROOT, b.script)));
  mkdirSync(RESULTS, { recursive: true });
  const runs: { name: string; exitCode: number | null; seconds: number }[] = [];
  for (const bench of selected) {
    console.log(`\n=== ${bench.name} (${bench.script}) ===`);
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--import', 'tsx', bench.script, ...(options.quick ? bench.quickArgs : bench.args)], { cwd: ROOT, stdio: 'inherit', env: process.env });
    runs.push({ name: bench.name, exitCode: child.status, seconds: Math.round((Date.now() - started) / 100) / 10 });
  }

  const results: Record<string, Json> = {};
  for (const bench of BENCHES) {
    const file = path.join(RESULTS, bench.result);
    if (existsSync(file)) results[bench.name] = JSON.parse(readFileSync(file, 'utf8')) as Json;
  }
  const table = Object.entries(results).flatMap(([name, r]) => rows(name, r));
  const summary = {
    generatedAt: new Date().toISOString(),
    machine: machineInfo(),
    quick: options.quick,
    runs,
    table: table.map(([metric, value, target, meets]) => ({ metric, value, target, meets })),
    results: Object.fromEntries(Object.entries(results).map(([name, r]) => [name, { generatedAt: r.generatedAt, meetsTargets: r.meetsTargets ?? null }])),
  };
  writeFileSync(path.join(RESULTS, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

  const w = [0, 1, 2].map((i) => Math.max(...table.map((row) => row[i]!.length), 6));
  console.log(`\nSummary (${summary.machine.cpus} × ${summary.machine.model}, Node ${summary.machine.node})\n`);
  for (const [metric, value, target, meets] of table) console.log(`  ${metric.padEnd(w[0]!)}  ${value.padEnd(w[1]!)}  ${target.padEnd(w[2]!)}  ${meets}`);
  console.log(`\nwrote ${path.join(RESULTS, 'summary.json')}`);
  if (runs.some((r) => r.exitCode !== 0)) {
    console.error(`failed: ${runs.filter((r) => r.exitCode !== 0).map((r) => r.name).join(', ')}`);
    process.exit(1);
  }
}

main();
