/**
 * CLI commands against a fake transport (no server): --aws signs with SigV4 instead of the bearer
 * token, tax/finalize render their tables, redrive keeps calling while the API answers 202.
 */
import type { FetchLike } from '../../../shared/cli/client';
import { type CliIo, runCli } from '../../../shared/cli/commands';
import { createSigV4Signer } from '../../../shared/cli/sigv4';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

function harness(answers: Array<{ status: number; body: unknown }>, env: NodeJS.ProcessEnv = {}) {
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
    awsSigner: async (region) =>
      createSigV4Signer({ region, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }, now: () => new Date('2026-01-02T03:04:05Z') }),
  };
  return { io, calls, out: () => out.join(''), err: () => err.join('') };
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
