/**
 * Fuzz run (issue 7): at least 10,000 fast-check webhook requests (valid, replayed, forged and
 * replayed signatures, stale/future timestamps, missing and malformed headers, broken JSON and
 * wrong types under a valid signature, huge and empty bodies, unknown notification types, bodies
 * API Gateway base64-encodes, another account, unknown and disconnected connections) and 2,000
 * admin API bodies, and 1,000 hostile path ids and non-UTF-8 bodies (issue 11 §3), through the
 * connector's real front door with recording queue consumers
 * (bench/lib/fuzz-*.ts). Passes with zero 5xx, the contract status for every request, nothing
 * queued without a valid signature, no credential echoed or logged. A reduced version runs in
 * npm test (test/integration/fuzz/).
 *
 *   npm run fuzz -- [--webhooks 10000] [--admin 2000] [--paths 1000] [--seed 20240730] [--out bench/results/fuzz.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { captureLogs, secretHits } from './lib/chaos-log-capture';
import { machineInfo, parseFlags, positiveInt } from './lib/chaos-machine';
import { fuzzAdmin } from './lib/fuzz-admin';
import { fuzzPaths } from './lib/fuzz-paths';
import { startFuzzStack } from './lib/fuzz-stack';
import { fuzzWebhooks } from './lib/fuzz-webhooks';

function table(title: string, counts: Record<string, number>): string {
  const rows = Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
  return [`  ${title}`, ...rows.map(([k, v]) => `    ${k.padEnd(6)} ${String(v).padStart(6)}`)].join('\n');
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), ['webhooks', 'admin', 'paths', 'seed', 'out', 'help']);
  if (flags.help) {
    console.log('npm run fuzz -- [--webhooks 10000] [--admin 2000] [--paths 1000] [--seed 20240730] [--out bench/results/fuzz.json]');
    return 0;
  }
  const webhookRuns = positiveInt(flags.webhooks, 10_000, 'webhooks');
  const adminRuns = positiveInt(flags.admin, 2_000, 'admin');
  const pathRuns = positiveInt(flags.paths, 1_000, 'paths');
  const seed = positiveInt(flags.seed, 20240730, 'seed');
  const out = path.resolve(flags.out ?? path.join(__dirname, 'results', 'fuzz.json'));
  const capture = captureLogs();
  const started = Date.now();
  const progress = (line: string) => capture.print(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  const durationsMs: Record<string, number> = {};
  let stack;
  let webhooks;
  let admin;
  let paths;
  let hits;
  try {
    progress('starting the connector, simulators and connections');
    stack = await startFuzzStack(capture);
    const secrets = [stack.secrets.clientSecret, stack.secrets.sphereKey, stack.webhookSecret, Buffer.from(`${stack.secrets.clientId}:${stack.secrets.clientSecret}`).toString('base64')];
    let t = Date.now();
    progress(`${webhookRuns} webhook requests (seed ${seed})`);
    webhooks = await fuzzWebhooks(stack, { runs: webhookRuns, seed, progress });
    durationsMs.webhooks = Date.now() - t;
    t = Date.now();
    progress(`${adminRuns} admin requests (seed ${seed + 1})`);
    admin = await fuzzAdmin(stack, { runs: adminRuns, seed: seed + 1, progress });
    durationsMs.admin = Date.now() - t;
    t = Date.now();
    progress(`${pathRuns} hostile path ids and non-UTF-8 bodies (seed ${seed + 2})`);
    paths = await fuzzPaths(stack, { runs: pathRuns, seed: seed + 2 });
    durationsMs.paths = Date.now() - t;
    await new Promise((r) => setTimeout(r, 300)); // let fire-and-forget audit writes finish
    hits = secretHits(capture.lines, secrets);
  } finally {
    await stack?.stop();
    capture.stop();
  }
  durationsMs.total = Date.now() - started;
  const passed =
    webhooks.unexpected.length === 0 &&
    webhooks.fiveXx === 0 &&
    webhooks.queuedWithoutSignature === 0 &&
    webhooks.lostMessages === 0 &&
    webhooks.duplicateMessages === 0 &&
    admin.unexpected.length === 0 &&
    admin.fiveXx === 0 &&
    admin.echoedSecrets === 0 &&
    admin.badErrorShape === 0 &&
    paths.unexpected.length === 0 &&
    paths.fiveXx === 0 &&
    paths.upstreamCalls === 0 &&
    paths.nameAfter === paths.nameBefore &&
    hits.total === 0;
  const report = {
    machine: machineInfo(),
    generatedAt: new Date().toISOString(),
    seed,
    durationsMs,
    requests: webhooks.requests + admin.requests + paths.requests,
    byStatus: Object.fromEntries(
      [...new Set([...Object.keys(webhooks.byStatus), ...Object.keys(admin.byStatus), ...Object.keys(paths.byStatus)])].map((s) => [
        s,
        (webhooks.byStatus[s] ?? 0) + (admin.byStatus[s] ?? 0) + (paths.byStatus[s] ?? 0),
      ]),
    ),
    unexpected: webhooks.unexpected.length + admin.unexpected.length + paths.unexpected.length,
    fiveXx: webhooks.fiveXx + admin.fiveXx + paths.fiveXx,
    queuedWithoutSignature: webhooks.queuedWithoutSignature,
    secretHits: hits.total,
    webhooks,
    admin,
    paths,
    passed,
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(
    [
      '',
      `Fuzz (seed ${seed}) — ${report.requests} requests in ${(durationsMs.total / 1000).toFixed(1)} s`,
      table(`webhooks: ${webhooks.requests} requests, by status`, webhooks.byStatus),
      `    accepted & queued ${webhooks.acceptedQueueing}, messages on queues ${webhooks.queuedMessages}, queued without a valid signature ${webhooks.queuedWithoutSignature}, lost ${webhooks.lostMessages}, duplicated ${webhooks.duplicateMessages}`,
      table(`admin: ${admin.requests} requests, by status`, admin.byStatus),
      `    echoed secrets ${admin.echoedSecrets}, malformed error bodies ${admin.badErrorShape}`,
      table(`hostile paths and bodies: ${paths.requests} requests, by status`, paths.byStatus),
      `    upstream calls ${paths.upstreamCalls}, connection name kept ${paths.nameAfter === paths.nameBefore}`,
      `  5xx ${report.fiveXx} · unexpected statuses ${report.unexpected} · secret hits in ${capture.lines.length} log lines ${hits.total}`,
      ...[...webhooks.unexpected, ...admin.unexpected, ...paths.unexpected].slice(0, 20).map((u) => `  ✗ ${JSON.stringify(u)}`),
      passed ? 'PASSED' : 'FAILED',
      `Results: ${path.relative(process.cwd(), out)}`,
    ].join('\n'),
  );
  return passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
