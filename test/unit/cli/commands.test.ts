/**
 * CLI commands against a fake transport (no server): --aws signs with SigV4 instead of the bearer
 * token, tax/finalize render their tables, redrive keeps calling while the API answers 202.
 */
import type { FetchLike } from '../../../cli/client';
import { type CliIo, runCli } from '../../../cli/commands';
import { createSigV4Signer } from '../../../cli/sigv4';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

function harness(answers: Array<{ status: number; body: unknown }>, env: NodeJS.ProcessEnv = {}, secrets: string[] = []) {
  const prompts: string[] = [];
  const calls: Call[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, ...init });
    const answer = answers.shift() ?? { status: 500, body: { error: { code: 'unexpected', message: 'no more answers' } } };
    return { status: answer.status, text: async () => JSON.stringify(answer.body) };
  };
  const io: CliIo = {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env,
    isTTY: false,
    sleep: async () => undefined,
    fetch,
    readSecret: async (prompt) => {
      prompts.push(prompt);
      const secret = secrets.shift();
      if (secret === undefined) throw new Error('no secret on stdin');
      return secret;
    },
    awsSigner: async (region) =>
      createSigV4Signer({ region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }, now: () => new Date('2026-01-02T03:04:05Z') }),
  };
  return { io, calls, prompts, out: () => out.join(''), err: () => err.join('') };
}

it('--aws signs the request (region from the execute-api URL) and sends no bearer token', async () => {
  const h = harness([{ status: 200, body: { items: [] } }]);
  const code = await runCli(['dlq', '--aws', '--url', 'https://abc123.execute-api.eu-central-1.amazonaws.com'], h.io);
  expect(code).toBe(0);
  const headers = h.calls[0]!.headers;
  expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20260102\/eu-central-1\/execute-api\/aws4_request, SignedHeaders=accept;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/);
  expect(headers['x-amz-date']).toBe('20260102T030405Z');
  expect(headers.host).toBeUndefined();
  expect(h.calls[0]!.url).toBe('https://abc123.execute-api.eu-central-1.amazonaws.com/dlq');
});

it('without --aws it sends the bearer token from the environment', async () => {
  const h = harness([{ status: 200, body: { items: [] } }], { CONNECTOR_ADMIN_TOKEN: 'tok-1', CONNECTOR_URL: 'http://127.0.0.1:9/' });
  expect(await runCli(['list'], h.io)).toBe(0);
  expect(h.calls[0]).toMatchObject({ url: 'http://127.0.0.1:9/connections', method: 'GET', headers: { authorization: 'Bearer tok-1' } });
});

it('tax renders the record and its lines; the ids are URL-encoded', async () => {
  const record = {
    invoiceId: 'inv/1',
    status: 'CALCULATED',
    calculationId: 'calc_1',
    totalTax: '8.63',
    lines: [{ lineItemId: 'li_1', amount: '100.00', taxAmount: '8.63', taxRate: '0.08625', jurisdictions: [{ name: 'CALIFORNIA', rate: '0.0725', amount: '7.25', taxType: 'sales' }] }],
  };
  const h = harness([{ status: 200, body: record }]);
  expect(await runCli(['tax', 'c1', 'inv/1'], h.io)).toBe(0);
  expect(h.calls[0]).toMatchObject({ method: 'POST', url: 'http://127.0.0.1:3000/connections/c1/invoices/inv%2F1/tax' });
  expect(h.out()).toMatch(/^total tax\s+8\.63$/m);
  expect(h.out()).toMatch(/^li_1\s+100\.00\s+0\.08625\s+8\.63\s+CALIFORNIA 0\.0725$/m);
});

it('finalize prints the API 422 reason and exits 1', async () => {
  const h = harness([{ status: 422, body: { error: { code: 'customer_address_invalid', message: 'Sphere cannot locate the address. Fix it in Sequence' } } }]);
  expect(await runCli(['finalize', 'c1', 'inv_1'], h.io)).toBe(1);
  expect(h.err()).toBe('Error 422 customer_address_invalid: Sphere cannot locate the address. Fix it in Sequence\n');
});

it('retry sends the selection; redrive keeps calling while the API answers 202 with progress', async () => {
  const r = harness([{ status: 202, body: { requeued: 1, matched: 1, skipped: 0 } }]);
  expect(await runCli(['retry', 'c1', '--resource-type', 'invoice', '--resource-id', 'inv_1'], r.io)).toBe(0);
  expect(JSON.parse(r.calls[0]!.body!)).toEqual({ resourceType: 'invoice', resourceId: 'inv_1' });

  const d = harness([
    { status: 202, body: { queue: 'invoiceTax', moved: 10, failed: 0, remaining: 5 } },
    { status: 200, body: { queue: 'invoiceTax', moved: 5, failed: 0, remaining: 0 } },
  ]);
  expect(await runCli(['redrive', 'invoiceTax', '--json'], d.io)).toBe(0);
  expect(d.calls).toHaveLength(2);
  expect(JSON.parse(d.out())).toEqual({ queue: 'invoiceTax', moved: 15, failed: 0, remaining: 0 });
});

describe('update (PATCH /connections/{id})', () => {
  const connection = (overrides: Record<string, unknown> = {}) => ({
    id: 'c1',
    name: 'Acme',
    status: 'ACTIVE',
    environment: 'sandbox',
    taxCodes: { default: 'txcd_10000000', byTaxCategory: { cat_saas: 'txcd_10103001', cat_old: 'txcd_1' } },
    options: { recordTransactions: true, calculateOnDraft: true },
    counts: {},
    backfill: {},
    ...overrides,
  });

  it('rotates both credentials read from stdin (Sequence first), sends them only in the PATCH body and never prints them', async () => {
    const h = harness([{ status: 200, body: connection() }], {}, ['seq-new-secret-123', 'sph_new_key_456']);
    const code = await runCli(['update', 'c1', '--sequence-client-secret-stdin', '--sphere-api-key-stdin'], h.io);
    expect(code).toBe(0);
    expect(h.prompts).toEqual(['Sequence client secret: ', 'Sphere API key: ']);
    expect(h.calls).toHaveLength(1);
    expect(h.calls[0]).toMatchObject({ method: 'PATCH', url: 'http://127.0.0.1:3000/connections/c1' });
    expect(JSON.parse(h.calls[0]!.body!)).toEqual({ sequence: { clientSecret: 'seq-new-secret-123' }, sphere: { apiKey: 'sph_new_key_456' } });
    expect(h.out()).toMatch(/^Updated \(checked and stored: Sequence client secret, Sphere API key; revoke the old one now\)\./);
    expect(h.out() + h.err()).not.toMatch(/seq-new-secret-123|sph_new_key_456/);
  });

  it('refuses secrets given as flags (they would land in shell history) and sends nothing', async () => {
    const h = harness([]);
    expect(await runCli(['update', 'c1', '--sphere-api-key', 'sph_in_history'], h.io)).toBe(2);
    expect(h.err()).toMatch(/reads secrets from stdin, never from flags/);
    expect(h.calls).toHaveLength(0);
  });

  it('merges --tax-code changes into the current map (CATEGORY= removes one) and toggles options', async () => {
    const h = harness([
      { status: 200, body: connection() },
      { status: 200, body: connection({ taxCodes: { default: 'txcd_10000000', byTaxCategory: { cat_saas: 'txcd_2', cat_new: 'txcd_3' } }, options: { recordTransactions: false, calculateOnDraft: true } }) },
    ]);
    const code = await runCli(['update', 'c1', '--tax-code', 'cat_saas=txcd_2', '--tax-code', 'cat_new=txcd_3', '--tax-code', 'cat_old=', '--no-record-transactions'], h.io);
    expect(code).toBe(0);
    expect(h.calls.map((c) => c.method)).toEqual(['GET', 'PATCH']);
    expect(JSON.parse(h.calls[1]!.body!)).toEqual({ taxCodes: { byTaxCategory: { cat_saas: 'txcd_2', cat_new: 'txcd_3' } }, options: { recordTransactions: false } });
    expect(h.prompts).toEqual([]);
    expect(h.out()).toMatch(/^tax codes\s+cat_saas=txcd_2, cat_new=txcd_3$/m);
    expect(h.out()).toMatch(/^record transactions\s+false$/m);
  });

  it('confirms running beside a native Sequence↔Sphere integration (--allow-beside-native-integration)', async () => {
    const h = harness([{ status: 200, body: connection({ options: { recordTransactions: true, calculateOnDraft: true, allowBesideNativeIntegration: true } }) }]);
    expect(await runCli(['update', 'c1', '--allow-beside-native-integration'], h.io)).toBe(0);
    expect(JSON.parse(h.calls[0]!.body!)).toEqual({ options: { allowBesideNativeIntegration: true } });
    expect(h.out()).toMatch(/^allow beside a native integration\s+true$/m);
  });

  it('shows a connection warning (a native Sequence↔Sphere integration) in the summary', async () => {
    const warning = { code: 'native_sphere_integration_detected', message: 'A native integration seems linked', evidence: [] };
    const h = harness([{ status: 200, body: connection({ warnings: [warning] }) }]);
    expect(await runCli(['update', 'c1', '--name', 'Renamed'], h.io)).toBe(0);
    expect(h.out()).toMatch(/^warning\s+native_sphere_integration_detected: A native integration seems linked$/m);
  });

  it('rejects contradictions, malformed tax codes and an update with nothing to change (exit 2)', async () => {
    for (const argv of [
      ['update', 'c1', '--record-transactions', '--no-record-transactions'],
      ['update', 'c1', '--allow-beside-native-integration', '--no-allow-beside-native-integration'],
      ['update', 'c1', '--tax-code', 'no-equals-sign'],
      ['update', 'c1'],
      ['update', 'c1', '--sequence-client-id', 'new-client'],
    ]) {
      const h = harness([]);
      expect(await runCli(argv, h.io)).toBe(2);
      expect(h.calls).toHaveLength(0);
    }
  });

  it('prints the API refusal of a new key (422, nothing changed) and exits 1', async () => {
    const h = harness([{ status: 422, body: { error: { code: 'sphere_credentials_rejected', message: 'Sphere rejected the API key; nothing was changed' } } }], {}, ['sph_wrong']);
    expect(await runCli(['update', 'c1', '--sphere-api-key-stdin'], h.io)).toBe(1);
    expect(h.err()).toMatch(/Error 422 sphere_credentials_rejected: Sphere rejected the API key/);
    expect(h.err()).not.toContain('sph_wrong');
  });
});
