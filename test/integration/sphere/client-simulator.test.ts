import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectorBugError, UserActionRequiredError } from '../../../shared/domain/errors';
import { type UpstreamCallRecord } from '../../../shared/http/upstream-http';
import { SphereClient, SphereNotFoundError, type SphereClientOptions } from '../../../shared/sphere';
import { startSphereSimulator, type SphereSimulator } from '../../../local/sphere-sim/server';

const KEY = 'sph_test_local';
const OTHER_KEY = 'sph_test_integration_2';

let sim: SphereSimulator;

function client(extra: Partial<SphereClientOptions> = {}, records: UpstreamCallRecord[] = []): SphereClient {
  return new SphereClient({
    baseUrl: sim.url,
    apiKey: KEY,
    timeoutMs: 5000,
    // Backoff delays are capped so the suite stays fast; rate-limiter pauses (Retry-After) stay real.
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
    backoff: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 50 },
    onCall: (r) => records.push(r),
    ...extra,
  });
}

async function control(path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${sim.url}${path}`, { method: body === undefined ? 'GET' : 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return res.json();
}

const nyc = { line1: '350 5th Ave', city: 'New York', state: 'NY', postalCode: '10118', country: 'US' };
const sf = { line1: '1 Market St', city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'US' };

beforeAll(async () => {
  sim = await startSphereSimulator({ port: 0, apiKeys: [KEY, OTHER_KEY] });
});

afterAll(async () => {
  await sim.stop();
});

beforeEach(async () => {
  await control('/_sim/reset', {});
  await control('/_sim/seed', { products: [{ external_id: 'prod_saas', name: 'Platform', tax_code: 'txcd_10000000' }] });
});

describe('SphereClient ↔ Sphere simulator', () => {
  it('calculates US multi-jurisdiction tax (NYC) and normalises it', async () => {
    const c = client();
    await c.upsertProduct({ externalId: 'prod_seats', name: 'Seats', taxCode: 'txcd_10103001' });
    const result = await c.calculateTax({
      currency: 'USD',
      customerAddress: nyc,
      lineItems: [{ id: 'li_1', amount: 10000, productId: 'prod_saas' }, { id: 'li_2', amount: 2550, productId: 'prod_seats' }],
    });
    expect(result.calculationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.lines.map((l) => l.id)).toEqual(['li_1', 'li_2']);
    const first = result.lines[0]!;
    expect(first.taxAmounts.map((t) => [t.jurisdiction, t.percentage, t.amount, t.taxType])).toEqual([
      ['New York', '4', 400, 'sales_tax'],
      ['New York City', '4.5', 450, 'sales_tax'],
      ['Metropolitan Commuter Transportation District', '0.375', 38, 'sales_tax'],
    ]);
    expect(first.taxabilityReason).toBe('standard_rated');
    expect(result.lines[1]!.taxAmounts.map((t) => t.amount)).toEqual([102, 115, 10]);

    // the older top-level shape normalises the same way
    await control('/_sim/faults', { responseShape: 'legacy' });
    const legacy = await c.calculateTax({ currency: 'usd', customerAddress: nyc, lineItems: [{ id: 'li_1', amount: 10000, productId: 'prod_saas' }, { id: 'li_2', amount: 2550, productId: 'prod_seats' }] });
    expect(legacy.lines).toEqual(result.lines);
  });

  it('reports zero-tax reasons and user errors from the engine', async () => {
    const c = client();
    const notCollecting = await c.calculateTax({ currency: 'usd', customerAddress: { city: 'Miami', state: 'FL', postalCode: '33101', country: 'US' }, lineItems: [{ id: 'a', amount: 5000, productId: 'prod_saas' }] });
    expect(notCollecting.lines[0]).toEqual({ id: 'a', taxAmounts: [], taxabilityReason: 'not_collecting' });
    const reverse = await c.calculateTax({ currency: 'eur', taxId: 'DE123456789', customerAddress: { city: 'Berlin', postalCode: '10115', country: 'DE' }, lineItems: [{ id: 'a', amount: 5000, productId: 'prod_saas' }] });
    expect(reverse.lines[0]!.taxabilityReason).toBe('reverse_charge');

    const badAddress = await c.calculateTax({ currency: 'usd', customerAddress: { ...sf, postalCode: '00000' }, lineItems: [{ id: 'a', amount: 5000, productId: 'prod_saas' }] }).catch((e: unknown) => e);
    expect(badAddress).toBeInstanceOf(UserActionRequiredError);
    expect(badAddress).toMatchObject({ code: 'customer_tax_location_invalid', upstream: { service: 'sphere', status: 400 } });
    const badProduct = await c.calculateTax({ currency: 'usd', customerAddress: sf, lineItems: [{ id: 'a', amount: 5000, productId: 'prod_unknown' }] }).catch((e: unknown) => e);
    expect(badProduct).toMatchObject({ code: 'invalid_product_tax_code', kind: 'user' });
    expect((badProduct as UserActionRequiredError).fix).toMatch(/tax code/);
  });

  it('rejects a bad key with a typed error naming Sphere, and verifyKey tells good from bad', async () => {
    const bad = client({ apiKey: 'sph_wrong_key_value' });
    const err = await bad.calculateTax({ currency: 'usd', customerAddress: sf, lineItems: [{ id: 'a', amount: 100, productId: 'prod_saas' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserActionRequiredError);
    expect(err).toMatchObject({ code: 'sphere_credentials_rejected', upstream: { service: 'sphere', status: 401, upstreamCode: 'unauthorized_access' } });
    expect((err as Error).message).toMatch(/Sphere/);
    expect(JSON.stringify((err as UserActionRequiredError).toJSON())).not.toContain('sph_wrong_key_value');
    await expect(bad.verifyKey()).rejects.toMatchObject({ code: 'sphere_credentials_rejected' });
    await expect(client().verifyKey()).resolves.toEqual({ ok: true });
    const log = JSON.stringify(await control('/_sim/requests'));
    expect(log).toContain('/tax_api/calculate_tax');
    expect(log).not.toContain('sph_wrong_key_value');
    expect(log).not.toContain(KEY);
  });

  it('answers the v1 write limit with 429, Retry-After and RateLimit headers; the client waits and succeeds', async () => {
    await control('/_sim/faults', { rateLimitPerSecond: 1 });
    // the raw contract
    const post = () => fetch(`${sim.url}/v1/customers`, { method: 'POST', headers: { 'X-API-KEY': OTHER_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ external_id: 'raw' }) });
    expect((await post()).status).toBe(200);
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('ratelimit-limit')).toBe('1');
    expect(limited.headers.get('ratelimit-remaining')).toBe('0');
    expect(await limited.json()).toMatchObject({ error: { code: 'rate_limit_exceeded', retryable: true, retry_after_seconds: 1, request_id: expect.stringMatching(/^req_/) } });

    // the client
    const records: UpstreamCallRecord[] = [];
    const c = client({}, records);
    const started = Date.now();
    await c.upsertCustomer({ externalId: 'cus_a', name: 'A', billingAddress: sf });
    await c.upsertCustomer({ externalId: 'cus_b', name: 'B', billingAddress: sf });
    expect(records.map((r) => r.status)).toEqual([200, 429, 200]);
    expect(records[2]!.attempt).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(sim.state.customers.size).toBe(3);
  });

  it('retries 5xx injected via /_sim/faults and then succeeds', async () => {
    await control('/_sim/faults', { failNext: 2, statuses: [503] });
    const records: UpstreamCallRecord[] = [];
    const result = await client({}, records).calculateTax({ currency: 'usd', customerAddress: sf, lineItems: [{ id: 'a', amount: 10000, productId: 'prod_saas' }] });
    expect(result.lines[0]!.taxAmounts.reduce((s, t) => s + t.amount, 0)).toBe(863);
    expect(records.map((r) => r.status)).toEqual([503, 503, 200]);

    await control('/_sim/faults', { errorRate: 1, statuses: [500] });
    await expect(client().getCustomer('x')).rejects.toMatchObject({ code: 'upstream_server_error', kind: 'retryable' });
  });

  it('turns a malformed upstream body (malformedRate fault) into upstream_malformed_response', async () => {
    const c = client();
    const input = { currency: 'usd', customerAddress: sf, lineItems: [{ id: 'a', amount: 100, productId: 'prod_saas' }] };
    await control('/_sim/faults', { malformedRate: 1 });
    const e1 = await c.calculateTax(input).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ConnectorBugError);
    expect(e1).toMatchObject({ code: 'upstream_malformed_response', upstream: { service: 'sphere', status: 200 } });
    expect((e1 as Error).message).toMatch(/not JSON/);
    await expect(c.getCustomer('cus_1')).rejects.toMatchObject({ code: 'upstream_malformed_response', kind: 'bug' });

    await control('/_sim/faults', { malformedBody: 'wrong_shape' });
    const e2 = await c.calculateTax(input).catch((e: unknown) => e);
    expect(e2).toMatchObject({ code: 'upstream_malformed_response', kind: 'bug' });
    expect((e2 as Error).message).toMatch(/unexpected body/);
    // A v1 write's answer is checked field by field against what was sent (issue 13 §2): a body of
    // another shape names the fields it lacks instead of failing as a malformed body.
    const e3 = await c.upsertCustomer({ externalId: 'cus_1', name: 'A', billingAddress: sf }).catch((e: unknown) => e);
    expect(e3).toMatchObject({ code: 'sphere_field_not_accepted', kind: 'user' });
    expect((e3 as Error).message).toMatch(/external_id: sent "cus_1", Sphere returned/);
    // A malformed answer is not a write: nothing was stored.
    expect(sim.state.customers.size).toBe(0);
  });

  it('/_sim/faults merges patches into the current faults and rejects unknown keys by name', async () => {
    await control('/_sim/faults', { errorRate: 0.5, statuses: [502] });
    const merged = (await control('/_sim/faults', { latencyMs: 1, rateLimitPerSecond: 3 })) as { faults: Record<string, unknown> };
    expect(merged.faults).toMatchObject({ errorRate: 0.5, statuses: [502], latencyMs: 1, rateLimitPerSecond: 3, malformedRate: 0, responseShape: 'wrapped' });
    const cleared = (await control('/_sim/faults', { rateLimitPerSecond: null, errorRate: 0 })) as { faults: Record<string, unknown> };
    expect(cleared.faults).not.toHaveProperty('rateLimitPerSecond');
    expect(cleared.faults).toMatchObject({ errorRate: 0, statuses: [502], latencyMs: 1 });

    const res = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ malformedRatio: 1, errorRate: 0.1 }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, string[]>;
    expect(Object.keys(body)).toEqual(['malformedRatio']);
    expect(body.malformedRatio![0]).toMatch(/Unknown fault "malformedRatio"\. Known: .*malformedRate/);
    // A rejected patch changes nothing.
    expect(((await control('/_sim/state')) as { faults: Record<string, unknown> }).faults).toMatchObject({ errorRate: 0 });

    // The fault body architecture §5.3 names for both simulators is accepted whole (webhook faults do nothing here).
    const contractBody = { errorRate: 0, statuses: [503], latencyMs: 0, rateLimitPerSecond: null, duplicateWebhooks: true, reorderWebhooks: false };
    const accepted = await fetch(`${sim.url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(contractBody) });
    expect(accepted.status).toBe(200);
  });

  it('upserts by external_id: re-posting updates, never duplicates', async () => {
    const c = client();
    const first = await c.upsertCustomer({ externalId: 'cus_1', name: 'Acme', billingAddress: sf });
    const second = await c.upsertCustomer({ externalId: 'cus_1', name: 'Acme Inc.', billingAddress: sf, taxIds: [{ type: 'us_ein', value: '12-3456789' }], exemptionStatus: 'exempt' });
    expect(sim.state.customers.size).toBe(1);
    expect(second.createdAt).toBe(first.createdAt);
    expect(await c.getCustomer('cus_1')).toMatchObject({ externalId: 'cus_1', name: 'Acme Inc.', exemptionStatus: 'exempt', billingAddress: sf });
    expect(await c.getCustomer('cus_missing')).toBeNull();

    await c.upsertProduct({ externalId: 'prod_saas', name: 'Renamed', taxCode: 'txcd_10103001' });
    expect(sim.state.products.size).toBe(1);
    expect(await c.getProduct('prod_saas')).toMatchObject({ name: 'Renamed', taxCode: 'txcd_10103001' });
    await expect(c.upsertProduct({ externalId: 'p2', taxCode: 'txcd_nope' })).rejects.toMatchObject({ code: 'validation_errors', kind: 'user' });

    // the stored exemption applies to calculations referencing the customer
    const exempt = await c.calculateTax({ currency: 'usd', customerId: 'cus_1', customerAddress: sf, lineItems: [{ id: 'a', amount: 1000, productId: 'prod_saas' }] });
    expect(exempt.lines[0]).toEqual({ id: 'a', taxAmounts: [], taxabilityReason: 'customer_exempt' });
  });

  it('records, cancels and credits transactions', async () => {
    const c = client();
    await c.upsertCustomer({ externalId: 'cus_t', name: 'T', billingAddress: sf });
    const invoice = { externalId: 'inv_1', type: 'debit' as const, status: 'finalized' as const, customerId: 'cus_t', currency: 'USD', transactionDate: '2025-01-31', lineItems: [{ id: 'l1', productId: 'prod_saas', amount: '100' }] };
    const created = await c.createTransaction(invoice);
    expect(created).toMatchObject({ externalId: 'inv_1', status: 'finalized', currency: 'usd', subtotal: '100.00', tax: '8.63', total: '108.63', lineItems: [{ amount: '100.00', tax: '8.63' }] });
    // an identical retry is a no-op
    await expect(c.createTransaction(invoice)).resolves.toMatchObject({ externalId: 'inv_1', total: '108.63' });
    expect(sim.state.transactions.size).toBe(1);

    const pending = await c.createTransaction({ ...invoice, externalId: 'inv_2', status: 'pending' });
    expect(pending).toMatchObject({ status: 'pending', subtotal: '100.00' });
    expect(pending.tax).toBeUndefined();

    const credit = await c.createTransaction({ ...invoice, externalId: 'cn_1', type: 'credit', originalTransactionId: 'inv_1', lineItems: [{ id: 'l1', productId: 'prod_saas', amount: '40.00' }] });
    expect(credit).toMatchObject({ type: 'credit', originalTransactionId: 'inv_1', subtotal: '40.00', tax: '3.45', total: '43.45' });

    const orphan = await c.createTransaction({ ...invoice, externalId: 'cn_2', type: 'credit', originalTransactionId: 'inv_nope' }).catch((e: unknown) => e);
    expect(orphan).toBeInstanceOf(UserActionRequiredError);
    expect(orphan).toMatchObject({ code: 'validation_errors', upstream: { status: 400, body: { original_transaction_id: ["No transaction with external_id 'inv_nope'."] } } });
    const noCustomer = await c.createTransaction({ ...invoice, externalId: 'inv_3', customerId: 'cus_999' }).catch((e: unknown) => e);
    expect(noCustomer).toMatchObject({ code: 'validation_errors', upstream: { body: { customer_id: ["No customer with external_id 'cus_999'."] } } });

    const cancelled = await c.cancelTransaction('inv_1');
    expect(cancelled).toMatchObject({ status: 'cancelled' });
    expect(cancelled.cancelledAt).toEqual(expect.any(String));
    expect(await c.getTransaction('inv_1')).toMatchObject({ status: 'cancelled' });
    await expect(c.createTransaction(invoice)).rejects.toMatchObject({ code: 'validation_errors' });
    expect(await c.getTransaction('inv_missing')).toBeNull();
    await expect(c.cancelTransaction('inv_missing')).rejects.toBeInstanceOf(SphereNotFoundError);
  });

  it('persists data to a JSON file across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sphere-sim-'));
    const dataFile = join(dir, 'sphere.json');
    try {
      const a = await startSphereSimulator({ dataFile });
      const ca = new SphereClient({ baseUrl: a.url, apiKey: KEY });
      await ca.upsertCustomer({ externalId: 'cus_persist', name: 'P' });
      await a.stop();
      const b = await startSphereSimulator({ dataFile });
      try {
        expect(await new SphereClient({ baseUrl: b.url, apiKey: KEY }).getCustomer('cus_persist')).toMatchObject({ name: 'P' });
      } finally {
        await b.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
