/**
 * Chaos run (issue 7): the whole connector on the local runtime against both simulators with
 * their fault injection — Sphere answering 20% 5xx and 10% 429 at 0–200 ms, every Sequence webhook
 * delivered twice and out of order — over 1,000 customers, 200 products and 500 invoices (US states,
 * Canada, EU, UK; exempt and reverse-charged customers; voids and credit notes; a few records
 * invalid on purpose). After the queues drain and one failures/retry it checks every invariant and
 * prints the counts (bench/lib/chaos-scenario.ts). A reduced version runs in npm test
 * (test/integration/chaos/).
 *
 *   npm run chaos -- [--customers 1000] [--products 200] [--invoices 500] [--seed 7]
 *                    [--visibility 60] [--out bench/results/chaos.json] [--verbose]
 *
 * Sequence's limit (1,500 requests/min per key; the connector's client paces itself to it) and
 * Sphere's v1 limit (10 writes/s, plus the injected 429s that pause the key's bucket) pace the run:
 * the full size takes roughly 40 minutes on 2 cores (the backfill alone ~10), so smaller sizes are
 * handy (e.g. --customers 300 --products 60 --invoices 150, ~10 minutes). Progress is printed as it
 * goes, and every 30 s during long phases. Exit code 1 when an invariant
 * fails. --verbose passes the connector's own log lines through (they are always captured and
 * scanned for secrets).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { captureLogs } from './lib/chaos-log-capture';
import { machineInfo, parseFlags, positiveInt } from './lib/chaos-machine';
import { formatChaosSummary, runChaos } from './lib/chaos-scenario';

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), ['customers', 'products', 'invoices', 'seed', 'visibility', 'out', 'verbose', 'help']);
  if (flags.help) {
    console.log('npm run chaos -- [--customers 1000] [--products 200] [--invoices 500] [--seed 7] [--visibility 60] [--out bench/results/chaos.json] [--verbose]');
    return 0;
  }
  const sizes = {
    customers: positiveInt(flags.customers, 1000, 'customers'),
    products: positiveInt(flags.products, 200, 'products'),
    invoices: positiveInt(flags.invoices, 500, 'invoices'),
  };
  if (sizes.customers < 2 || sizes.products < 2) throw new Error('--customers and --products must be at least 2');
  const out = path.resolve(flags.out ?? path.join(__dirname, 'results', 'chaos.json'));
  const capture = captureLogs({ passThrough: flags.verbose === 'true' });
  const started = Date.now();
  const progress = (line: string) => capture.print(`[${((Date.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}\n`);
  let result;
  try {
    result = await runChaos({
      sizes,
      seed: positiveInt(flags.seed, 7, 'seed'),
      visibilityTimeoutSeconds: positiveInt(flags.visibility, 60, 'visibility'),
      capture,
      progress,
    });
  } finally {
    capture.stop();
  }
  const report = {
    machine: machineInfo(),
    generatedAt: new Date().toISOString(),
    sizes: result.sizes,
    seed: result.seed,
    faults: result.faults,
    durationsMs: result.durationsMs,
    counts: result.counts,
    problems: result.problems,
    passed: result.passed,
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\n${formatChaosSummary(result)}\n\nResults: ${path.relative(process.cwd(), out)}`);
  return result.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
