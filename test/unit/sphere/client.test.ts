import { ConnectorBugError, ConnectorError, UpstreamUnavailableError, UserActionRequiredError } from '../../../shared/domain/errors';
import { TokenBucketRateLimiter } from '../../../shared/http/rate-limiter';
import { type UpstreamCallRecord, type UpstreamErrorResponse } from '../../../shared/http/upstream-http';
import {
  KEY_CHECK_CUSTOMER_ID,
  SphereClient,
  SphereNotFoundError,
  SphereRateLimitedError,
  mapSphereError,
  sphereKeyFingerprint,
} from '../../../shared/sphere';
import wrapped from '../../fixtures/sphere/calculate-tax-wrapped.json';

const KEY = 'sph_unit_secret_key_123';

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

function setup(replies: Reply[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const sleeps: number[] = [];
  const records: UpstreamCallRecord[] = [];
  const fetchImpl = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init ?? {} });
    const next = replies.shift();
    if (!next) throw new Error('no more replies');
    const text = typeof next.body === 'string' ? next.body : next.body === undefined ? '' : JSON.stringify(next.body);
    return new Response(text, { status: next.status, headers: next.headers });
  }) as typeof fetch;
  // A fake clock: rate-limiter pauses (after a 429) advance it instead of waiting.
  let clock = 0;
  const fast = () =>
    new TokenBucketRateLimiter({ limit: 1_000_000, intervalMs: 1000, burst: 1000 }, () => clock, async (ms) => {
      clock += ms;
    });
  const client = new SphereClient({
    baseUrl: 'http://sphere.test/',
    apiKey: KEY,
    fetch: fetchImpl,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0,
    backoff: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100 },
    rateLimiters: { read: fast(), write: fast() },
    onCall: (record) => void records.push(record),
  });
  return { client, calls, sleeps, records };
}

function resp(status: number, body: unknown, headers: Record<string, string> = {}, path = '/tax_api/calculate_tax'): UpstreamErrorResponse {
  const h = new Headers(headers);
  const ra = h.get('retry-after');
  return { status, method: 'POST', path, headers: h, body, ...(ra ? { retryAfterMs: Number(ra) * 1000 } : {}) };
}

const calcInput = {
  currency: 'USD',
  customerAddress: { line1: '1 Main', city: 'Charleston', state: 'SC', postalCode: '29401', country: 'US' },
  lineItems: [{ id: 'line_1', amount: 10000, productId: 'p1' }, { id: 'line_2', amount: 500, productId: 'p2' }],
};

describe('mapSphereError', () => {
  it.each([
    ['customer_tax_location_invalid', /address/],
    ['invalid_product_tax_code', /product tax code/],
    ['validation_errors', /Correct the fields/],
  ])('maps calculate_tax 400 %s to a user error with the same code and a fix', (code, fix) => {
    const err = mapSphereError(resp(400, { type: 'api_error', code, message: 'bad thing' }));
    expect(err).toBeInstanceOf(UserActionRequiredError);
    expect(err.code).toBe(code);
    expect(err.kind).toBe('user');
    expect(err.fix).toMatch(fix);
    expect(err.upstream).toMatchObject({ service: 'sphere', status: 400, upstreamCode: code, body: { code } });
  });

  it('names what Sphere refused: a calculation, or the v1 call that got the same code', () => {
    const body = { type: 'api_error', code: 'customer_tax_location_invalid', message: 'Address could not be located' };
    expect(mapSphereError(resp(400, body)).message).toBe('Sphere could not calculate tax: Address could not be located');
    expect(mapSphereError(resp(400, body, {}, '/v1/customers')).message).toBe('Sphere could not accept POST /v1/customers: Address could not be located');
  });

  it('maps v1 400 field errors to validation_errors naming the fields', () => {
    const err = mapSphereError(resp(400, { customer_id: ["No customer with external_id 'cus_999'."] }, {}, '/v1/transactions'));
    expect(err).toBeInstanceOf(UserActionRequiredError);
    expect(err.code).toBe('validation_errors');
    expect(err.message).toContain("customer_id: No customer with external_id 'cus_999'.");
    expect(err.fix).toContain('customer_id');
  });

  it('maps 401 / unauthorized_access and 403 to sphere_credentials_rejected', () => {
    const a = mapSphereError(resp(401, { type: 'api_error', code: 'unauthorized_access', message: 'Invalid API key.' }));
    const b = mapSphereError(resp(401, { detail: 'Invalid API key.' }, {}, '/v1/customers/x'));
    const c = mapSphereError(resp(403, { detail: 'Key not enabled for the Transaction API.' }, {}, '/v1/customers/x'));
    for (const e of [a, b, c]) {
      expect(e).toBeInstanceOf(UserActionRequiredError);
      expect(e.code).toBe('sphere_credentials_rejected');
      expect(e.message).toMatch(/Sphere/);
    }
    expect(c.fix).toMatch(/Transaction API/);
  });

  it('maps 404 to SphereNotFoundError', () => {
    const e = mapSphereError(resp(404, { detail: 'Not found.' }, {}, '/v1/transactions/x/cancel'));
    expect(e).toBeInstanceOf(SphereNotFoundError);
    expect(e.code).toBe('sphere_not_found');
  });

  it('honours Retry-After on 429, else the body retry_after_seconds, for both body shapes', () => {
    const v1Body = { error: { code: 'rate_limit_exceeded', message: 'slow down', retryable: true, retry_after_seconds: 3, request_id: 'req_1' } };
    const fromHeader = mapSphereError(resp(429, v1Body, { 'Retry-After': '2' }, '/v1/customers'));
    expect(fromHeader).toBeInstanceOf(SphereRateLimitedError);
    expect(fromHeader.retryAfterMs).toBe(2000);
    expect(fromHeader.retryable).toBe(true);
    const fromBody = mapSphereError(resp(429, v1Body, {}, '/v1/customers'));
    expect(fromBody.retryAfterMs).toBe(3000);
    expect(fromBody.upstream).toMatchObject({ upstreamCode: 'rate_limit_exceeded', requestId: 'req_1' });
    const calc = mapSphereError(resp(429, { type: 'api_error', code: 'too_many_requests', message: 'Too many' }));
    expect(calc).toBeInstanceOf(SphereRateLimitedError);
    expect(calc.retryAfterMs).toBeUndefined();
    expect(calc.upstream?.upstreamCode).toBe('too_many_requests');
  });

  it('maps 5xx to retryable and unknown 4xx to a bug', () => {
    const e = mapSphereError(resp(500, { type: 'api_error', code: 'internal_server_error', message: 'oops' }));
    expect(e).toBeInstanceOf(UpstreamUnavailableError);
    expect(e.retryable).toBe(true);
    const b = mapSphereError(resp(405, { detail: 'Method "PUT" not allowed.' }));
    expect(b).toBeInstanceOf(ConnectorBugError);
  });

  it('never carries the API key, even if Sphere echoes it', () => {
    const e = mapSphereError(resp(400, { type: 'api_error', code: 'validation_errors', message: `bad key ${KEY}` }), KEY);
    expect(JSON.stringify(e.toJSON())).not.toContain(KEY);
    expect(e.message).not.toContain(KEY);
  });
});

describe('SphereClient', () => {
  it('records the request id of each call for the audit log: X-Request-Id, else the 429 body', async () => {
    const customer = { external_id: 'c1', name: 'Acme' };
    const { client, records } = setup([
      { status: 429, body: { error: { code: 'rate_limit_exceeded', message: 'slow', retryable: true, retry_after_seconds: 1, request_id: 'req_in_body' } } },
      { status: 200, body: customer, headers: { 'X-Request-Id': 'req_in_header' } },
    ]);
    await client.getCustomer('c1');
    expect(records.map((r) => [r.status, r.requestId])).toEqual([
      [429, 'req_in_body'],
      [200, 'req_in_header'],
    ]);
    expect(JSON.stringify(records)).not.toContain(KEY);
  });

  it('sends X-API-KEY and the encoded request, and returns the normalised calculation', async () => {
    const { client, calls } = setup([{ status: 200, body: wrapped }]);
    const result = await client.calculateTax(calcInput);
    expect(calls[0]!.url).toBe('http://sphere.test/tax_api/calculate_tax');
    expect((calls[0]!.init.headers as Record<string, string>)['X-API-KEY']).toBe(KEY);
    expect(JSON.parse(String(calls[0]!.init.body))).toMatchObject({ currency: 'usd', line_items: [{ id: 'line_1', amount: 10000, product_id: 'p1' }, { id: 'line_2' }] });
    expect(result.calculationId).toBe('cfd1e35a-1b2c-4d5e-8f90-1234567890ab');
    expect(result.lines[0]!.taxAmounts.reduce((s, t) => s + t.amount, 0)).toBe(700);
  });

  it('rejects a response whose lines do not match the request', async () => {
    const { client } = setup([{ status: 200, body: { lines: [{ id: 'other', tax_amounts: [] }] } }]);
    await expect(client.calculateTax(calcInput)).rejects.toMatchObject({ code: 'upstream_malformed_response', kind: 'bug' });
  });

  it('gives a typed error for a junk body', async () => {
    const { client } = setup([{ status: 200, body: '<html>gateway</html>' }]);
    await expect(client.calculateTax(calcInput)).rejects.toMatchObject({ code: 'upstream_malformed_response' });
  });

  it('retries a 429 after the Retry-After delay, then succeeds', async () => {
    const { client, sleeps, calls } = setup([
      { status: 429, body: { error: { code: 'rate_limit_exceeded', message: 'x', retryable: true, retry_after_seconds: 1 } }, headers: { 'Retry-After': '2' } },
      { status: 200, body: { external_id: 'cus_1', name: 'A' } },
    ]);
    await expect(client.upsertCustomer({ externalId: 'cus_1', name: 'A' })).resolves.toMatchObject({ externalId: 'cus_1', name: 'A' });
    expect(calls).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(2000);
  });

  it('does not retry user errors', async () => {
    const { client, calls } = setup([{ status: 400, body: { type: 'api_error', code: 'invalid_product_tax_code', message: "Product 'p1' has no product tax code." } }]);
    await expect(client.calculateTax(calcInput)).rejects.toMatchObject({ code: 'invalid_product_tax_code', kind: 'user' });
    expect(calls).toHaveLength(1);
  });

  it('returns null for a 404 on get, and verifyKey treats 404 as a working key', async () => {
    const { client, calls } = setup([{ status: 404, body: { detail: 'Not found.' } }, { status: 404, body: { detail: 'Not found.' } }]);
    await expect(client.getCustomer('nope')).resolves.toBeNull();
    await expect(client.verifyKey()).resolves.toEqual({ ok: true });
    expect(calls[1]!.url).toBe(`http://sphere.test/v1/customers/${KEY_CHECK_CUSTOMER_ID}`);
    expect(calls[1]!.init.method).toBe('GET');
  });

  it('verifyKey throws sphere_credentials_rejected on 401 and 403', async () => {
    const { client } = setup([{ status: 401, body: { detail: 'Invalid API key.' } }, { status: 403, body: { detail: 'Forbidden.' } }]);
    await expect(client.verifyKey()).rejects.toMatchObject({ code: 'sphere_credentials_rejected' });
    await expect(client.verifyKey()).rejects.toMatchObject({ code: 'sphere_credentials_rejected' });
  });

  it('cancelTransaction of an unknown id throws SphereNotFoundError', async () => {
    const { client, calls } = setup([{ status: 404, body: { detail: 'Not found.' } }]);
    const err = await client.cancelTransaction('inv_x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SphereNotFoundError);
    expect(calls[0]!.url).toBe('http://sphere.test/v1/transactions/inv_x/cancel');
  });

  it('reads the cancel result by GET, whatever shape the cancel answer has', async () => {
    const cancelled = { external_id: 'inv_1', type: 'debit', status: 'cancelled', currency: 'usd', line_items: [] };
    const { client, calls } = setup([{ status: 200, body: { job_id: 12345, status: 'cancelled' } }, { status: 200, body: cancelled }]);
    await expect(client.cancelTransaction('inv_1')).resolves.toMatchObject({ externalId: 'inv_1', status: 'cancelled' });
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual(['POST http://sphere.test/v1/transactions/inv_1/cancel', 'GET http://sphere.test/v1/transactions/inv_1']);
  });

  it('fails a cancel Sphere answered 2xx to but did not apply, naming the status', async () => {
    const { client } = setup([{ status: 202 }, { status: 200, body: { external_id: 'inv_1', type: 'debit', status: 'finalized', currency: 'usd' } }]);
    const err = (await client.cancelTransaction('inv_1').catch((e: unknown) => e)) as ConnectorError;
    expect(err).toMatchObject({ code: 'sphere_field_not_accepted', kind: 'user' });
    expect(err.message).toContain('status: sent "cancelled", Sphere returned "finalized"');
  });

  it('accepts a tolerant echo: extra fields, numeric ids, a boolean exemption only where nothing was sent', async () => {
    const { client } = setup([{ status: 200, body: { id: 991, external_id: 'cus_1', name: 'A', tax_exempt: false, tax_ids: [{ type: 'eu_vat', value: 'DE1', verified: true }], org: { id: 7 } } }]);
    const customer = await client.upsertCustomer({ externalId: 'cus_1', name: 'A', taxIds: [{ type: 'eu_vat', value: 'DE1' }] });
    expect(customer).toMatchObject({ externalId: 'cus_1', rawExemptionStatus: 'false', taxIds: [{ type: 'eu_vat', value: 'DE1' }] });
    expect(customer.exemptionStatus).toBeUndefined();
  });

  it('names the field Sphere dropped or changed after a write (sphere_field_not_accepted), instead of upstream_malformed_response', async () => {
    const { client } = setup([
      { status: 200, body: { external_id: 'cus_1', name: 'A', tax_exempt: true } },
      { status: 200, body: { external_id: 'prod_1', name: 'P' } },
    ]);
    const customer = (await client.upsertCustomer({ externalId: 'cus_1', name: 'A', exemptionStatus: 'reverse_charge' }).catch((e: unknown) => e)) as ConnectorError;
    expect(customer).toMatchObject({ code: 'sphere_field_not_accepted', kind: 'user' });
    expect(customer.message).toContain('tax_exempt: sent "reverse", Sphere returned true');
    const product = (await client.upsertProduct({ externalId: 'prod_1', name: 'P', taxCode: 'ptc_saas' }).catch((e: unknown) => e)) as ConnectorError;
    expect(product.message).toContain('tax_code: sent "ptc_saas", Sphere returned (missing)');
  });

  it("checks a transaction's filing fields in the echo, not its informational ones", async () => {
    const sent = {
      externalId: 'inv_1',
      type: 'debit' as const,
      status: 'finalized' as const,
      customerId: 'cus_1',
      currency: 'USD',
      transactionDate: '2026-11-30',
      customerAddress: { line1: '1 Main', country: 'US' },
      lineItems: [{ id: 'l1', productId: 'p1', amount: '100.00', quantity: '1', description: 'Plan' }],
    };
    const echo = { external_id: 'inv_1', type: 'debit', status: 'finalized', customer_id: 'cus_1', currency: 'usd', line_items: [{ product_id: 'p1', amount: '100.00' }] };
    const { client } = setup([
      { status: 200, body: { ...echo, transaction_date: '2026-11-30' } },
      { status: 200, body: echo },
    ]);
    await expect(client.createTransaction(sent)).resolves.toMatchObject({ externalId: 'inv_1', transactionDate: '2026-11-30' });
    await expect(client.createTransaction(sent)).rejects.toMatchObject({ code: 'sphere_field_not_accepted', message: expect.stringContaining('transaction_date: sent "2026-11-30", Sphere returned (missing)') });
  });

  it("files a 400 over a line quantity (sent as Sequence has it) as sphere_field_not_accepted naming the value sent, not as the merchant's validation_errors", async () => {
    const line = { id: 'l1', productId: 'p1', amount: '100.00', quantity: '1.123456789012' };
    const sent = { externalId: 'inv_1', type: 'debit' as const, status: 'finalized' as const, customerId: 'cus_1', currency: 'USD', lineItems: [{ ...line, quantity: '2' }, line] };
    const tooLong = ['Ensure that there are no more than 6 decimal places.'];
    const { client } = setup([
      { status: 400, body: { 'line_items.1.quantity': tooLong } },
      { status: 400, body: { line_items: [{}, { quantity: tooLong }] } }, // DRF's nested default
      { status: 400, body: { 'line_items.1.product_id': ["No product with external_id 'p1'."] } },
    ]);
    for (let i = 0; i < 2; i++) {
      const error = (await client.createTransaction(sent).catch((e: unknown) => e)) as ConnectorError;
      expect(error).toMatchObject({ code: 'sphere_field_not_accepted', kind: 'user', upstream: { status: 400 } });
      expect(error.message).toContain('line_items.1.quantity: sent "1.123456789012", Sphere answered "Ensure that there are no more than 6 decimal places."');
      expect(error.message).toContain('not over data the merchant can correct');
      expect(error.message).toContain('sphere-connector verify');
      expect(error.fix).toContain('npx sphere-connector verify');
    }
    // A field the merchant's data decides stays the merchant's error.
    await expect(client.createTransaction(sent)).rejects.toMatchObject({ code: 'validation_errors' });
  });

  it('fingerprints the key (sha256) and never exposes it', () => {
    const { client } = setup([]);
    expect(client.keyFingerprint).toBe(sphereKeyFingerprint(KEY));
    expect(client.keyFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(client)).not.toContain(KEY);
  });

  it('refuses to send a request it cannot encode', async () => {
    const { client, calls } = setup([]);
    await expect(client.calculateTax({ ...calcInput, lineItems: [] })).rejects.toBeInstanceOf(ConnectorError);
    expect(calls).toHaveLength(0);
  });
});
