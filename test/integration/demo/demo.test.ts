/**
 * `npm run demo`: the scripted walk against the `npm start` composition (local/wiring.ts routes and
 * queues, both simulators) started in-process on free ports, asserting its structured result and
 * checking it against the simulators' own state (not only what the walk read back): statuses, every
 * line's tax equal to Sphere's rule and to Sequence's totalTax, the finalised invoice and the credit
 * note recorded in Sphere. Then the "existing stack" mode against the same stack (connection reused,
 * stack left running), and the probe of an address where nothing answers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runDemo } from '../../../demo/run';
import { type InProcessDemoStack, findRunningStack, startDemoStack } from '../../../demo/stack';
import { type DemoResult, runDemoWalk } from '../../../demo/walk';
import { Decimal } from '../../../shared/domain/decimal';

jest.setTimeout(90_000);

let stack: InProcessDemoStack;
let first: DemoResult;
const printed: string[] = [];

beforeAll(async () => {
  stack = await startDemoStack();
  first = await runDemoWalk(stack.targets, { print: (text) => void printed.push(text), waitTimeoutMs: 30_000 });
});

afterAll(async () => {
  await stack?.stop();
});

/** Sphere's per-entry rule (round half-up of net × percentage / 100, in cents), independently of the connector. */
function sphereCents(net: string, ...percentages: string[]): string {
  const cents = new Decimal(net).times(100);
  const total = percentages.reduce((sum, p) => sum + cents.times(p).dividedBy(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber(), 0);
  return new Decimal(total).dividedBy(100).toFixed(2);
}

function sphereTransactions() {
  return stack.sphere.state.snapshot().transactions as { external_id: string; type: string; status: string; tax?: string | null; original_transaction_id?: string | null }[];
}

it('passes every step and prints the tables and the summary', () => {
  expect(first.steps.map((s) => [s.step, s.ok])).toEqual([
    ['1. Connect', true],
    ['2. Backfill', true],
    ['3. Invoice taxed (US-CA)', true],
    ['4. Invoice finalised', true],
    ['5. Canadian invoice (HST)', true],
    ['6. Exempt customer', true],
    ['7. Reverse charge (DE)', true],
    ['8. Credit note', true],
  ]);
  expect(first.ok).toBe(true);
  const output = printed.join('\n');
  expect(output).toContain('== Summary');
  expect(output).toContain('All 8 steps passed.');
  expect(output).toMatch(/line \/ Sphere jurisdiction\s+amount USD\s+Sphere tax\s+taxRate set\s+Sequence totalTax\s+match/);
  expect(output).toMatch(/└ San Francisco Special Districts 1\.375%\s+8\.25/);
  expect(output).toContain('no tax: customer_exempt');
});

it('connects (ACTIVE, the simulator account, a webhook policy to this connection) and backfills the seeded records', () => {
  expect(first.connection).toMatchObject({ status: 'ACTIVE', sequenceAccountId: stack.sequence.state.account.id, reused: false });
  const policy = Object.values(stack.sequence.state.policies).find((p) => p.id === first.connection!.webhookPolicy!.id);
  expect(policy?.recipients).toEqual([`${stack.targets.connectorUrl}/webhooks/sequence/${first.connection!.id}`]);
  expect(first.connection!.webhookPolicy!.notificationTypes).toEqual(expect.arrayContaining(['INVOICE_UPDATED', 'CREDIT_NOTE_ISSUED']));
  expect(first.backfill).toMatchObject({ state: 'COMPLETED', customersSynced: 4, productsSynced: 3, seededCustomersInSphere: 4, seededProductsInSphere: 3 });
  expect(first.backfill!.done).toBe(first.backfill!.total);
});

it("taxes the San Francisco invoice with Sphere's per-jurisdiction amounts, equal to Sequence's totalTax on every line", () => {
  const ca = first.invoices.find((i) => i.label === 'US-CA invoice')!;
  expect(ca).toMatchObject({ status: 'CALCULATED', currency: 'USD', allMatch: true });
  const sf = ['6', '1.25', '1.375'];
  expect(ca.lines.map((l) => [l.amount, l.sphereTax])).toEqual([
    ['599.88', sphereCents('599.88', ...sf)],
    ['1250.00', sphereCents('1250.00', ...sf)],
    ['333.33', '0.00'], // training: an exempt product tax code
  ]);
  expect(ca.lines[1]!.sphereTax).toBe('107.82'); // a flat 8.625 % would give 107.81
  expect(ca.lines[0]!.jurisdictions.map((j) => j.name)).toEqual(['California', 'San Francisco County', 'San Francisco Special Districts']);
  expect(ca.lines[2]).toMatchObject({ jurisdictions: [], taxabilityReason: 'product_exempt', taxRate: '0' });
  // Sequence's own numbers, straight from the simulator's data.
  for (const line of ca.lines) {
    const stored = stack.sequence.state.lineItems[line.lineItemId]!;
    expect(stored.totalTax).toBe(line.sphereTax);
    expect(stored.taxRate).toBe(line.taxRate);
  }
  expect(ca.totalTax).toBe('159.56');
  expect(stack.sequence.state.invoices[ca.invoiceId]!.totalTax).toBe('159.56');
});

it('finalises it (FINAL in Sequence) and records the debit transaction in Sphere', () => {
  const ca = first.invoices.find((i) => i.label === 'US-CA invoice')!;
  expect(first.finalized).toMatchObject({ invoiceId: ca.invoiceId, status: 'FINAL', totalTax: '159.56', sphereTransaction: { type: 'debit', status: 'finalized', tax: '159.56', lineCount: 3 } });
  expect(first.finalized!.transactionsRecorded).toBeGreaterThanOrEqual(1);
  expect(stack.sequence.state.invoices[ca.invoiceId]!.status).toBe('FINAL');
  expect(sphereTransactions().filter((t) => t.external_id === ca.invoiceId)).toEqual([expect.objectContaining({ type: 'debit', status: 'finalized', tax: '159.56' })]);
});

it('gives Ontario 13 % HST, the exempt customer and the reverse-charged German business zero tax with the reason', () => {
  const on = first.invoices.find((i) => i.label === 'CA-ON invoice')!;
  expect(on).toMatchObject({ status: 'CALCULATED', currency: 'CAD', totalTax: '259.87', sequenceTotalTax: '259.87', allMatch: true });
  expect(on.lines[0]!.jurisdictions).toEqual([expect.objectContaining({ name: 'Ontario', taxType: 'hst', percentage: '13' })]);
  const exempt = first.invoices.find((i) => i.label === 'exempt customer')!;
  expect(exempt).toMatchObject({ status: 'CALCULATED', totalTax: '0.00', sequenceTotalTax: '0.00', reason: 'customer_exempt', allMatch: true });
  const reverse = first.invoices.find((i) => i.label === 'reverse charge')!;
  expect(reverse).toMatchObject({ status: 'CALCULATED', currency: 'EUR', totalTax: '0.00', sequenceTotalTax: '0.00', reason: 'reverse_charge', allMatch: true });
});

it('records the credit note in Sphere as a credit against the finalised invoice', () => {
  const ca = first.invoices.find((i) => i.label === 'US-CA invoice')!;
  expect(first.creditNote).toMatchObject({ status: 'SENT', totalTax: '107.82', sphereTransaction: { type: 'credit', originalTransactionId: ca.invoiceId } });
  const credit = sphereTransactions().find((t) => t.external_id === first.creditNote!.id);
  expect(credit).toMatchObject({ type: 'credit', status: 'finalized', original_transaction_id: ca.invoiceId });
  expect(new Decimal(credit!.tax!).abs().toFixed(2)).toBe('107.82');
});

it('prints no secret: not the webhook signing secret, the admin token, the Sequence secret or the Sphere key', () => {
  const output = printed.join('\n');
  const policy = Object.values(stack.sequence.state.policies).find((p) => p.id === first.connection!.webhookPolicy!.id)!;
  expect(policy.webhookSecret).toBeTruthy();
  for (const secret of [policy.webhookSecret!, stack.targets.adminToken, stack.targets.sequenceClientSecret, stack.targets.sphereApiKey]) {
    expect(output).not.toContain(secret);
  }
});

it('in "existing stack" mode uses the running connector as it is (connection reused) and leaves it running', async () => {
  const lines: string[] = [];
  const env = { CONNECTOR_URL: `${stack.targets.connectorUrl}/health`, SEQUENCE_SIM_URL: stack.targets.sequenceSimUrl, SPHERE_SIM_URL: stack.targets.sphereSimUrl, CONNECTOR_ADMIN_TOKEN: stack.targets.adminToken };
  const again = await runDemo({ env, print: (text) => void lines.push(text) });
  expect(again.mode).toBe('existing');
  expect(again.connection).toMatchObject({ id: first.connection!.id, reused: true, status: 'ACTIVE' });
  expect(again.steps.every((s) => s.ok)).toBe(true);
  expect(again.ok).toBe(true);
  expect(lines[0]).toContain(`Using the connector already running at ${stack.targets.connectorUrl}`);
  expect((await fetch(`${stack.targets.connectorUrl}/health`)).status).toBe(200);
});

it('reports a failed step with its reason, skips what depends on it, and does not pass', async () => {
  const lines: string[] = [];
  const failed = await runDemoWalk({ ...stack.targets, adminToken: 'not-the-admin-token' }, { print: (text) => void lines.push(text), waitTimeoutMs: 2_000 });
  expect(failed.ok).toBe(false);
  expect(failed.steps[0]).toMatchObject({ step: '1. Connect', ok: false, result: expect.stringContaining('HTTP 401') });
  expect(failed.steps.slice(1).every((s) => !s.ok && s.result === 'skipped: no connection')).toBe(true);
  expect(failed.steps).toHaveLength(8);
  expect(lines.join('\n')).toContain('0 of 8 steps passed.');
  expect(lines.join('\n')).not.toContain('not-the-admin-token');
});

it('finds no running stack where nothing answers, and refuses a connector without its simulators', async () => {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  expect(await findRunningStack({ CONNECTOR_URL: `http://127.0.0.1:${port}` })).toBeUndefined();
  await expect(findRunningStack({ CONNECTOR_URL: stack.targets.connectorUrl, SEQUENCE_SIM_URL: `http://127.0.0.1:${port}`, SPHERE_SIM_URL: stack.targets.sphereSimUrl })).rejects.toThrow(
    /no Sequence simulator at http:\/\/127\.0\.0\.1:\d+ \(SEQUENCE_SIM_URL\)/,
  );
});
