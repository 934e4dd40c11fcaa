/**
 * `npm start` itself: the package.json start command (tsx bin/local.ts) as a child process, on free
 * ports and a throwaway data directory, until it prints its URLs and GET /health answers 200.
 * Stopped with SIGTERM, as a process supervisor would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, GiveUp } from '../../support/eventually';

const ROOT = path.resolve(__dirname, '../../..');
const TUNNEL = 'https://npm-start-tunnel.example.test';
/** Start-up budget (compiling every handler through tsx on a busy CI machine is the slow part). */
const GIVE_UP_MS = 60_000;

let child: ChildProcess | undefined;
let exited: Promise<number | null> | undefined;
let stdout = '';
let stderr = '';
let dataDir: string;

/** `eventually`, stopping at once if npm start exits, with its output on any failure. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>) {
  try {
    return await eventually(
      what,
      async () => {
        if (child?.exitCode !== null) throw new GiveUp(`npm start exited (code ${child?.exitCode}) while waiting for ${what}`);
        return probe();
      },
      { timeoutMs: GIVE_UP_MS, everyMs: 250 },
    );
  } catch (error) {
    throw new Error(`npm start: ${(error as Error).message}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  }
}

let frontDoorUrl: string;

beforeAll(async () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  // This test runs what `npm start` runs; if the script changes, change the spawn below with it.
  expect(pkg.scripts.start).toBe('tsx bin/local.ts');

  dataDir = mkdtempSync(path.join(os.tmpdir(), 'npm-start-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CONNECTOR_HOST: '127.0.0.1',
    CONNECTOR_PORT: '0',
    SEQUENCE_SIM_PORT: '0',
    SPHERE_SIM_PORT: '0',
    LOCAL_DATA_DIR: path.join(dataDir, 'local'),
    CONNECTOR_PUBLIC_URL: TUNNEL,
  };
  for (const name of ['SEQUENCE_BASE_URL', 'SPHERE_BASE_URL', 'CONNECTOR_ADMIN_TOKEN']) delete env[name];

  const started = spawn(path.join(ROOT, 'node_modules', '.bin', 'tsx'), ['bin/local.ts', '--fresh'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child = started;
  exited = new Promise((resolve) => started.once('exit', (code) => resolve(code)));
  started.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  started.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  frontDoorUrl = await waitFor('start-up banner', async () => {
    if (!stdout.includes('Press Ctrl-C to stop.')) return undefined;
    return /connector \(front door\)\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
  });
}, GIVE_UP_MS + 30_000);

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) {
    process.kill(-child.pid, 'SIGTERM');
    const stopped = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000))]);
    if (stopped === 'timeout' && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

it('prints the URLs of everything it started, with the variables that override them', () => {
  expect(stdout).toMatch(/health\s+http:\/\/127\.0\.0\.1:\d+\/health/);
  expect(stdout).toMatch(/Sequence simulator\s+http:\/\/127\.0\.0\.1:\d+\/api\s+\[SEQUENCE_SIM_PORT/);
  expect(stdout).toMatch(/Sphere simulator\s+http:\/\/127\.0\.0\.1:\d+\s+\[SPHERE_SIM_PORT/);
  expect(stdout).toMatch(/DynamoDB \(dynalite\)\s+http:\/\/127\.0\.0\.1:\d+/);
  expect(stdout).toMatch(/SQS \(fauxqs\)\s+http:\/\/127\.0\.0\.1:\d+/);
  expect(stdout).toContain(`public URL (webhooks)`);
  expect(stdout).toMatch(new RegExp(`${TUNNEL.replace(/[.]/g, '\\.')}\\s+\\[CONNECTOR_PUBLIC_URL\\]`));
  expect(stdout).toContain(`${path.join(dataDir, 'local')} (wiped)`);
});

it('GET /health answers 200 with every component ok', async () => {
  const health = await waitFor('200 from GET /health', async () => {
    const response = await fetch(`${frontDoorUrl}/health`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { status: string; components: Record<string, string> };
    return response.status === 200 ? body : undefined;
  });
  expect(health).toEqual({ status: 'ok', components: { dynamodb: 'ok', sqs: 'ok', sequence: 'ok', sphere: 'ok', pollers: 'ok' } });
}, GIVE_UP_MS + 10_000);

it('stops cleanly on SIGTERM', async () => {
  // To tsx only, which relays it to bin/local.ts and exits with its code. (Signalling the whole group
  // races: when bin/local.ts has already stopped by the time tsx handles its own copy, tsx exits
  // 128 + 15 although the runtime stopped cleanly.)
  process.kill(child!.pid!, 'SIGTERM');
  await expect(exited).resolves.toBe(0);
  expect(stdout).toContain('Stopped.');
}, 30_000);
