/**
 * The admin CLI as an operator runs it: `node bin/sphere-connector.cjs …` as a child process against
 * the local stack (local/stack.ts: the deployed admin routes, the real backfill worker, the simulators), with
 * the bearer token. Checks tables, --json, the progress bar, error exits and that no secret is printed.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { type LocalRuntime, type QueueBinding } from '../../../local/runtime';
import { type SequenceSimulator } from '../../../local/sequence-sim/server';
import { type SphereSimulator } from '../../../local/sphere-sim';
import { type Stack, startStack, withVisibilityTimeout } from '../../../local/stack';
import { processed, reset as resetSwitchable } from '../../fixtures/handlers/sqs-switchable';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'sphere-connector.cjs');
const TOKEN = 'cli-test-admin-token';
const SEQUENCE_SECRET = 'cli-test-sequence-secret-7f3a';
const SPHERE_KEY = 'sph_test_cli_key_91b2';
const SPHERE_KEY_ROTATED = 'sph_test_cli_key_rotated_5c4d';

const recorder = () => import('../../fixtures/handlers/sqs-scripted');
/** The real backfill worker; the sync queues only record; invoice-tax fails until switched (for the DLQ commands); exemptions left out. */
function cliQueue(q: QueueBinding): QueueBinding | undefined {
  switch (q.queueName) {
    case 'backfill.fifo':
      return withVisibilityTimeout(q, 30);
    case 'customer-sync.fifo':
    case 'product-sync.fifo':
      return { ...withVisibilityTimeout(q, 30), load: recorder };
    case 'invoice-tax.fifo':
      return { ...withVisibilityTimeout(q, 1), load: () => import('../../fixtures/handlers/sqs-switchable'), maxReceiveCount: 2 };
    default:
      return undefined;
  }
}

let stack: Stack;
let runtime: LocalRuntime;
let sequence: SequenceSimulator;
let sphere: SphereSimulator;
let connectionId: string;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), CONNECTOR_URL: runtime.url, CONNECTOR_ADMIN_TOKEN: TOKEN, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    // Piped stdin, as `printf '%s\n' "$KEY" | sphere-connector …` gives it (closed when unused).
    child.stdin?.end(stdin ?? '');
  });
}

function expectNoSecrets(run: CliRun): void {
  for (const secret of [SEQUENCE_SECRET, SPHERE_KEY, SPHERE_KEY_ROTATED, TOKEN]) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

beforeAll(async () => {
  stack = await startStack({
    sequence: { clientSecret: SEQUENCE_SECRET, webhookRetryDelaysMs: [50] },
    sphere: { apiKeys: [SPHERE_KEY, SPHERE_KEY_ROTATED] },
    queue: cliQueue,
    runtime: { adminToken: TOKEN, log: () => undefined },
  });
  ({ runtime, sequence, sphere } = stack);
  const address = { line1: '1 Market St', town: 'San Francisco', state: 'CA', postcode: '94105', country: 'US' };
  await fetch(`${sequence.url}/_sim/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customers: ['Initech', 'Globex', 'Umbrella'].map((legalName) => ({ legalName, address, contacts: [{ name: 'Billing', email: `billing@${legalName.toLowerCase()}.example`, billingPreference: 'PRIMARY' }], taxStatus: 'TAXED' })) }),
  });
  resetSwitchable(false);
});

afterAll(async () => {
  await stack?.stop();
});

it('connect: secrets from the environment, a readable summary, nothing secret printed', async () => {
  const run = await cli(['connect', '--name', 'Acme (CLI)', '--environment', 'sandbox', '--sequence-client-id', 'local-client', '--tax-code-default', 'txcd_10000000'], {
    SEQUENCE_CLIENT_SECRET: SEQUENCE_SECRET,
    SPHERE_API_KEY: SPHERE_KEY,
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^Connected\.\nid\s+\S+\nname\s+Acme \(CLI\)\nstatus\s+ACTIVE\n/);
  expectNoSecrets(run);
  connectionId = /^id\s+(\S+)$/m.exec(run.stdout)![1]!;
});

it('list: a table with a header, a rule and the connection', async () => {
  const run = await cli(['list']);
  expect(run.code).toBe(0);
  const lines = run.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^ID\s+NAME\s+STATUS\s+ENV\s+ACCOUNT\s+CUSTOMERS\s+INVOICES\s+FAILURES\s+BACKFILL$/);
  expect(lines[1]).toMatch(/^-+( +-+)+$/);
  expect(lines.slice(2).some((l) => l.startsWith(connectionId) && /Acme \(CLI\)\s+ACTIVE\s+sandbox/.test(l))).toBe(true);
});

it('status --json: the API JSON', async () => {
  const run = await cli(['status', connectionId, '--json']);
  expect(run.code).toBe(0);
  const body = JSON.parse(run.stdout) as Record<string, unknown>;
  expect(body).toMatchObject({ id: connectionId, name: 'Acme (CLI)', status: 'ACTIVE', environment: 'sandbox' });
  expectNoSecrets(run);
});

it('test: both sides ok in a table', async () => {
  const run = await cli(['test', connectionId]);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^SERVICE\s+OK\s+MESSAGE/);
  expect(run.stdout).toMatch(/^sequence\s+yes/m);
  expect(run.stdout).toMatch(/^sphere\s+yes/m);
});

it('backfill: polls and draws the progress bar until COMPLETED', async () => {
  const run = await cli(['backfill', connectionId, '--restart', '--interval', '0.2', '--timeout', '30']);
  expect(run.code).toBe(0);
  expect(run.stderr).toMatch(/\[#+\] 100% {2}\d+\/\d+ {2}COMPLETED/);
  expect(run.stdout).toMatch(/^Backfill COMPLETED\./);
  expect(run.stdout).toMatch(/^backfill\s+COMPLETED [1-9]\d*\/[1-9]\d*$/m);
});

it('backfill --no-wait returns at once', async () => {
  const run = await cli(['backfill', connectionId, '--no-wait', '--json']);
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ backfill: { state: expect.any(String) } });
  await runtime.drain();
});

it('audit and failures: tables', async () => {
  const audit = await cli(['audit', connectionId, '--limit', '5']);
  expect(audit.code).toBe(0);
  const lines = audit.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(/^AT\s+SERVICE\s+METHOD\s+PATH\s+STATUS\s+MS\s+TRY\s+REQUEST ID$/);
  expect(lines.length).toBeGreaterThan(2);
  expect(lines.length).toBeLessThanOrEqual(7);
  expect(lines.slice(2).every((l) => /\s(sequence|sphere)\s+(GET|POST|PUT|PATCH|DELETE)\s+\//.test(l))).toBe(true);
  expectNoSecrets(audit);
  const failures = await cli(['failures', connectionId]);
  expect(failures.code).toBe(0);
  expect(failures.stdout).toMatch(/^TYPE\s+RESOURCE\s+CODE/);
});

it('dlq and redrive: lists the DLQs and moves a dead message back', async () => {
  const dlqUrl = runtime.queueUrls['invoice-tax-dlq.fifo']!;
  await runtime.sqs.client.send(
    new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: JSON.stringify({ id: 'dead-1', kind: 'invoice', connectionId, trigger: 'webhook', invoiceId: 'inv-1' }), MessageGroupId: 'g1', MessageDeduplicationId: 'dead-1' }),
  );
  const list = await cli(['dlq']);
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(/^QUEUE\s+DLQ\s+MESSAGES\s+IN FLIGHT$/m);
  expect(list.stdout).toMatch(/^invoiceTax\s+invoice-tax-dlq\.fifo\s+1\s+0$/m);
  expect(list.stdout).toMatch(/^backfill\s+backfill-dlq\.fifo\s+0\s+0$/m);

  const redrive = await cli(['redrive', 'invoiceTax', '--json']);
  expect(redrive.code).toBe(0);
  expect(JSON.parse(redrive.stdout)).toEqual({ queue: 'invoiceTax', moved: 1, failed: 0, remaining: 0 });
  await runtime.drain();
  expect(processed()).toEqual(['dead-1']);
});

it('errors: the API error printed, exit 1; usage errors exit 2', async () => {
  const missing = await cli(['status', 'no-such-connection']);
  expect(missing.code).toBe(1);
  expect(missing.stdout).toBe('');
  expect(missing.stderr).toMatch(/^Error 404 connection_not_found: No connection no-such-connection\b.*\n$/);

  const asJson = await cli(['status', 'no-such-connection', '--json']);
  expect(asJson.code).toBe(1);
  expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { status: 404, code: 'connection_not_found' } });

  const unauthorised = await cli(['list', '--token', 'wrong-token']);
  expect(unauthorised.code).toBe(1);
  expect(unauthorised.stderr).toMatch(/^Error 401 /);
  expect(unauthorised.stderr).not.toContain('wrong-token');

  const badQueue = await cli(['redrive', 'nope']);
  expect(badQueue.code).toBe(1);
  expect(badQueue.stderr).toMatch(/^Error 404 queue_not_found: /);

  const usage = await cli(['retry', connectionId]);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toMatch(/either --all or --resource-type/);
});

it('update: rotates the Sphere key piped on stdin (a refused key changes nothing) and changes options', async () => {
  const refused = await cli(['update', connectionId, '--sphere-api-key-stdin'], {}, 'sph_not_a_key_of_this_org\n');
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^Error 422 sphere_credentials_rejected: /);
  expect(refused.stderr + refused.stdout).not.toContain('sph_not_a_key_of_this_org');

  const rotated = await cli(['update', connectionId, '--sphere-api-key-stdin', '--no-record-transactions'], {}, `${SPHERE_KEY_ROTATED}\n`);
  expect(rotated.stderr).toBe('');
  expect(rotated.code).toBe(0);
  expect(rotated.stdout).toMatch(/^Updated \(checked and stored: Sphere API key; revoke the old one now\)\./);
  expect(rotated.stdout).toMatch(/^record transactions\s+false$/m);
  expectNoSecrets(rotated);

  // The connection now calls Sphere with the new key (the simulator logs which key, never the key).
  expect((await cli(['test', connectionId])).code).toBe(0);
  const requests = ((await (await fetch(`${sphere.url}/_sim/requests`)).json()) as { requests: { keyIndex: number }[] }).requests;
  expect(requests.at(-1)!.keyIndex).toBe(1);

  const flagged = await cli(['update', connectionId, '--sphere-api-key', SPHERE_KEY_ROTATED]);
  expect(flagged.code).toBe(2);
  expect(flagged.stderr).toMatch(/never from flags/);
  expectNoSecrets(flagged);
});

it('disconnect --json: status DISCONNECTED', async () => {
  const run = await cli(['disconnect', connectionId, '--json']);
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ id: connectionId, status: 'DISCONNECTED' });
});
