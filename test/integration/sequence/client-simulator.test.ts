/**
 * The Sequence client against the Sequence simulator over real HTTP (free ports, started here).
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectorBugError, UpstreamRateLimitedError } from '../../../shared/domain/errors';
import {
  type CustomerRequest,
  SequenceClient,
  SequenceCredentialsRejectedError,
  SequenceNotFoundError,
  SequenceRejectedRequestError,
  customerToRequest,
  lineItemToRequest,
} from '../../../shared/sequence';
import { verifySignature } from '../../../shared/webhooks/signature';
import { SIM_TAX_CATEGORY_IDS, type SequenceSimulator, startSequenceSimulator } from '../../../local/sequence-sim/server';

const FAST_BACKOFF = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

function clientFor(sim: SequenceSimulator, overrides: Partial<ConstructorParameters<typeof SequenceClient>[0]> = {}) {
  return new SequenceClient({
    baseUrl: sim.apiUrl,
    clientId: sim.clientId,
    clientSecret: sim.clientSecret,
    rateLimitPerMinute: 1_000_000,
    backoff: FAST_BACKOFF,
    ...overrides,
  });
}

const customerBody = (legalName: string, extra: Partial<CustomerRequest> = {}): CustomerRequest => ({
  legalName,
  address: { line1: '1 Congress Ave', town: 'Austin', state: 'TX', postcode: '78701', country: 'US' },
  contacts: [{ name: 'Ann', email: 'ann@example.com', billingPreference: 'PRIMARY' }],
  taxStatus: 'TAXED',
  ...extra,
});

async function simPost(sim: SequenceSimulator, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

interface Received {
  raw: Buffer;
  headers: http.IncomingHttpHeaders;
}

/** A webhook receiver that keeps the exact raw bytes; `failFirst` answers 500 that many times. */
async function startReceiver(failFirst = 0): Promise<{ url: string; received: Received[]; stop: () => Promise<void> }> {
  const received: Received[] = [];
  let failures = failFirst;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failures > 0) {
        failures--;
        res.writeHead(500).end('try later');
        return;
      }
      received.push({ raw: Buffer.concat(chunks), headers: req.headers });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhooks/sequence/conn-1`,
    received,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

describe('Sequence client ↔ simulator', () => {
  let sim: SequenceSimulator;
  let client: SequenceClient;

  beforeAll(async () => {
    sim = await startSequenceSimulator({ port: 0, webhookRetryDelaysMs: [20, 40, 80] });
    client = clientFor(sim);
  });
  afterAll(async () => {
    await sim.stop();
  });
  beforeEach(() => sim.reset());

  it('CRUD: customer, product, invoice with groups and lines, tax write-back, finalize, void', async () => {
    const customer = await client.createCustomer(customerBody('Globex LLC'));
    expect(customer).toMatchObject({ legalName: 'Globex LLC', taxStatus: 'TAXED', status: 'ACTIVE', integrationIds: [] });
    expect(customer.id).toMatch(/^[0-9a-f-]{36}$/);

    // Tag the customer with the Sphere link (PUT is a full replace).
    const tagged = await client.updateCustomer(customer.id, {
      ...customerToRequest(await client.getCustomer(customer.id)),
      integrationIds: [{ service: 'Sphere', id: 'sph_cus_1' }],
    });
    expect(tagged.integrationIds).toEqual([expect.objectContaining({ service: 'Sphere', id: 'sph_cus_1' })]);
    expect(tagged.contacts.map((c) => c.email)).toEqual(['ann@example.com']);

    const product = await client.createProduct({ name: 'Platform', taxCategoryId: SIM_TAX_CATEGORY_IDS.saas });
    expect(await client.getProduct(product.id)).toMatchObject({ name: 'Platform', taxCategoryId: SIM_TAX_CATEGORY_IDS.saas });
    const products: string[] = [];
    for await (const p of client.listProducts()) products.push(p.id);
    expect(products).toEqual([product.id]);

    await client.createTaxRegistration({ taxIdentifier: 'US-EIN-99', customerId: customer.id, country: 'US', state: 'TX' });
    expect(await client.listTaxRegistrationsForCustomer(customer.id)).toEqual([
      expect.objectContaining({ taxIdentifier: 'US-EIN-99', customerId: customer.id, country: 'US', state: 'TX' }),
    ]);

    const invoice = await client.createInvoice({ currency: 'USD', customerId: customer.id });
    expect(invoice).toMatchObject({ status: 'DRAFT', netTotal: '0.00', totalTax: '0.00', grossTotal: '0.00', customerLegalCompanyName: 'Globex LLC', customerTaxId: 'US-EIN-99' });
    expect(invoice.merchantDetails?.address).toMatchObject({ town: 'San Francisco', state: 'CA', country: 'US' });

    const group = await client.createLineItemGroup(invoice.id, { title: 'Platform', taxCategoryId: SIM_TAX_CATEGORY_IDS.saas });
    const l1 = await client.createLineItem(invoice.id, { title: 'Seats', quantity: '3', rate: '10.005', taxRate: '0', groupId: group.id, externalIds: [] });
    const l2 = await client.createLineItem(invoice.id, { title: 'Support', quantity: '1', rate: '99.99', taxRate: '0', externalIds: [] });
    expect(l1).toMatchObject({ netTotal: '30.02', totalTax: '0.00', grossTotal: '30.02', index: 0 });

    // The tax write-back: PUT the full line with a new taxRate; Sequence computes totalTax.
    const updated = await client.updateLineItem(invoice.id, l1.id, lineItemToRequest(l1, { taxRate: '0.0825' }));
    expect(updated).toMatchObject({ id: l1.id, taxRate: '0.0825', netTotal: '30.02', totalTax: '2.48', grossTotal: '32.50', groupId: group.id });
    await client.updateLineItem(invoice.id, l2.id, lineItemToRequest(l2, { taxRate: '0.0625' }));

    const lines = await client.listLineItems(invoice.id);
    expect(lines.map((l) => [l.title, l.totalTax])).toEqual([
      ['Seats', '2.48'],
      ['Support', '6.25'],
    ]);
    const groups = await client.listLineItemGroups(invoice.id);
    expect(groups).toEqual([expect.objectContaining({ id: group.id, netTotal: '30.02', totalTax: '2.48', taxCategory: { id: SIM_TAX_CATEGORY_IDS.saas, name: 'SaaS' } })]);
    expect(await client.getInvoice(invoice.id)).toMatchObject({ netTotal: '130.01', totalTax: '8.73', grossTotal: '138.74' });

    const drafts: string[] = [];
    for await (const i of client.listInvoices({ status: 'DRAFT', customerId: customer.id })) drafts.push(i.id);
    expect(drafts).toEqual([invoice.id]);

    const final = await client.finalizeInvoice(invoice.id);
    expect(final.status).toBe('FINAL');
    expect(final.invoiceNumber).toMatch(/^SEQ\d+$/);
    const locked = await client.updateLineItem(invoice.id, l1.id, lineItemToRequest(l1, { taxRate: '0.1' })).catch((e: unknown) => e);
    expect(locked).toBeInstanceOf(SequenceRejectedRequestError);
    await expect(client.finalizeInvoice(invoice.id)).rejects.toBeInstanceOf(SequenceRejectedRequestError);
    expect((await client.voidInvoice(invoice.id)).status).toBe('VOIDED');

    const cats = await client.listTaxCategories();
    expect(cats.map((c) => c.name)).toEqual(['Standard', 'SaaS', 'Digital Services']);
    const [account] = await client.listSequenceAccounts();
    expect(await client.getSequenceAccount(account.id)).toMatchObject({ id: account.id, country: 'US' });
  });

  it('credit notes: create, lines, issue; the client reads them', async () => {
    const { json } = await simPost(sim, '/_sim/seed', {
      customers: [customerBody('Initech')],
      invoices: [{ currency: 'USD', customerId: '$customers[0]', status: 'SENT', lineItems: [{ title: 'Plan', quantity: '1', rate: '100.00', taxRate: '0.1' }] }],
    });
    const invoiceId = (json.invoices as { id: string }[])[0].id;
    const customerId = (json.customers as string[])[0];
    const auth = { authorization: basic(sim.clientId, sim.clientSecret), 'sequence-version': '2024-07-30', 'content-type': 'application/json' };
    const cnRes = await fetch(`${sim.apiUrl}/credit-notes`, { method: 'POST', headers: auth, body: JSON.stringify({ currency: 'USD', customerId, invoiceId }) });
    expect(cnRes.status).toBe(201);
    const cn = (await cnRes.json()) as { id: string };
    const lineRes = await fetch(`${sim.apiUrl}/credit-notes/${cn.id}/line-items`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ creditNoteId: cn.id, title: 'Refund', quantity: '1', rate: '40.00', taxRate: '0.1', externalIds: [] }),
    });
    expect(lineRes.status).toBe(201);
    expect((await fetch(`${sim.apiUrl}/credit-notes/${cn.id}/finalize-and-send`, { method: 'POST', headers: auth })).status).toBe(200);

    const note = await client.getCreditNote(cn.id);
    expect(note).toMatchObject({ status: 'SENT', invoiceId, netTotal: '40.00', totalTax: '4.00', grossTotal: '44.00' });
    expect(note.creditNoteNumber).toMatch(/^SCN\d+$/);
    expect(await client.listCreditNoteLineItems(cn.id)).toEqual([expect.objectContaining({ title: 'Refund', totalTax: '4.00' })]);
    expect((await client.getInvoice(invoiceId)).creditNoteIds).toEqual([cn.id]);
  });

  it('404 → SequenceNotFoundError', async () => {
    const err = await client.getCustomer('00000000-0000-0000-0000-000000000000').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SequenceNotFoundError);
    expect(err).toMatchObject({ kind: 'user', code: 'sequence_not_found', upstream: { service: 'sequence', status: 404 } });
  });

  it('validation errors come back in Sequence’s ApiError shape and map to sequence_rejected_request', async () => {
    const res = await fetch(`${sim.apiUrl}/customers`, {
      method: 'POST',
      headers: { authorization: basic(sim.clientId, sim.clientSecret), 'sequence-version': '2024-07-30', 'content-type': 'application/json' },
      body: JSON.stringify({ address: { line1: 'x', town: 'y', postcode: 'z', country: 'US' }, contacts: [], taxStatus: 'TAXED' }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; message: string; errors: { key: string; code: string; errors: unknown[] }[] } };
    expect(body.error.type).toBe('validationError');
    expect(body.error.message).toBe('Request data validation failed');
    expect(body.error.errors.map((e) => e.key).sort()).toEqual(['address.state', 'legalName']);
    expect(body.error.errors[0]).toMatchObject({ code: 'validationError', errors: [] });

    const err = await client.createProduct({ name: 'X', taxCategoryId: 'not-a-category' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SequenceRejectedRequestError);
    expect((err as SequenceRejectedRequestError).message).toContain('Tax category invalid');
  });

  it('paginates over more than 100 items and resumes from a saved cursor', async () => {
    const customers = Array.from({ length: 230 }, (_, i) => customerBody(`Bulk ${String(i).padStart(3, '0')}`));
    const seeded = await simPost(sim, '/_sim/seed', { customers });
    expect(seeded.status).toBe(201);
    expect(seeded.json.customers).toHaveLength(230);
    sim.requests.length = 0;

    const seen = new Set<string>();
    for await (const c of client.listCustomers()) seen.add(c.id);
    expect(seen.size).toBe(230);
    const listCalls = sim.requests.filter((r) => r.path === '/api/customers');
    expect(listCalls).toHaveLength(3);
    expect(listCalls.every((r) => new URLSearchParams(r.query).get('limit') === '100')).toBe(true);

    // A backfill that stopped after page 1 resumes from the saved cursor.
    let cursor: string | undefined;
    const firstPage: string[] = [];
    for await (const p of client.customerPages()) {
      firstPage.push(...p.items.map((c) => c.id));
      cursor = p.nextCursor;
      expect(p.pagination.totalResultSize).toBe(230);
      break;
    }
    const rest: string[] = [];
    for await (const p of client.customerPages({}, { after: cursor })) rest.push(...p.items.map((c) => c.id));
    expect(firstPage).toHaveLength(100);
    expect(rest).toHaveLength(130);
    expect(new Set([...firstPage, ...rest]).size).toBe(230);
  });

  it('401 with bad credentials: a typed error naming Sequence, never echoing the secret', async () => {
    const bad = clientFor(sim, { clientSecret: 'wrong-secret-xyz' });
    const err = await bad.getCustomer('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SequenceCredentialsRejectedError);
    const e = err as SequenceCredentialsRejectedError;
    expect(e).toMatchObject({ kind: 'user', code: 'sequence_credentials_rejected', upstream: { service: 'sequence', status: 401 } });
    expect(e.message).toMatch(/Sequence rejected the API credentials/);
    expect(e.fix).toMatch(/environment/);
    const everything = JSON.stringify(e.toJSON()) + e.message;
    expect(everything).not.toContain('wrong-secret-xyz');
    expect(everything).not.toContain(Buffer.from(`${sim.clientId}:wrong-secret-xyz`).toString('base64'));
    const logged = sim.requests.at(-1);
    expect(logged).toMatchObject({ status: 401, authenticated: false });
    expect(JSON.stringify(sim.requests)).not.toMatch(/wrong-secret|Basic /);

    const res = await fetch(`${sim.apiUrl}/customers`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('unauthorized');
  });

  it('Sequence-Version: echoed on every response; unknown version → 400 UnrecognisedApiVersion', async () => {
    const headers = { authorization: basic(sim.clientId, sim.clientSecret) };
    const ok = await fetch(`${sim.apiUrl}/sequence-accounts`, { headers: { ...headers, 'sequence-version': '2024-07-30' } });
    expect(ok.headers.get('sequence-version')).toBe('2024-07-30');
    const bad = await fetch(`${sim.apiUrl}/sequence-accounts`, { headers: { ...headers, 'sequence-version': '1999-01-01' } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('sequence-version')).toBe('2024-07-30');
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe('UnrecognisedApiVersion');
    const missing = await fetch(`${sim.apiUrl}/sequence-accounts`, { headers });
    expect(missing.status).toBe(200);
    expect(missing.headers.get('sequence-version')).toBe('2024-07-30');

    // The client sent the header on every call it made in this file's other tests too.
    await client.listSequenceAccounts();
    expect(sim.requests.filter((r) => r.authenticated && r.sequenceVersion === undefined)).toHaveLength(1); // only the raw fetch above
  });

  it('429 when over the per-key rate limit → UpstreamRateLimitedError at once (no reset time: the queue backs off, not the client)', async () => {
    const limited = await startSequenceSimulator({ port: 0, rateLimitPerMinute: 3 });
    try {
      const c = clientFor(limited, { sleep: async () => undefined });
      for (let i = 0; i < 3; i++) await c.listSequenceAccounts();
      const err = await c.listSequenceAccounts().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UpstreamRateLimitedError);
      expect(err).toMatchObject({ kind: 'retryable', upstream: { status: 429, service: 'sequence' } });
      expect(limited.requests.filter((r) => r.status === 429)).toHaveLength(1);
      // The raw answer: Sequence's documented 429 has no Retry-After, and neither has the simulator's.
      const raw = await fetch(`${limited.apiUrl}/sequence-accounts`, { headers: { authorization: basic(limited.clientId, limited.clientSecret), 'sequence-version': '2024-07-30' } });
      expect(raw.status).toBe(429);
      expect(raw.headers.get('retry-after')).toBeNull();
      expect(await raw.json()).toEqual({ error: { type: 'tooManyRequests', message: expect.any(String) } });
    } finally {
      await limited.stop();
    }
  });

  it('429 carries no Retry-After by default (Sequence documents none): no quick retries in process; the next try after the window succeeds', async () => {
    await simPost(sim, '/_sim/faults', { rateLimitPerSecond: 1 });
    const slept: number[] = [];
    const c = clientFor(sim, {
      backoff: { maxAttempts: 10, baseDelayMs: 200, maxDelayMs: 1000 },
      sleep: async (ms) => void slept.push(ms),
    });
    sim.requests.length = 0;
    await c.listSequenceAccounts();
    await expect(c.listSequenceAccounts()).rejects.toMatchObject({ code: 'rate_limited', retryAfterMs: undefined });
    expect(sim.requests.map((r) => r.status)).toEqual([200, 429]);
    expect(slept).toEqual([]);
    // The queue's first retry comes seconds later (shared/domain/retry-policy.ts): the 1 s window has passed.
    await new Promise((r) => setTimeout(r, 1100));
    await expect(c.listSequenceAccounts()).resolves.toEqual(expect.any(Array));
  });

  it('a 429 with Retry-After (fault retryAfterSeconds) is honoured: the client waits at least that long, then succeeds', async () => {
    const faults = await simPost(sim, '/_sim/faults', { failNext: 1, statuses: [429], retryAfterSeconds: 1 });
    expect(faults.json).toMatchObject({ failNext: 1, statuses: [429], retryAfterSeconds: 1 });
    const slept: number[] = [];
    // Backoff alone would wait at most 20 ms; only the header can make it wait a second.
    const c = clientFor(sim, {
      sleep: (ms) => {
        slept.push(ms);
        return new Promise((r) => setTimeout(r, ms));
      },
    });
    sim.requests.length = 0;
    await expect(c.listSequenceAccounts()).resolves.toEqual(expect.any(Array));
    expect(sim.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(slept).toHaveLength(1);
    expect(slept[0]).toBeGreaterThanOrEqual(1000);
  });

  it('rateLimitPerSecond fault also answers 429', async () => {
    await simPost(sim, '/_sim/faults', { rateLimitPerSecond: 1 });
    const c = clientFor(sim, { backoff: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    await c.listSequenceAccounts();
    await expect(c.listSequenceAccounts()).rejects.toBeInstanceOf(UpstreamRateLimitedError);
  });

  it('5xx then success via /_sim/faults', async () => {
    const created = await client.createCustomer(customerBody('Retry Co'));
    const faults = await simPost(sim, '/_sim/faults', { failNext: 2, statuses: [503] });
    expect(faults.json).toMatchObject({ failNext: 2, statuses: [503] });
    sim.requests.length = 0;
    await expect(client.getCustomer(created.id)).resolves.toMatchObject({ id: created.id });
    expect(sim.requests.map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('errorRate 1 exhausts the retries with a retryable error', async () => {
    await simPost(sim, '/_sim/faults', { errorRate: 1, statuses: [502] });
    await expect(client.listSequenceAccounts()).rejects.toMatchObject({ code: 'upstream_server_error', kind: 'retryable' });
    expect(sim.requests.filter((r) => r.status === 502)).toHaveLength(FAST_BACKOFF.maxAttempts);
  });

  it('malformed upstream bodies → ConnectorBugError upstream_malformed_response', async () => {
    await simPost(sim, '/_sim/faults', { malformedRate: 1 });
    const err = await client.listSequenceAccounts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorBugError);
    expect(err).toMatchObject({ code: 'upstream_malformed_response' });

    // A server that answers JSON of the wrong shape.
    const junk = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: 'nope', pagination: {} }));
    });
    await new Promise<void>((r) => junk.listen(0, '127.0.0.1', r));
    try {
      const c = new SequenceClient({ baseUrl: `http://127.0.0.1:${(junk.address() as AddressInfo).port}/api`, clientId: 'a', clientSecret: 'b', rateLimitPerMinute: 1_000_000 });
      await expect(c.listSequenceAccounts()).rejects.toMatchObject({ code: 'upstream_malformed_response', kind: 'bug' });
    } finally {
      await new Promise<void>((r) => {
        junk.close(() => r());
        junk.closeAllConnections();
      });
    }
  });

  it('delivers signed webhooks that verify with an independent HMAC over the exact raw bytes', async () => {
    const receiver = await startReceiver();
    try {
      const secret = 'whsec_UserSubmittedSecret_Test';
      const policy = await client.createNotificationPolicy({ name: 'Sphere connector', recipients: [receiver.url], channel: 'WEBHOOK', webhookSecret: secret });
      expect(policy).toMatchObject({ channel: 'WEBHOOK', webhookSecret: secret, recipients: [receiver.url] });
      expect(await client.getNotificationPolicy(policy.id)).toMatchObject({ id: policy.id });

      const customer = await client.createCustomer(customerBody('Hooli Ünïcode'));
      const { json } = await simPost(sim, '/_sim/seed', {
        emitWebhooks: false,
        invoices: [{ currency: 'USD', customerId: customer.id, lineItems: [{ title: 'x', quantity: '1', rate: '1.00', taxRate: '0' }] }],
      });
      const invoiceId = (json.invoices as { id: string }[])[0].id;
      await client.finalizeInvoice(invoiceId);
      await sim.webhooksIdle();

      const envelopes = receiver.received.map((r) => JSON.parse(r.raw.toString('utf8')) as Record<string, unknown>);
      expect(envelopes.map((e) => e.notificationType)).toEqual(['CUSTOMER_CREATED', 'INVOICE_UPDATED']);
      expect(envelopes[0]).toMatchObject({
        sequenceAccountId: sim.state.account.id,
        resourceType: 'Customer',
        resourceId: customer.id,
        resource: expect.objectContaining({ id: customer.id, legalName: 'Hooli Ünïcode' }),
      });
      expect(envelopes[1]).toMatchObject({ resourceType: 'Invoice', resource: expect.objectContaining({ id: invoiceId, status: 'FINAL' }) });

      for (const r of receiver.received) {
        const header = String(r.headers['sequence-signature']);
        const m = /^t=(\d+),s=([0-9a-f]{64})$/.exec(header);
        expect(m).not.toBeNull();
        const [, t, s] = m as RegExpExecArray;
        const independent = createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${t}.`, 'utf8'), r.raw])).digest('hex');
        expect(s).toBe(independent);
        expect(Math.abs(Date.now() - Number(t))).toBeLessThan(60_000);
        expect(verifySignature(header, r.raw, [secret])).toMatchObject({ ok: true });
        expect(r.headers['content-type']).toBe('application/json');
      }

      const deliveries = (await (await fetch(`${sim.url}/_sim/webhooks`)).json()) as { items: { state: string; attempts: unknown[] }[] };
      expect(deliveries.items).toHaveLength(2);
      expect(deliveries.items.every((d) => d.state === 'delivered' && d.attempts.length === 1)).toBe(true);
      expect(JSON.stringify(deliveries)).not.toContain(secret);

      await client.deleteNotificationPolicy(policy.id);
      await expect(client.getNotificationPolicy(policy.id)).rejects.toBeInstanceOf(SequenceNotFoundError);
    } finally {
      await receiver.stop();
    }
  });

  it('webhooks: generated whsec_ secret, type filters, retries after a failure, duplicates on demand', async () => {
    const receiver = await startReceiver(1);
    try {
      const policy = await client.createNotificationPolicy({ name: 'only invoices', recipients: [receiver.url], channel: 'WEBHOOK', notificationTypes: ['INVOICE_ISSUED'] });
      expect(policy.webhookSecret).toMatch(/^whsec_/);
      await simPost(sim, '/_sim/faults', { duplicateWebhooks: true });
      const customer = await client.createCustomer(customerBody('Filtered Inc')); // not subscribed
      const invoice = await client.createInvoice({ currency: 'EUR', customerId: customer.id });
      await client.finalizeInvoice(invoice.id);
      const auth = { authorization: basic(sim.clientId, sim.clientSecret), 'sequence-version': '2024-07-30' };
      expect((await fetch(`${sim.apiUrl}/invoices/${invoice.id}/send`, { method: 'POST', headers: auth })).status).toBe(200);
      await sim.webhooksIdle();

      expect(receiver.received).toHaveLength(2);
      const bodies = receiver.received.map((r) => JSON.parse(r.raw.toString()) as { notificationType: string; resource: { status: string } });
      expect(bodies.every((b) => b.notificationType === 'INVOICE_ISSUED' && b.resource.status === 'SENT')).toBe(true);
      const retried = sim.deliveries.find((d) => d.attempts.length === 2);
      expect(retried?.attempts[0].status).toBe(500);
      expect(retried?.state).toBe('delivered');
      for (const r of receiver.received) {
        expect(verifySignature(String(r.headers['sequence-signature']), r.raw, [policy.webhookSecret as string])).toMatchObject({ ok: true });
      }
    } finally {
      await receiver.stop();
    }
  });

  it('customers: legalName / includeArchived filters, archive webhook, reorderWebhooks shuffles deliveries', async () => {
    const receiver = await startReceiver();
    try {
      await client.createNotificationPolicy({ name: 'customers', recipients: [receiver.url], channel: 'WEBHOOK', notificationTypes: ['CUSTOMER_CREATED', 'CUSTOMER_ARCHIVED'] });
      // A window long enough that all five creations fall into one held batch, even on a loaded machine.
      await simPost(sim, '/_sim/faults', { reorderWebhooks: true, reorderWindowMs: 3000 });
      const created: string[] = [];
      for (const name of ['Alpha', 'Beta', 'Gamma', 'Delta', 'Alphabet']) created.push((await client.createCustomer(customerBody(name))).id);
      const auth = { authorization: basic(sim.clientId, sim.clientSecret), 'sequence-version': '2024-07-30' };
      expect((await fetch(`${sim.apiUrl}/customers/${created[1]}/archive`, { method: 'POST', headers: auth })).status).toBe(200);
      await sim.webhooksIdle();

      const names: string[] = [];
      for await (const c of client.listCustomers({ legalName: 'alpha' })) names.push(c.legalName);
      expect(names.sort()).toEqual(['Alpha', 'Alphabet']);
      let active = 0;
      for await (const _ of client.listCustomers()) active++;
      let all = 0;
      for await (const _ of client.listCustomers({ includeArchived: true })) all++;
      expect([active, all]).toEqual([4, 5]);

      const got = receiver.received.map((r) => JSON.parse(r.raw.toString()) as { notificationType: string; resourceId: string });
      const createdOrder = got.filter((g) => g.notificationType === 'CUSTOMER_CREATED').map((g) => g.resourceId);
      expect([...createdOrder].sort()).toEqual([...created].sort());
      expect(createdOrder).not.toEqual(created);
      expect(got.filter((g) => g.notificationType === 'CUSTOMER_ARCHIVED').map((g) => g.resourceId)).toEqual([created[1]]);
    } finally {
      await receiver.stop();
    }
  });

  it('legacy tax-categories CRUD and POST /_sim/reset', async () => {
    const auth = { authorization: basic(sim.clientId, sim.clientSecret), 'sequence-version': '2024-07-30', 'content-type': 'application/json' };
    const res = await fetch(`${sim.apiUrl}/tax-categories`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'Training', description: 'Courses' }) });
    expect(res.status).toBe(201);
    const cat = (await res.json()) as { id: string; version: number };
    expect(cat).toMatchObject({ name: 'Training', version: 1, isPublished: true, sequenceAccountId: sim.state.account.id });
    const put = await fetch(`${sim.apiUrl}/tax-categories/${cat.id}`, { method: 'PUT', headers: auth, body: JSON.stringify({ name: 'Training & courses' }) });
    expect(await put.json()).toMatchObject({ id: cat.id, name: 'Training & courses', version: 2 });
    expect((await client.listTaxCategories()).map((c) => c.name)).toContain('Training & courses');
    expect((await fetch(`${sim.apiUrl}/tax-categories/${cat.id}`, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect((await fetch(`${sim.apiUrl}/tax-categories/${cat.id}`, { headers: auth })).status).toBe(404);

    await client.createCustomer(customerBody('Gone after reset'));
    expect((await simPost(sim, '/_sim/reset', {})).status).toBe(200);
    expect(Object.keys(sim.state.customers)).toHaveLength(0);
    expect(Object.keys(sim.state.taxCategories)).toEqual(Object.values(SIM_TAX_CATEGORY_IDS));
    const log = (await (await fetch(`${sim.url}/_sim/requests`)).json()) as { items: unknown[] };
    expect(log.items).toEqual([]);
  });

  it('/_sim/seed is atomic: a bad item creates nothing and names the item', async () => {
    const before = Object.keys(sim.state.customers).length;
    const res = await simPost(sim, '/_sim/seed', { customers: [customerBody('Good'), { legalName: '' }] });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { type: 'validationError' }, seedItem: 'customers[1]' });
    expect(Object.keys(sim.state.customers)).toHaveLength(before);
    const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as { taxCategories: Record<string, unknown> };
    expect(Object.keys(state.taxCategories)).toHaveLength(3);
  });

  it('persists data to dataFile across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq-sim-'));
    try {
      const file = join(dir, 'sequence.json');
      const first = await startSequenceSimulator({ port: 0, dataFile: file });
      const c1 = await clientFor(first).createCustomer(customerBody('Persisted Ltd'));
      await first.stop();
      const second = await startSequenceSimulator({ port: 0, dataFile: file });
      try {
        await expect(clientFor(second).getCustomer(c1.id)).resolves.toMatchObject({ legalName: 'Persisted Ltd' });
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
