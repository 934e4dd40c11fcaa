/**
 * `npm start`: the whole connector on this machine, no AWS account needed. Starts the Sequence
 * and Sphere sandbox simulators (unless SEQUENCE_BASE_URL / SPHERE_BASE_URL point at the real
 * services), embedded DynamoDB and SQS, the local vault, the HTTP front door and the SQS pollers,
 * prints what runs where, and stops cleanly on Ctrl-C.
 *
 *   npm start               keep the data under .local/ from the last run
 *   npm start -- --fresh    wipe .local/ first
 */
import path from 'node:path';
import { DEFAULT_ADMIN_TOKEN, type LocalRuntime } from '../local/runtime';
import { startStack } from '../local/stack';
import { queues, routes } from '../local/wiring';
import { commandFlags } from './flags';

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a port number (0-65535), got "${raw}"`);
    process.exit(2);
  }
  return value;
}

const USAGE = 'Usage: npm start [-- --fresh]\n\n  --fresh   delete the local data directory (LOCAL_DATA_DIR, default .local) before starting';

async function main(): Promise<void> {
  const fresh = commandFlags(USAGE, ['--fresh']).has('--fresh');
  const port = intFromEnv('CONNECTOR_PORT', 3000);
  const host = process.env.CONNECTOR_HOST || '127.0.0.1';
  const dataDir = path.resolve(process.env.LOCAL_DATA_DIR || '.local');
  const adminToken = process.env.CONNECTOR_ADMIN_TOKEN || DEFAULT_ADMIN_TOKEN;
  const sequencePort = intFromEnv('SEQUENCE_SIM_PORT', 3101);
  const spherePort = intFromEnv('SPHERE_SIM_PORT', 3102);
  const realSequence = process.env.SEQUENCE_BASE_URL || undefined;
  const realSphere = process.env.SPHERE_BASE_URL || undefined;
  // Where Sequence sends webhooks: a tunnel to the front door when using a real Sequence sandbox.
  const publicUrl = process.env.CONNECTOR_PUBLIC_URL || undefined;
  if (publicUrl !== undefined && !URL.canParse(publicUrl)) {
    console.error(`CONNECTOR_PUBLIC_URL must be a URL (e.g. https://<your-tunnel>), got "${publicUrl}"`);
    process.exit(2);
  }

  const started = Date.now();
  let runtime: LocalRuntime;
  let stop: () => Promise<void>;
  try {
    ({ runtime, stop } = await startStack({
      port,
      host,
      data: { dir: dataDir, fresh },
      // No simulator where the real service is used.
      sequence: realSequence ? false : { port: sequencePort },
      sphere: realSphere ? false : { port: spherePort },
      runtime: {
        adminToken,
        ...(publicUrl ? { publicUrl } : {}),
        env: { ...(realSequence ? { SEQUENCE_BASE_URL: realSequence } : {}), ...(realSphere ? { SPHERE_BASE_URL: realSphere } : {}) },
      },
    }));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'EADDRINUSE') {
      console.error(`A port is already in use (${(error as Error).message}). Stop the other process or choose another port (CONNECTOR_PORT, SEQUENCE_SIM_PORT, SPHERE_SIM_PORT).`);
    } else {
      console.error('Could not start the local connector:', error instanceof Error ? error.message : error);
    }
    process.exit(1);
  }

  const seqUrl = runtime.simulators.sequence ? (runtime.simulators.sequence.apiUrl ?? runtime.simulators.sequence.url) : realSequence!;
  const sphUrl = runtime.simulators.sphere ? runtime.simulators.sphere.url : realSphere!;
  const rows: [string, string, string][] = [
    ['connector (front door)', runtime.url, 'CONNECTOR_HOST, CONNECTOR_PORT'],
    ['health', `${runtime.url}/health`, ''],
    ['operator console', `${runtime.url}/console/`, 'asks for the admin token'],
    ['public URL (webhooks)', runtime.publicUrl === runtime.url ? `${runtime.publicUrl} (the front door)` : runtime.publicUrl, 'CONNECTOR_PUBLIC_URL'],
    ['admin token', runtime.adminToken === DEFAULT_ADMIN_TOKEN ? `${DEFAULT_ADMIN_TOKEN} (default)` : '(set by env)', 'CONNECTOR_ADMIN_TOKEN'],
    [runtime.simulators.sequence ? 'Sequence simulator' : 'Sequence (real)', seqUrl, runtime.simulators.sequence ? 'SEQUENCE_SIM_PORT, or SEQUENCE_BASE_URL for the real API' : 'SEQUENCE_BASE_URL'],
    ...(runtime.simulators.sequence ? ([['  Sequence API client', 'local-client / local-secret (simulator defaults)', '']] as [string, string, string][]) : []),
    [runtime.simulators.sphere ? 'Sphere simulator' : 'Sphere (real)', sphUrl, runtime.simulators.sphere ? 'SPHERE_SIM_PORT, or SPHERE_BASE_URL for the real API' : 'SPHERE_BASE_URL'],
    ...(runtime.simulators.sphere ? ([['  Sphere API key', 'sph_test_local (simulator default)', '']] as [string, string, string][]) : []),
    ['DynamoDB (dynalite)', runtime.dynamoEndpoint, `tables ${runtime.tableNames.connector}, ${runtime.tableNames.idempotency}`],
    ['SQS (fauxqs)', runtime.sqsEndpoint, `${Object.keys(runtime.queueUrls).length} queue(s), in memory`],
    ['data directory', runtime.dataDir + (fresh ? ' (wiped)' : ''), 'LOCAL_DATA_DIR; npm start -- --fresh to wipe'],
    ['credential vault', runtime.vaultDir, 'files 0600'],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`\nSequence ↔ Sphere connector running locally (started in ${Date.now() - started} ms)\n`);
  for (const [name, value, override] of rows) console.log(`  ${name.padEnd(w0)}  ${value.padEnd(w1)}  ${override ? `[${override}]` : ''}`.trimEnd());
  console.log(`\n  routes: ${routes.length === 0 ? '(none wired yet; see local/wiring.ts)' : ''}`);
  for (const r of routes) console.log(`    ${r.method.padEnd(6)} ${r.path}  → ${r.functionName}${r.auth === 'admin' ? '  (admin)' : ''}`);
  console.log(`  queues: ${queues.length === 0 ? '(none wired yet)' : ''}`);
  for (const q of queues) console.log(`    ${q.queueName} → ${q.functionName}  (DLQ ${q.dlqName} after ${q.maxReceiveCount} receives)`);
  console.log(`\n  Note: DynamoDB TTL never expires items locally (dynalite has no TTL); SQS state is in memory.`);
  console.log(`  Try: curl ${runtime.url}/health\n  Press Ctrl-C to stop.\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      console.log('Forced exit.');
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: stopping…`);
    const force = setTimeout(() => {
      console.error('Did not stop within 10 s; exiting.');
      process.exit(1);
    }, 10_000);
    force.unref();
    stop()
      .then(() => {
        console.log('Stopped.');
        process.exit(0);
      })
      .catch((error: unknown) => {
        console.error('Error while stopping:', error instanceof Error ? error.message : error);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
