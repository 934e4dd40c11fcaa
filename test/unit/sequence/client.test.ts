import { ConnectorBugError, ConnectorError, UpstreamRateLimitedError, UpstreamUnavailableError, UserActionRequiredError } from '../../../shared/domain/errors';
import {
  SEQUENCE_PRODUCTION_BASE_URL,
  SEQUENCE_RATE_LIMIT_PER_MINUTE,
  SEQUENCE_SANDBOX_BASE_URL,
  SequenceClient,
  SequenceNotFoundError,
  SequenceRejectedRequestError,
  type Customer,
  type LineItem,
  CustomerRequestSchema,
  LineItemRequestSchema,
  customerToRequest,
  lineItemToRequest,
  sequenceBaseUrlFor,
} from '../../../shared/sequence';
import { z } from 'zod';
import { type UpstreamCallRecord } from '../../../shared/http/upstream-http';

type Reply = { status: number; body?: unknown; raw?: string; headers?: Record<string, string> } | Error;

const CLIENT_ID = 'client-abc';
const CLIENT_SECRET = 'super-secret-value-123';
const BASIC = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');

function fakeFetch(replies: Reply[]) {
  const calls: { url: URL; method: string; headers: Record<string, string>; body?: string }[] = [];
  const impl = (async (url: string | URL | Request, init?: RequestInit) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((init?.headers ?? {}) as Record<string, string>)) headers[k.toLowerCase()] = v;
    calls.push({ url: new URL(String(url)), method: init?.method ?? 'GET', headers, body: init?.body === undefined ? undefined : String(init.body) });
    const next = replies.shift();
    if (!next) throw new Error('no more replies');
    if (next instanceof Error) throw next;
    const text = next.raw ?? (next.body === undefined ? '' : JSON.stringify(next.body));
    return new Response(text, { status: next.status, headers: { 'content-type': 'application/json', ...next.headers } });
  }) as typeof fetch;
  return { impl, calls };
}

function makeClient(replies: Reply[]) {
  const f = fakeFetch(replies);
  const sleeps: number[] = [];
  const client = new SequenceClient({
    baseUrl: 'https://sequence.test/api/',
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    // A huge limit so the shared token bucket never paces these tests.
    rateLimitPerMinute: 60_000_000,
    fetch: f.impl,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
  });
  return { client, calls: f.calls, sleeps };
}

const address = { line1: '1 Main St', town: 'Austin', state: 'TX', postcode: '78701', country: 'US' };

function customer(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    createdAt: '2024-08-01T00:00:00Z',
    organizations: [],
    legalName: `Customer ${id}`,
    address,
    integrationIds: [],
    taxStatus: 'TAXED',
    customProperties: {},
    contacts: [{ id: 'ct1', name: 'Ann', email: 'ann@example.com', billingPreference: 'PRIMARY', createdAt: '2024-08-01T00:00:00Z', updatedAt: '2024-08-01T00:00:00Z' }],
    status: 'ACTIVE',
    ...extra,
  };
}

function line(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    invoiceId: 'inv1',
    title: 'Seats',
    quantity: '2',
    rate: '50.00',
    taxRate: '0.0',
    index: 0,
    netTotal: '100.00',
    totalTax: '0.00',
    grossTotal: '100.00',
    rateDisplay: 'ABSOLUTE',
    externalIds: [],
    ...extra,
  };
}

function page(items: unknown[], after?: string, total = 0) {
  return { status: 200, body: { items, pagination: { ...(after ? { after } : {}), totalResultSize: total } } };
}

describe('SequenceClient pagination', () => {
  it('follows pagination.after with limit=100 across pages and stops when after is absent', async () => {
    const { client, calls } = makeClient([
      page([customer('c1'), customer('c2')], 'cur-1', 5),
      page([customer('c3'), customer('c4')], 'cur-2', 5),
      page([customer('c5')], undefined, 5),
    ]);
    const ids: string[] = [];
    for await (const c of client.listCustomers({ includeArchived: true })) ids.push(c.id);
    expect(ids).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    expect(calls).toHaveLength(3);
    expect(calls.map((c) => c.url.pathname)).toEqual(['/api/customers', '/api/customers', '/api/customers']);
    expect(calls.map((c) => c.url.searchParams.get('after'))).toEqual([null, 'cur-1', 'cur-2']);
    expect(calls.every((c) => c.url.searchParams.get('limit') === '100')).toBe(true);
    expect(calls.every((c) => c.url.searchParams.get('includeArchived') === 'true')).toBe(true);
  });

  it('pages() exposes a cursor to save after each page and resumes from a saved cursor', async () => {
    const first = makeClient([page([customer('c1')], 'cur-1'), page([customer('c2')], 'cur-2'), page([customer('c3')])]);
    const saved: (string | undefined)[] = [];
    for await (const p of first.client.customerPages()) {
      saved.push(p.nextCursor);
      if (saved.length === 2) break; // the backfill stops (e.g. Lambda timeout) after page 2
    }
    expect(saved).toEqual(['cur-1', 'cur-2']);
    expect(first.calls).toHaveLength(2);

    const resumed = makeClient([page([customer('c3')])]);
    const rest: string[] = [];
    for await (const p of resumed.client.customerPages({}, { after: saved[1] })) {
      rest.push(...p.items.map((c) => c.id));
      expect(p.nextCursor).toBeUndefined();
    }
    expect(rest).toEqual(['c3']);
    expect(resumed.calls[0].url.searchParams.get('after')).toBe('cur-2');
  });

  it('listLineItems returns every page of an invoice', async () => {
    const { client, calls } = makeClient([page([line('l1')], 'n1'), page([line('l2', { index: 1 })])]);
    const lines = await client.listLineItems('inv1');
    expect(lines.map((l) => l.id)).toEqual(['l1', 'l2']);
    expect(calls[1].url.pathname).toBe('/api/invoices/inv1/line-items');
    expect(calls[1].url.searchParams.get('after')).toBe('n1');
  });

  it('refuses to loop forever on a repeating cursor', async () => {
    const { client } = makeClient([page([customer('c1')], 'same'), page([customer('c2')], 'same')]);
    await expect(async () => {
      for await (const _ of client.listCustomers()) void _;
    }).rejects.toMatchObject({ code: 'upstream_pagination_loop', kind: 'bug' });
  });

  it('passes list filters for invoices (invoiceStatus, customerId)', async () => {
    const { client, calls } = makeClient([page([])]);
    for await (const _ of client.listInvoices({ status: 'DRAFT', customerId: 'cust-9' })) void _;
    expect(calls[0].url.searchParams.get('invoiceStatus')).toBe('DRAFT');
    expect(calls[0].url.searchParams.get('customerId')).toBe('cust-9');
  });
});

describe('SequenceClient headers', () => {
  it('sends Basic auth and Sequence-Version: 2024-07-30 on every call', async () => {
    const policy = { id: 'p1', createdAt: 'x', sequenceAccountId: 'a', name: 'n', recipients: ['https://x.test/h'], channel: 'WEBHOOK', webhookSecret: 'whsec_1' };
    const { client, calls } = makeClient([
      { status: 200, body: customer('c1') },
      { status: 200, body: customer('c1') },
      { status: 201, body: policy },
      { status: 200, body: policy },
      page([]),
    ]);
    const c = (await client.getCustomer('c1')) as Customer;
    await client.updateCustomer('c1', customerToRequest(c));
    await client.createNotificationPolicy({ name: 'n', recipients: ['https://x.test/h'], channel: 'WEBHOOK' });
    await client.deleteNotificationPolicy('p1');
    await client.listSequenceAccounts();
    expect(calls.map((x) => x.method)).toEqual(['GET', 'PUT', 'POST', 'DELETE', 'GET']);
    for (const call of calls) {
      expect(call.headers.authorization).toBe(`Basic ${BASIC}`);
      expect(call.headers['sequence-version']).toBe('2024-07-30');
      expect(call.headers.accept).toBe('application/json');
    }
    expect(calls[1].headers['content-type']).toBe('application/json');
  });

  it('records Sequence\'s X-Request-Id of each call for the audit log', async () => {
    const records: UpstreamCallRecord[] = [];
    const f = fakeFetch([{ status: 200, body: customer('c1'), headers: { 'X-Request-Id': 'seq-req-42' } }]);
    const client = new SequenceClient({ baseUrl: 'https://sequence.test/api', clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, rateLimitPerMinute: 60_000_000, fetch: f.impl, onCall: (r) => void records.push(r) });
    await client.getCustomer('c1');
    expect(records).toEqual([expect.objectContaining({ service: 'sequence', method: 'GET', path: '/customers/c1', status: 200, requestId: 'seq-req-42' })]);
  });

  it('encodes ids into the path', async () => {
    const { client, calls } = makeClient([{ status: 200, body: customer('a/b') }]);
    await client.getCustomer('a/b');
    expect(calls[0].url.pathname).toBe('/api/customers/a%2Fb');
  });
});

describe('SequenceClient error mapping', () => {
  async function failWith(reply: Reply): Promise<ConnectorError> {
    const { client } = makeClient([reply, reply, reply, reply]);
    try {
      await client.getCustomer('c1');
    } catch (error) {
      expect(error).toBeInstanceOf(ConnectorError);
      return error as ConnectorError;
    }
    throw new Error('expected a failure');
  }

  it.each([401, 403])('%i → user error sequence_credentials_rejected with a fix, naming Sequence, never our secret', async (status) => {
    const err = await failWith({ status, body: { error: { type: 'unauthorized', message: 'Invalid API credentials' } } });
    expect(err).toBeInstanceOf(UserActionRequiredError);
    expect(err.kind).toBe('user');
    expect(err.code).toBe('sequence_credentials_rejected');
    expect(err.message).toMatch(/Sequence/);
    expect(err.fix).toMatch(/client id\/secret and the environment/);
    expect(err.upstream).toMatchObject({ service: 'sequence', status, body: { error: { type: 'unauthorized' } } });
    const serialised = JSON.stringify(err.toJSON()) + err.message + String(err.stack);
    expect(serialised).not.toContain(CLIENT_SECRET);
    expect(serialised).not.toContain(BASIC);
  });

  it('404 → SequenceNotFoundError (user, sequence_not_found)', async () => {
    const err = await failWith({ status: 404, body: { error: { type: 'notFound', message: 'Customer with id c1 not found' } } });
    expect(err).toBeInstanceOf(SequenceNotFoundError);
    expect(err.kind).toBe('user');
    expect(err.code).toBe('sequence_not_found');
    expect(err.upstream?.path).toBe('/customers/c1');
  });

  it('400 ApiError → sequence_rejected_request carrying Sequence’s body and messages', async () => {
    const body = {
      error: {
        type: 'validationError',
        message: 'Request data validation failed',
        errors: [{ code: 'validationError', message: 'legalName should not be blank', key: 'legalName', errors: [] }],
      },
    };
    const err = await failWith({ status: 400, body });
    expect(err).toBeInstanceOf(SequenceRejectedRequestError);
    expect(err.code).toBe('sequence_rejected_request');
    expect(err.kind).toBe('user');
    expect(err.upstream?.body).toEqual(body);
    expect(err.upstream?.upstreamCode).toBe('validationError');
    expect((err as SequenceRejectedRequestError).details).toEqual(['Request data validation failed', 'legalName: legalName should not be blank']);
    expect(err.message).toContain('legalName should not be blank');
  });

  it('400 DatabaseErrors shape is understood too', async () => {
    const body = { errors: [{ key: '', error: 'Invalid provided product ids: [x]' }] };
    const err = await failWith({ status: 400, body });
    expect(err.code).toBe('sequence_rejected_request');
    expect(err.message).toContain('Invalid provided product ids');
    expect(err.upstream?.body).toEqual(body);
  });

  it.each([409, 422])('%i → sequence_rejected_request', async (status) => {
    const err = await failWith({ status, body: { message: 'conflict' } });
    expect(err.code).toBe('sequence_rejected_request');
    expect(err.upstream?.status).toBe(status);
  });

  it('400 UnrecognisedApiVersion is our bug, not the merchant’s', async () => {
    const err = await failWith({ status: 400, body: { error: { type: 'UnrecognisedApiVersion', message: 'nope' } } });
    expect(err).toBeInstanceOf(ConnectorBugError);
    expect(err.code).toBe('sequence_api_version_rejected');
  });

  it('429 (per-minute limit, no Retry-After) → retryable rate_limited at once, left to the queue backoff', async () => {
    const reply = { status: 429, body: { error: { type: 'tooManyRequests', message: 'slow down' } } };
    const { client, calls } = makeClient([reply, reply, reply, reply]);
    const err = await client.getCustomer('c1').catch((e: unknown) => e as ConnectorError);
    expect(err).toBeInstanceOf(UpstreamRateLimitedError);
    expect(err.retryable).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it.each([500, 502, 503])('%i → retryable upstream_server_error', async (status) => {
    const err = await failWith({ status, raw: 'Bad gateway' });
    expect(err).toBeInstanceOf(UpstreamUnavailableError);
    expect(err.code).toBe('upstream_server_error');
    expect(err.upstream?.body).toBe('Bad gateway');
  });

  it('retries 5xx, then succeeds', async () => {
    const { client, calls, sleeps } = makeClient([{ status: 503 }, { status: 502, raw: 'oops' }, { status: 200, body: customer('c1') }]);
    const c = await client.getCustomer('c1');
    expect(c.id).toBe('c1');
    expect(calls).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
  });

  it('retries a network failure, then succeeds', async () => {
    const { client, calls } = makeClient([new TypeError('fetch failed'), { status: 200, body: customer('c1') }]);
    await expect(client.getCustomer('c1')).resolves.toMatchObject({ id: 'c1' });
    expect(calls).toHaveLength(2);
  });

  it('does not retry 4xx', async () => {
    const { client, calls } = makeClient([{ status: 400, body: { error: { type: 'validationError', message: 'bad' } } }, { status: 200, body: customer('c1') }]);
    await expect(client.getCustomer('c1')).rejects.toMatchObject({ code: 'sequence_rejected_request' });
    expect(calls).toHaveLength(1);
  });

  it('does not blindly retry finalize (non-idempotent)', async () => {
    const { client, calls } = makeClient([{ status: 503 }, { status: 200, body: {} }]);
    await expect(client.finalizeInvoice('inv1')).rejects.toMatchObject({ code: 'upstream_server_error' });
    expect(calls).toHaveLength(1);
    expect(calls[0].url.pathname).toBe('/api/invoices/inv1/finalize');
  });

  it('a body that is not JSON → ConnectorBugError upstream_malformed_response, not a crash', async () => {
    const { client } = makeClient([{ status: 200, raw: '<html>hello' }]);
    const err = await client.getCustomer('c1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorBugError);
    expect(err).toMatchObject({ code: 'upstream_malformed_response', kind: 'bug' });
  });

  it('JSON of the wrong shape (money as a number) → upstream_malformed_response naming the field', async () => {
    const { client } = makeClient([page([line('l1', { totalTax: 8.25 })])]);
    const err = (await client.listLineItems('inv1').catch((e: unknown) => e)) as ConnectorBugError;
    expect(err).toBeInstanceOf(ConnectorBugError);
    expect(err.code).toBe('upstream_malformed_response');
    expect(err.message).toContain('items.0.totalTax');
  });

  it('tolerates unknown extra fields and null optionals', async () => {
    const { client } = makeClient([{ status: 200, body: customer('c1', { brandNewField: { x: 1 }, url: null, label: null }) }]);
    const c = await client.getCustomer('c1');
    expect((c as Record<string, unknown>).brandNewField).toEqual({ x: 1 });
  });
});

describe('SequenceClient misc', () => {
  it('listTaxCategories returns [] when the legacy endpoint is gone (404)', async () => {
    const { client } = makeClient([{ status: 404, body: { error: { type: 'notFound', message: 'no route' } } }]);
    await expect(client.listTaxCategories()).resolves.toEqual([]);
  });

  it('listTaxCategories reads the paginated legacy list', async () => {
    const { client } = makeClient([page([{ id: 't1', name: 'SaaS' }], 'n'), page([{ id: 't2', name: 'Standard' }])]);
    await expect(client.listTaxCategories()).resolves.toEqual([
      { id: 't1', name: 'SaaS' },
      { id: 't2', name: 'Standard' },
    ]);
  });

  it('listTaxCategories still propagates credential errors', async () => {
    const { client } = makeClient([{ status: 401, body: {} }]);
    await expect(client.listTaxCategories()).rejects.toMatchObject({ code: 'sequence_credentials_rejected' });
  });

  it('refuses to send an invalid body (our bug) without calling Sequence', async () => {
    const { client, calls } = makeClient([]);
    const bad = { title: 'x', quantity: '1', rate: '1', taxRate: 0.2, externalIds: [] } as unknown as z.infer<typeof LineItemRequestSchema>;
    await expect(client.updateLineItem('inv1', 'l1', bad)).rejects.toMatchObject({ code: 'sequence_invalid_request', kind: 'bug' });
    expect(calls).toHaveLength(0);
  });

  it('sequenceBaseUrlFor picks the environment host or an override', () => {
    expect(sequenceBaseUrlFor('sandbox')).toBe(SEQUENCE_SANDBOX_BASE_URL);
    expect(sequenceBaseUrlFor('production')).toBe(SEQUENCE_PRODUCTION_BASE_URL);
    expect(SEQUENCE_SANDBOX_BASE_URL).toBe('https://sandbox.sequencehq.com/api');
    expect(SEQUENCE_PRODUCTION_BASE_URL).toBe('https://eu.sequencehq.com/api');
    expect(sequenceBaseUrlFor('sandbox', 'http://127.0.0.1:3101/api/')).toBe('http://127.0.0.1:3101/api');
  });

  it('customerToRequest builds a valid full-replace body that keeps everything', () => {
    const c = customer('c1', {
      url: 'https://acme.example',
      integrationIds: [{ service: 'Stripe', id: 'cus_1', isPending: false }, { service: 'FutureThing', id: 'z', isPending: false }],
      contacts: [
        { id: 'a', name: 'Ann', email: 'ann@example.com', billingPreference: 'PRIMARY', createdAt: 'x', updatedAt: 'x' },
        { id: 'b', name: 'Old', email: 'old@example.com', billingPreference: 'STANDARD', createdAt: 'x', updatedAt: 'x', archivedAt: 'y' },
      ],
      customProperties: { tier: 'gold' },
    }) as Customer;
    const body = customerToRequest(c);
    expect(CustomerRequestSchema.safeParse(body).success).toBe(true);
    expect(body.integrationIds).toEqual([{ service: 'Stripe', id: 'cus_1' }]);
    expect(body.contacts).toEqual([{ name: 'Ann', email: 'ann@example.com', billingPreference: 'PRIMARY' }]);
    expect(body.customProperties).toEqual({ tier: 'gold' });
    expect(body.address).toEqual(address);
  });

  it('lineItemToRequest rewrites a line with only the changed taxRate', () => {
    const l = line('l1', { groupId: 'g1', priceId: 'p1', externalIds: [{ key: 'Xero', value: '1' }], description: null }) as LineItem;
    const body = lineItemToRequest(l, { taxRate: '0.0825' });
    expect(LineItemRequestSchema.safeParse(body).success).toBe(true);
    expect(body).toEqual({ title: 'Seats', quantity: '2', rate: '50.00', taxRate: '0.0825', groupId: 'g1', priceId: 'p1', rateDisplay: 'ABSOLUTE', externalIds: [{ key: 'Xero', value: '1' }] });
  });
});

describe('SequenceClient per-credential rate limit', () => {
  // Fake timers drive the token buckets' clock and sleeps, so pacing is checked on simulated time.
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** A client whose every call lands in `sent` with the (fake) time it reached "Sequence". */
  function limitedClient(clientId: string, clientSecret: string, sent: number[], rateLimitPerMinute?: number) {
    const fetchImpl = (async () => {
      sent.push(Date.now());
      return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    return new SequenceClient({ baseUrl: 'https://rate-limit.test/api', clientId, clientSecret, fetch: fetchImpl, ...(rateLimitPerMinute !== undefined ? { rateLimitPerMinute } : {}) });
  }
  const call = (c: SequenceClient) => c.request('GET', '/sequence-accounts', z.unknown());
  const run = (c: SequenceClient, n: number) => Array.from({ length: n }, () => call(c));

  it('two clients built with the same credentials share one bucket; other credentials have their own', async () => {
    const a: number[] = [];
    const b: number[] = [];
    const other: number[] = [];
    const first = limitedClient('shared-id', 'shared-secret', a);
    const second = limitedClient('shared-id', 'shared-secret', b);
    const third = limitedClient('shared-id', 'another-secret', other);

    // The default bucket lets one second's worth (1,500 / 60 = 25) out back to back.
    const pending = [...run(first, 25), ...run(second, 1), ...run(third, 25)];
    await jest.advanceTimersByTimeAsync(0);
    expect(a).toHaveLength(25);
    expect(b).toHaveLength(0); // first used up the bucket the two share
    expect(other).toHaveLength(25); // a different secret is a different bucket

    await jest.advanceTimersByTimeAsync(60_000);
    expect(b).toHaveLength(1);
    await Promise.all(pending);
  });

  it('defaults to 1,500 requests per minute: never more in any 60-second window, and close to it', async () => {
    expect(SEQUENCE_RATE_LIMIT_PER_MINUTE).toBe(1500);
    const sent: number[] = [];
    const client = limitedClient('default-rate-id', 'default-rate-secret', sent);
    const pending = run(client, 3200);
    await jest.advanceTimersByTimeAsync(120_000);

    // Sliding 60-second windows over two minutes of demand well above the limit.
    let most = 0;
    for (let start = 0, end = 0; start < sent.length; start++) {
      while (end < sent.length && sent[end]! < sent[start]! + 60_000) end++;
      most = Math.max(most, end - start);
    }
    expect(most).toBeLessThanOrEqual(1500);
    expect(most).toBeGreaterThanOrEqual(1490);
    expect(sent.filter((t) => t < sent[0]! + 60_000).length).toBeGreaterThanOrEqual(1490);

    // An explicit limit is honoured the same way (and is a different bucket from the default).
    const slow: number[] = [];
    const slowClient = limitedClient('default-rate-id', 'default-rate-secret', slow, 1);
    const slowPending = run(slowClient, 5);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(slow.length).toBeGreaterThanOrEqual(1);
    expect(slow.length).toBeLessThanOrEqual(2);

    await jest.advanceTimersByTimeAsync(600_000);
    await Promise.all([...pending, ...slowPending]);
  });
});
