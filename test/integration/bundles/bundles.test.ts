/**
 * Bundles as deployed (issue 6): every functions/<name>/handler.ts is bundled with the stack's own
 * esbuild options (CONNECTOR_BUNDLING, via bench/lib/bundle.ts), written outside the repository
 * (no node_modules to fall back on, like /var/task), imported in a FRESH node process (ESM, source
 * maps on, as on Lambda) and invoked once with a realistic AWS event. A bundling, ESM/CJS interop
 * or module-scope problem therefore fails CI instead of the first production invocation — ts-jest
 * (CommonJS, project sources) cannot see any of these.
 *
 * Functions are discovered when the test runs, so a new function is covered automatically: it gets
 * the invocation cases listed for its name below, or an import-only check (module evaluates, exports
 * a `handler` function) when it has none yet.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleAll, discoverFunctions, type BundleOutcome } from '../../../bench/lib/bundle';
import { describeRun, runBundle, type RunOutcome } from '../../../bench/lib/run-bundle';
import { httpApiAdminEvent, scheduledEvent, sqsFifoEvent, UNKNOWN_CONNECTION_ID, webhookEvent } from '../../fixtures/events';
import { SEEDED_CONNECTION_ID, startBundleEnvironment, type BundleEnvironment } from './bundle-env';

interface InvocationCase {
  title: string;
  event: () => unknown;
  /** Assertions on the handler's return value. */
  check: (result: unknown) => void;
}

interface HttpResult {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

function httpResult(result: unknown): HttpResult & { json: unknown } {
  expect(result).toEqual(expect.objectContaining({ statusCode: expect.any(Number) }));
  const http = result as HttpResult;
  let json: unknown;
  if (typeof http.body === 'string' && http.body.length > 0) json = JSON.parse(http.body);
  return { ...http, json };
}

/** An SQS FIFO batch with one valid message for an unknown connection: parsed, then dropped. */
function droppedMessageCase(queueName: string, message: Record<string, unknown>, resourceId: string): InvocationCase {
  return {
    title: `SQS FIFO batch (${queueName}) for an unknown connection → dropped, no batch item failures`,
    event: () =>
      sqsFifoEvent({
        queueName,
        messages: [{ body: { connectionId: UNKNOWN_CONNECTION_ID, trigger: 'webhook', ...message }, groupId: `${UNKNOWN_CONNECTION_ID}:${resourceId}` }],
      }),
    check: (result) => expect(result).toEqual({ batchItemFailures: [] }),
  };
}

/** Invocation cases by function name; a function not listed here gets the import-only check. */
const CASES: Record<string, InvocationCase[]> = {
  'admin-api': [
    {
      title: 'GET /connections (IAM-authorized HTTP API v2) → 200 with the seeded connection, no secrets',
      event: () => httpApiAdminEvent({ method: 'GET', path: '/connections' }),
      check: (result) => {
        const response = httpResult(result);
        expect(response.statusCode).toBe(200);
        const items = (response.json as { items?: { id?: string }[] }).items;
        expect(Array.isArray(items)).toBe(true);
        expect(items?.map((c) => c.id)).toContain(SEEDED_CONNECTION_ID);
      },
    },
    {
      title: 'GET /connections/{id} for an unknown connection → 404 in the §5.1 error shape',
      event: () => httpApiAdminEvent({ method: 'GET', path: `/connections/${UNKNOWN_CONNECTION_ID}`, routePath: '/connections/{id}', pathParameters: { id: UNKNOWN_CONNECTION_ID } }),
      check: (result) => {
        const response = httpResult(result);
        expect(response.statusCode).toBe(404);
        expect(response.json).toEqual({ error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }) });
      },
    },
  ],
  'webhook-ingest': [
    {
      title: 'POST /webhooks/sequence/{connectionId} for an unknown connection → 404/401, never 500',
      event: () => webhookEvent({ connectionId: UNKNOWN_CONNECTION_ID }),
      check: (result) => {
        const response = httpResult(result);
        expect([401, 404]).toContain(response.statusCode);
        expect(response.json).toEqual({ error: expect.objectContaining({ code: expect.any(String) }) });
      },
    },
  ],
  'sync-customer': [droppedMessageCase('customer-sync.fifo', { kind: 'customer', customerId: 'cus_fixture', notificationType: 'CUSTOMER_UPDATED' }, 'cus_fixture')],
  'sync-product': [droppedMessageCase('product-sync.fifo', { kind: 'product', productId: 'prod_fixture' }, 'prod_fixture')],
  'calculate-invoice-tax': [
    droppedMessageCase('invoice-tax.fifo', { kind: 'invoice', invoiceId: 'inv_fixture', notificationType: 'INVOICE_UPDATED' }, 'inv_fixture'),
    {
      title: 'direct invocation {connectionId, invoiceId} for an unknown connection → 404',
      event: () => ({ connectionId: UNKNOWN_CONNECTION_ID, invoiceId: 'inv_fixture' }),
      check: (result) => expect(result).toEqual(expect.objectContaining({ statusCode: 404, error: expect.objectContaining({ code: expect.any(String) }) })),
    },
  ],
  exemptions: [droppedMessageCase('exemptions.fifo', { kind: 'exemption_changed', customerId: 'cus_fixture', taxStatus: 'TAX_EXEMPT', registrationsChanged: false }, 'cus_fixture')],
  backfill: [droppedMessageCase('backfill.fifo', { kind: 'backfill', phase: 'customers', runId: 'run_fixture' }, 'backfill')],
  reconcile: [
    {
      title: 'EventBridge scheduled event → a summary that checked no ACTIVE connection',
      event: () => scheduledEvent({ ruleName: 'sphere-connector-test-reconcile' }),
      check: (result) => expect(result).toEqual(expect.objectContaining({ failed: [], totals: expect.objectContaining({ checked: 0 }) })),
    },
  ],
};

/** Secret-shaped strings that must never reach output, whatever the function. */
const SECRET_PATTERNS: RegExp[] = [
  /sph_(?:live|test)_[A-Za-z0-9]{8,}/,
  /Bearer\s+[A-Za-z0-9._~+/-]{12,}/,
  /"(?:clientSecret|client_secret|apiKey|api_key|webhookSigningSecret|signingSecret|password|aws_secret_access_key|secretAccessKey)"\s*:\s*"[^"]+"/i,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
];

function expectNoSecrets(run: RunOutcome, canaries: readonly string[]): void {
  const everything = `${run.stdout}\n${run.stderr}\n${JSON.stringify(run.report?.result ?? null)}`;
  for (const canary of canaries) expect(everything.includes(canary) ? `leaked canary ${canary.slice(0, 12)}…` : 'no canary').toBe('no canary');
  for (const pattern of SECRET_PATTERNS) expect(everything.match(pattern)?.[0] ?? 'no secret-looking value').toBe('no secret-looking value');
}

const functions = discoverFunctions();
const outRoot = mkdtempSync(path.join(tmpdir(), 'connector-bundles-'));
let environment: BundleEnvironment | undefined;
let bundles: Map<string, BundleOutcome> | undefined;

beforeAll(async () => {
  // Emulators and bundling run side by side; esbuild is itself multi-threaded, so two builds at a time.
  const [env, built] = await Promise.all([startBundleEnvironment(), bundleAll(functions, outRoot, { concurrency: 2 })]);
  environment = env;
  bundles = built;
}, 120_000);

afterAll(async () => {
  await environment?.stop();
  rmSync(outRoot, { recursive: true, force: true });
});

function bundleOf(name: string): Extract<BundleOutcome, { ok: true }> {
  const outcome = bundles?.get(name);
  if (!outcome) throw new Error(`${name} was not bundled`);
  if (!outcome.ok) throw new Error(`esbuild could not bundle functions/${name}/handler.ts with CONNECTOR_BUNDLING:\n${outcome.error}`);
  return outcome;
}

function env(): BundleEnvironment {
  if (!environment) throw new Error('The emulators did not start');
  return environment;
}

test('there is at least one function to bundle (functions/*/handler.ts)', () => {
  expect(functions.map((f) => f.name)).not.toEqual([]);
});

// A renamed function must not silently drop its invocation cases (admin-api once lost two this way).
test('every invocation case names a bundled function', () => {
  const bundled = new Set(functions.map((f) => f.name));
  expect(Object.keys(CASES).filter((name) => !bundled.has(name))).toEqual([]);
});

for (const { name } of functions) {
  describe(`functions/${name} bundled as deployed`, () => {
    test('bundles as ESM with the stack options, without esbuild warnings', () => {
      const bundle = bundleOf(name);
      expect(bundle.outfile.endsWith('.mjs')).toBe(true);
      expect(bundle.bytes).toBeGreaterThan(0);
      expect(bundle.warnings).toEqual([]);
    });

    test('imports in a fresh node process and exports a handler function', async () => {
      const run = await runBundle({ bundle: bundleOf(name).outfile, functionName: name, env: env().env });
      expect(run.report?.ok ? 'ok' : describeRun(name, run)).toBe('ok');
      expect(run.report?.handlerType).toBe('function');
      expect(typeof run.report?.importMs).toBe('number');
      expectNoSecrets(run, env().canaries);
    });

    const cases = CASES[name] ?? [];
    if (cases.length > 0) {
      test.each(cases.map((c) => [c.title, c] as const))('invoked with %s', async (_title, invocation) => {
        const run = await runBundle({ bundle: bundleOf(name).outfile, functionName: name, env: env().env, event: invocation.event() });
        expect(run.report?.ok ? 'ok' : describeRun(name, run)).toBe('ok');
        expect(run.report?.invoked).toBe(true);
        invocation.check(run.report?.result);
        expectNoSecrets(run, env().canaries);
      });
    }
  });
}
