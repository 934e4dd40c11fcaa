/**
 * `sphere-connector verify` against the simulators: every assumption it can observe here is confirmed
 * and what it created is removed; a simulator playing a service that differs (its faults) refutes the
 * matching assumption and the command exits non-zero. No secret is ever printed.
 */
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { type SequenceSimulator, startSequenceSimulator } from '../../../local/sequence-sim/server';
import { type SphereSimulator, startSphereSimulator } from '../../../local/sphere-sim';
import { CHECKS, runChecks } from '../../../shared/assumptions/checks';
import { ASSUMPTIONS } from '../../../shared/assumptions/registry';
import { VerifySession } from '../../../shared/assumptions/verify-session';
import { type CliIo, runCli } from '../../../cli/commands';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = path.join(ROOT, 'bin', 'sphere-connector.cjs');
const SEQUENCE_SECRET = 'verify-test-sequence-secret-3e9d';
const SPHERE_KEY = 'sph_test_verify_key_48c1';
const TAX_CODE = 'txcd_10103001';

let sequence: SequenceSimulator;
let sphere: SphereSimulator;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface VerifyJson {
  checks: { id: string; assumption: string; verdict: 'confirmed' | 'refuted' | 'unknown'; evidence: string }[];
}

const args = (...extra: string[]) => [
  'verify',
  '--sequence-base-url',
  sequence.apiUrl,
  '--sequence-client-id',
  sequence.clientId,
  '--sphere-base-url',
  sphere.url,
  '--tax-code-default',
  TAX_CODE,
  ...extra,
];

/** In process, as bin/cli.ts binds it, with the secrets in the environment. */
async function verify(argv: string[], env: Record<string, string> = { SEQUENCE_CLIENT_SECRET: SEQUENCE_SECRET, SPHERE_API_KEY: SPHERE_KEY }, stdin?: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const lines = [...(stdin ?? [])];
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env,
    isTTY: false,
    sleep: () => Promise.resolve(),
    ...(stdin ? { readSecret: () => Promise.resolve(lines.shift() ?? '') } : {}),
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

/** The real executable, as a user runs it. */
function verifyProcess(argv: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...argv],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), SEQUENCE_CLIENT_SECRET: SEQUENCE_SECRET, SPHERE_API_KEY: SPHERE_KEY }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
    child.stdin?.end('');
  });
}

function expectNoSecrets(run: Run): void {
  for (const secret of [SEQUENCE_SECRET, SPHERE_KEY]) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

const verdicts = (json: VerifyJson) => Object.fromEntries(json.checks.map((c) => [c.id, c.verdict]));
const evidence = (json: VerifyJson, id: string) => json.checks.find((c) => c.id === id)!.evidence;

beforeAll(async () => {
  sequence = await startSequenceSimulator({ port: 0, clientSecret: SEQUENCE_SECRET, webhookRetryDelaysMs: [50] });
  sphere = await startSphereSimulator({ port: 0, apiKeys: [SPHERE_KEY] });
});

afterAll(async () => {
  await sequence?.stop();
  await sphere?.stop();
});

async function sphereFaults(faults: Record<string, unknown>): Promise<void> {
  const response = await fetch(`${sphere.url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) });
  expect(response.status).toBe(200);
}

it('confirms every assumption against the simulators, as JSON, and removes what it created', async () => {
  const run = await verify(args('--json'));
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const json = JSON.parse(run.stdout) as VerifyJson;
  expect(json.checks.map((c) => c.id)).toEqual(ASSUMPTIONS.map((a) => a.id));
  for (const check of json.checks) {
    expect(Object.keys(check)).toEqual(['id', 'assumption', 'verdict', 'evidence']);
    expect(check.evidence).not.toBe('');
  }
  expect(verdicts(json)).toEqual(Object.fromEntries(ASSUMPTIONS.map((a) => [a.id, 'confirmed'])));
  expect(evidence(json, 'SEQ-MARK-AS-SENT-NO-WEBHOOK')).toMatch(/marked as sent \(status SENT\): no webhook showed it FINAL or SENT, while its void right after was delivered/);
  // Honest about its reach: the shape the scan reads is proven, the native integrations' behaviour is not.
  expect(evidence(json, 'SEQ-NATIVE-SPHERE-LINK')).toMatch(/^no native link on this account\. Proven: .*Not proven \(no native integration to watch\)/);
  expect(evidence(json, 'SEQ-LINE-TAX-RULE')).toContain('line totalTax 0.51, invoice totalTax 0.51');
  expect(evidence(json, 'SEQ-WEBHOOK-SIGNATURE')).toMatch(/t=\d{13} is unix milliseconds.*; the retry after a 500 was signed anew \(t \+\d+ ms\)$/);
  expect(evidence(json, 'SPHERE-TAXABILITY-REASON-LOCATION')).toContain('"customer_exempt"');
  expectNoSecrets(run);

  // Cleanup: the Sequence draft deleted, the invoice marked as sent voided, the customer archived and
  // untagged, the policy gone, the Sphere transaction cancelled.
  expect(Object.values(sequence.state.invoices).map((i) => i.status)).toEqual(['VOIDED']);
  expect(Object.values(sequence.state.customers).map((c) => [c.archivedAt, c.integrationIds])).toEqual([[expect.any(String), []]]);
  expect(Object.values(sequence.state.policies)).toEqual([]);
  const sphereState = (await (await fetch(`${sphere.url}/_sim/state`)).json()) as { transactions: { status: string }[] };
  // The test debit, the long-quantity test debit and the standalone test credit, all cancelled.
  expect(sphereState.transactions.map((t) => t.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
});

it('refutes what a differing Sphere drops (dropFields), reports what it then cannot check as unknown, and a webhook that never arrives as unknown', async () => {
  await sphereFaults({ dropFields: ['tax_exempt'] });
  try {
    const run = await verify(args('--json', '--webhook-url', 'http://127.0.0.1:9/unreachable', '--webhook-wait', '0.5'));
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout) as VerifyJson;
    expect(verdicts(json)['SPHERE-V1-CUSTOMER-FIELDS']).toBe('refuted');
    expect(evidence(json, 'SPHERE-V1-CUSTOMER-FIELDS')).toContain('tax_exempt: sent "reverse", Sphere returned (missing)');
    // The transaction is recorded for a customer whose write failed the same way: not judged.
    expect(verdicts(json)['SPHERE-V1-TRANSACTION-FIELDS']).toBe('unknown');
    expect(evidence(json, 'SPHERE-V1-TRANSACTION-FIELDS')).toContain('could not upsert the taxable Sphere test customer');
    expect(verdicts(json)['SEQ-WEBHOOK-SIGNATURE']).toBe('unknown');
    expect(evidence(json, 'SEQ-WEBHOOK-SIGNATURE')).toContain('no CUSTOMER_UPDATED for the test customer reached http://127.0.0.1:9/unreachable');
    expect(verdicts(json)['SEQ-CUSTOMER-UPDATED-PAYLOAD']).toBe('unknown');
    expect(verdicts(json)['SEQ-LINE-TAX-RULE']).toBe('confirmed');
    expectNoSecrets(run);
  } finally {
    await sphereFaults({ dropFields: [] });
  }
});

it('the executable exits 1 with a table naming what a differing Sequence and Sphere refute (lineTaxRule, ignoreExemption); secrets from stdin work too', async () => {
  sequence.setFaults({ lineTaxRule: 'fraction_round_down' });
  await sphereFaults({ ignoreExemption: true });
  try {
    const run = await verifyProcess(args());
    expect(run.code).toBe(1);
    const rows = run.stdout.split('\n');
    expect(rows[0]).toMatch(/^ID\s+VERDICT\s+EVIDENCE$/);
    expect(rows.find((r) => r.startsWith('SEQ-LINE-TAX-RULE '))).toMatch(/REFUTED .*totalTax 0\.50, the connector's rule \(a fraction, rounded half-up\) gives 0\.51/);
    expect(rows.find((r) => r.startsWith('SPHERE-EXEMPTION-HONOURED '))).toMatch(/REFUTED .*tax_exempt: true returned \d+ minor units of tax/);
    expect(rows.find((r) => r.startsWith('SPHERE-V1-CUSTOMER-FIELDS '))).toMatch(/ confirmed /);
    expect(run.stdout).toMatch(/\d+ confirmed, 2 refuted, \d+ unknown\./);
    expectNoSecrets(run);
  } finally {
    sequence.setFaults({ lineTaxRule: 'fraction_half_up' });
    await sphereFaults({ ignoreExemption: false });
  }
  // The same run with the secrets piped (no environment): all confirmed again once the faults are gone.
  const piped = await verify(args('--json'), {}, [SEQUENCE_SECRET, SPHERE_KEY]);
  expect(piped.code).toBe(0);
  expectNoSecrets(piped);
});

it('refuses secrets on the command line and names what is missing', async () => {
  const flagged = await verify([...args(), '--sphere-api-key', SPHERE_KEY]);
  expect(flagged.code).toBe(2);
  expect(flagged.stderr).toContain('never from flags');
  expectNoSecrets(flagged);
  const missing = await verify(['verify', '--sequence-client-id', 'x']);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('verify needs --sequence-base-url');
  expect(missing.stderr).toContain('--tax-code-default');
});

/** A verify session against the simulators, its calls going through `proxy`. */
function sessionThrough(proxy: typeof fetch): VerifySession {
  return new VerifySession({
    sequenceBaseUrl: sequence.apiUrl,
    sequenceClientId: sequence.clientId,
    sequenceClientSecret: SEQUENCE_SECRET,
    sphereBaseUrl: sphere.url,
    sphereApiKey: SPHERE_KEY,
    taxCode: TAX_CODE,
    fetch: proxy,
  });
}

/**
 * A Sphere that differs where the simulator has no fault for it, played by a proxy in front of the
 * simulator: no X-Request-Id header, the zero-tax reason beside the lines rather than on them, and a
 * cancelled transaction reading "void".
 */
function differingSphere(): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.origin !== new URL(sphere.url).origin) return response;
    const headers = new Headers(response.headers);
    headers.delete('x-request-id');
    let text = await response.text();
    if (url.pathname === '/tax_api/calculate_tax' && response.ok) {
      const body = JSON.parse(text) as { data: { lines: { tax_amounts: unknown[]; taxability_reason?: string }[]; taxability_reason?: string } };
      for (const line of body.data.lines) {
        if (line.tax_amounts.length === 0 && line.taxability_reason) {
          body.data.taxability_reason = line.taxability_reason;
          delete line.taxability_reason;
        }
      }
      text = JSON.stringify(body);
    }
    if (/^\/v1\/transactions\/[^/]+$/.test(url.pathname) && (init?.method ?? 'GET') === 'GET') text = text.replace('"status":"cancelled"', '"status":"void"');
    return new Response(text, { status: response.status, headers });
  };
}

it('refutes the request-id header, the zero-tax reason location and the cancelled status when Sphere differs there (a proxy)', async () => {
  const session = sessionThrough(differingSphere());
  const results = await runChecks(session);
  const byId = Object.fromEntries(results.map((r) => [r.id, r]));
  expect(byId['SPHERE-REQUEST-ID-HEADER']).toMatchObject({ verdict: 'refuted', evidence: expect.stringContaining('no X-Request-Id on') });
  expect(byId['SEQ-REQUEST-ID-HEADER']!.verdict).toBe('confirmed');
  expect(byId['SPHERE-TAXABILITY-REASON-LOCATION']).toMatchObject({ verdict: 'refuted', evidence: expect.stringContaining('sits at data.taxability_reason, not on the line') });
  expect(byId['SPHERE-V1-CANCELLED-STATUS']).toMatchObject({ verdict: 'refuted', evidence: expect.stringContaining('status: sent "cancelled", Sphere returned "void"') });
  // Nothing was left behind (the cancel went through; only its read-back differed).
  expect(session.cleanupFailures).toEqual([]);
  expect(results.filter((r) => r.verdict === 'refuted').map((r) => r.id).sort()).toEqual(['SPHERE-REQUEST-ID-HEADER', 'SPHERE-TAXABILITY-REASON-LOCATION', 'SPHERE-V1-CANCELLED-STATUS']);
});

it('refutes SPHERE-V1-LINE-QUANTITY-PRECISION when Sphere refuses or rounds a long line quantity (lineQuantityDecimals), with what it did', async () => {
  const outcomes = {
    reject: 'Sphere refused quantity "1.123456789012" on a transaction line with HTTP 400 (line_items.0.quantity: "Ensure that there are no more than 6 decimal places.")',
    round: 'Sphere accepted quantity "1.123456789012" on a transaction line but answered line_items.0.quantity "1.123457"',
  };
  try {
    for (const [beyond, evidence] of Object.entries(outcomes)) {
      await sphereFaults({ lineQuantityDecimals: { places: 6, beyond } });
      const session = sessionThrough(fetch);
      try {
        await expect(CHECKS['SPHERE-V1-LINE-QUANTITY-PRECISION']!(session)).resolves.toEqual({ verdict: 'refuted', evidence: expect.stringContaining(evidence) });
      } finally {
        await session.cleanup();
      }
      expect(session.cleanupFailures).toEqual([]);
    }
  } finally {
    await sphereFaults({ lineQuantityDecimals: null });
  }
});

/** A Sequence whose customer list leaves out integration ids (a proxy in front of the simulator). */
function sequenceListingNoIntegrationIds(): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.origin !== new URL(sequence.url).origin || url.pathname !== '/api/customers' || (init?.method ?? 'GET') !== 'GET' || !response.ok) return response;
    const page = (await response.json()) as { items: { integrationIds?: unknown }[] };
    for (const item of page.items) item.integrationIds = [];
    return new Response(JSON.stringify(page), { status: response.status, headers: response.headers });
  };
}

it('refutes a mark-as-sent that notifies (markAsSentNotifies) and a customer list that hides integration ids (a proxy)', async () => {
  sequence.setFaults({ markAsSentNotifies: true });
  try {
    const session = sessionThrough(sequenceListingNoIntegrationIds());
    const byId = Object.fromEntries((await runChecks(session)).map((r) => [r.id, r]));
    expect(byId['SEQ-MARK-AS-SENT-NO-WEBHOOK']).toMatchObject({ verdict: 'refuted', evidence: expect.stringContaining('as sent notified the webhook: INVOICE_UPDATED (status SENT), INVOICE_ISSUED (status SENT)') });
    expect(byId['SEQ-NATIVE-SPHERE-LINK']).toMatchObject({ verdict: 'refuted', evidence: expect.stringContaining('the customer list shows integrationIds []: the native-link scan reads') });
    expect(session.cleanupFailures).toEqual([]);
  } finally {
    sequence.setFaults({ markAsSentNotifies: false });
  }
});

/** A Sphere whose calculate_tax does not know products created through v1 (a proxy in front of the simulator). */
function sphereNotKnowingV1Products(): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.origin !== new URL(sphere.url).origin || url.pathname !== '/tax_api/calculate_tax') return fetch(input, init);
    const message = "Product 'sphere-connector-verify-product' does not exist in Sphere; create it with a product tax code first.";
    return new Response(JSON.stringify({ type: 'api_error', code: 'invalid_product_tax_code', message }), { status: 400, headers: { 'content-type': 'application/json', 'x-request-id': 'req_proxy' } });
  };
}

it('refutes SPHERE-V1-PRODUCT-IN-CALCULATION when calculate_tax does not know the v1 product, and does not blame the tax code for it', async () => {
  const byId = Object.fromEntries((await runChecks(sessionThrough(sphereNotKnowingV1Products()))).map((r) => [r.id, r]));
  expect(byId['SPHERE-V1-PRODUCT-IN-CALCULATION']).toMatchObject({ verdict: 'refuted', evidence: expect.stringContaining('calculate_tax did not recognise the product created through v1') });
  expect(byId['SPHERE-TAX-CODES']!.verdict).toBe('unknown');
});

it('with rejected credentials every check that needs them is unknown, saying why, and neither secret is printed', async () => {
  const wrong = { SEQUENCE_CLIENT_SECRET: `${SEQUENCE_SECRET}-wrong`, SPHERE_API_KEY: `${SPHERE_KEY}-wrong` };
  const run = await verify(args('--json'), wrong);
  expect(run.code).toBe(0);
  const json = JSON.parse(run.stdout) as VerifyJson;
  // Only the request-id headers can be read from a 401 (they are there).
  expect(json.checks.filter((c) => c.verdict !== 'unknown').map((c) => [c.id, c.verdict])).toEqual([
    ['SEQ-REQUEST-ID-HEADER', 'confirmed'],
    ['SPHERE-REQUEST-ID-HEADER', 'confirmed'],
  ]);
  expect(evidence(json, 'SEQ-LINE-TAX-RULE')).toMatch(/^could not create the Sequence test customer: /);
  expect(evidence(json, 'SPHERE-V1-PRODUCT-TAX-CODE-FIELD')).toMatch(/^could not upsert the Sphere test product: /);
  for (const secret of Object.values(wrong)) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
});

it('refutes a tax code the Sphere organisation does not have, naming it', async () => {
  const run = await verify(['verify', '--sequence-base-url', sequence.apiUrl, '--sequence-client-id', sequence.clientId, '--sphere-base-url', sphere.url, '--tax-code-default', 'txcd_not_ours', '--json']);
  expect(run.code).toBe(1);
  const json = JSON.parse(run.stdout) as VerifyJson;
  expect(verdicts(json)['SPHERE-TAX-CODES']).toBe('refuted');
  expect(evidence(json, 'SPHERE-TAX-CODES')).toContain(`Sphere does not accept "txcd_not_ours" (`);
  expect(verdicts(json)['SPHERE-V1-PRODUCT-TAX-CODE-FIELD']).toBe('unknown');
});
