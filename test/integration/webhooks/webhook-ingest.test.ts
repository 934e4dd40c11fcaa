/**
 * POST /webhooks/sequence/{connectionId} through the local front door (API Gateway emulation):
 * every rejection of §5.2 with its status and nothing queued, acceptance + routing, duplicates,
 * unknown types, base64 bodies, secret rotation, and no secret in any log line.
 */
import { restoreLogLevel } from '../../fixtures/log-level-debug'; // first: the handlers' logger is built at import
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { SIM_SEQUENCE_ACCOUNT_ID } from '../../../local/sequence-sim/server';
import { logger } from '../../../shared/runtime/observability';
import { signatureHeader } from '../../../shared/webhooks/signature';
import { captured } from '../../fixtures/handlers/exemptions-capture';
import { createConnection, customerBody, type Harness, sim, startHarness, type TestConnection } from '../sync/harness';
import { eventually } from '../../support/eventually';

let h: Harness;
let c: TestConnection;
let customerId: string;
const logLines: string[] = [];
const spies: jest.SpyInstance[] = [];

beforeAll(async () => {
  h = await startHarness();
  c = await createConnection(h, { policy: false });
  const seeded = await sim<{ customers: string[] }>(h.sequence.url, 'POST', '/_sim/seed', { customers: [customerBody('Webhook Co')] });
  customerId = seeded.customers[0]!;
  // Capture everything the handlers log, to prove no secret ever reaches a log line.
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    spies.push(jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void logLines.push(args.map(String).join(' '))));
  }
  spies.push(jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (logLines.push(String(chunk)), true)));
});

afterAll(async () => {
  for (const s of spies) s.mockRestore();
  logger.setLogLevel('SILENT');
  restoreLogLevel();
  await h?.stop();
});

function envelope(overrides: Record<string, unknown> = {}, resource: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    notificationType: 'CUSTOMER_UPDATED',
    sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID,
    resourceType: 'Customer',
    resourceId: customerId,
    resource: { id: customerId, legalName: 'Webhook Co', ...resource },
    ...overrides,
  };
}

async function post(body: string | Buffer, options: { secret?: string | null; t?: number; connectionId?: string; contentType?: string; signature?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
  if (options.signature !== undefined) headers['sequence-signature'] = options.signature;
  else if (options.secret !== null) headers['sequence-signature'] = signatureHeader(options.secret ?? c.webhookSecret, body, options.t ?? Date.now());
  const response = await fetch(`${h.runtime.url}/webhooks/sequence/${options.connectionId ?? c.connection.id}`, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A well-formed envelope whose customer name holds two bytes that are not UTF-8. */
function invalidUtf8Envelope(): Buffer {
  const [head, tail] = JSON.stringify(envelope({}, { legalName: 'NOT_UTF8' })).split('NOT_UTF8');
  return Buffer.concat([Buffer.from(head!), Buffer.from([0xff, 0xfe]), Buffer.from(tail!)]);
}

/** Messages received by any worker plus messages waiting in any queue. */
async function queuedSoFar(): Promise<number> {
  let waiting = 0;
  for (const url of Object.values(h.runtime.queueUrls)) {
    const { Attributes } = await h.runtime.sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    waiting += Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  }
  return waiting + h.runtime.pollers.reduce((n, p) => n + p.stats.received, 0);
}

describe('rejections leave nothing in any queue', () => {
  const cases: [string, () => Promise<{ status: number; body: Record<string, unknown> }>, number, string][] = [
    ['unsigned', () => post(JSON.stringify(envelope()), { secret: null }), 401, 'missing_signature'],
    ['signed with another secret', () => post(JSON.stringify(envelope()), { secret: 'whsec_wrong' }), 401, 'invalid_signature'],
    ['malformed signature header', () => post(JSON.stringify(envelope()), { signature: 'v1=abc' }), 401, 'invalid_signature'],
    ['signature over other bytes', () => post(JSON.stringify(envelope()), { signature: signatureHeader(c.webhookSecret, JSON.stringify(envelope({ resourceId: 'x' }))) }), 401, 'invalid_signature'],
    ['stale timestamp (6 min old)', () => post(JSON.stringify(envelope()), { t: Date.now() - 6 * 60_000 }), 401, 'stale_signature'],
    ['timestamp 6 min in the future', () => post(JSON.stringify(envelope()), { t: Date.now() + 6 * 60_000 }), 401, 'stale_signature'],
    ['oversized (> 256 KiB)', () => post(JSON.stringify(envelope({}, { padding: 'x'.repeat(300 * 1024) }))), 413, 'payload_too_large'],
    ['signed but not JSON', () => post('not json at all'), 400, 'invalid_json'],
    ['signed but wrong shape', () => post(JSON.stringify({ resourceId: customerId })), 400, 'invalid_envelope'],
    ['signed, consumed type without any resource id', () => post(JSON.stringify({ notificationType: 'CUSTOMER_UPDATED', sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID })), 400, 'invalid_envelope'],
    ['signed for another Sequence account', () => post(JSON.stringify(envelope({ sequenceAccountId: 'another-account' }))), 400, 'account_mismatch'],
    ['unknown connection', () => post(JSON.stringify(envelope()), { connectionId: 'conn_does_not_exist' }), 404, 'connection_not_found'],
    // Issue 11 §3: hostile ids and bytes.
    ['a connection id of 5,000 characters', () => post(JSON.stringify(envelope()), { connectionId: 'c'.repeat(5000) }), 404, 'connection_not_found'],
    ['signed, a dot-segment resource id', () => post(JSON.stringify(envelope({ resourceId: '..' }, { id: '..' }))), 400, 'invalid_envelope'],
    ['signed, a 5,000-character resource id', () => post(JSON.stringify(envelope({ resourceId: 'r'.repeat(5000) }, { id: 'r'.repeat(5000) }))), 400, 'invalid_envelope'],
    ['signed, binary content type, not valid UTF-8', () => post(invalidUtf8Envelope(), { contentType: 'application/octet-stream' }), 400, 'invalid_json'],
  ];

  it.each(cases)('%s', async (_name, send, status, code) => {
    const before = await queuedSoFar();
    const response = await send();
    expect(response.status).toBe(status);
    expect((response.body.error as { code: string }).code).toBe(code);
    await h.runtime.drain(); // anything sent would now be counted as received
    expect(await queuedSoFar()).toBe(before);
  });
});

it('logs a stale but authentic delivery with its age; a stale forgery is an invalid signature, not "stale"', async () => {
  const from = logLines.length;
  const stale = await post(JSON.stringify(envelope()), { t: Date.now() - 10 * 60_000 });
  expect(stale.status).toBe(401);
  expect((stale.body.error as { code: string }).code).toBe('stale_signature');
  const line = logLines.slice(from).find((l) => l.includes('Stale but authentic webhook refused'));
  expect(line).toBeDefined();
  const ageMs = (JSON.parse(line!) as { ageMs: number }).ageMs;
  expect(ageMs).toBeGreaterThanOrEqual(10 * 60_000);
  expect(ageMs).toBeLessThan(11 * 60_000);

  const forged = await post(JSON.stringify(envelope()), { secret: 'whsec_wrong', t: Date.now() - 10 * 60_000 });
  expect((forged.body.error as { code: string }).code).toBe('invalid_signature');
});

it('accepts a signed delivery (202), queues one customer sync, and answers an exact redelivery with 200 without queueing', async () => {
  const body = JSON.stringify(envelope({}, { legalName: 'Webhook Co', marker: 'first' }));
  const before = h.runtime.pollers.find((p) => p.binding.queueName === 'customer-sync.fifo')!.stats.received;
  const t0 = Date.now();
  const first = await post(body, { t: t0 });
  expect(Date.now() - t0).toBeLessThan(2000);
  expect(first).toEqual({ status: 202, body: { status: 'accepted' } });
  // The same signed request again (our first answer was lost, say): same bytes, same signature.
  const again = await post(body, { t: t0 });
  expect(again).toEqual({ status: 200, body: { status: 'duplicate' } });
  await h.settle();
  const poller = h.runtime.pollers.find((p) => p.binding.queueName === 'customer-sync.fifo')!;
  expect(poller.stats.received - before).toBe(1);
  // The worker synced it (the route reached the real customer-sync worker).
  const link = await h.deps.links.getCustomer(c.connection.id, customerId);
  expect(link?.sphereCustomerId).toBe(customerId);
});

it('routes invoice notifications to the invoice-tax queue', async () => {
  captured.length = 0;
  const res = await post(JSON.stringify({ notificationType: 'INVOICE_CREATED', sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID, resourceType: 'Invoice', resourceId: 'inv-1', resource: { id: 'inv-1', updatedAt: '2026-01-01T00:00:00Z' } }));
  expect(res.status).toBe(202);
  await eventually('invoice message', () => captured.find((m) => m.invoiceId === 'inv-1'));
  expect(captured).toContainEqual({ kind: 'invoice', connectionId: c.connection.id, trigger: 'webhook', invoiceId: 'inv-1', notificationType: 'INVOICE_CREATED' });
});

it('acknowledges and counts an unknown notification type without queueing it', async () => {
  const before = await queuedSoFar();
  const res = await post(JSON.stringify({ notificationType: 'QUOTE_SIGNED', sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID, resourceId: 'q-1', resource: { id: 'q-1' } }));
  expect(res).toEqual({ status: 202, body: { status: 'ignored', notificationType: 'QUOTE_SIGNED' } });
  expect(await queuedSoFar()).toBe(before);
  expect(await h.deps.deliveries.stats(c.connection.id)).toEqual({ ignoredTotal: 1, ignoredByType: { QUOTE_SIGNED: 1 } });
});

it('verifies a base64-encoded body (binary content type) on its exact bytes', async () => {
  const body = Buffer.from(JSON.stringify(envelope({ notificationType: 'MERCHANT_UPDATED' }, { note: 'bytes ✓' })), 'utf8');
  const res = await post(body, { contentType: 'application/octet-stream' });
  expect(res.status).toBe(202);
});

it('keys on resource.id, not resourceId, and treats a new resource version as a new delivery', async () => {
  captured.length = 0;
  const a = await post(JSON.stringify({ notificationType: 'INVOICE_UPDATED', sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID, resourceId: 'schedule-9', resource: { id: 'inv-2', updatedAt: '2026-01-01T00:00:00Z' } }));
  const b = await post(JSON.stringify({ notificationType: 'INVOICE_UPDATED', sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID, resourceId: 'schedule-9', resource: { id: 'inv-2', updatedAt: '2026-01-01T00:00:01Z' } }));
  expect([a.status, b.status]).toEqual([202, 202]);
  await eventually('two invoice messages', () => captured.filter((m) => m.invoiceId === 'inv-2').length === 2);
});

it('a retry of a versioned event signed anew is still a duplicate (the key is the resource version)', async () => {
  const body = JSON.stringify({ notificationType: 'INVOICE_UPDATED', sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID, resourceId: 'inv-3', resource: { id: 'inv-3', updatedAt: '2026-01-02T00:00:00Z' } });
  expect((await post(body, { t: Date.now() - 60_000 })).status).toBe(202);
  expect(await post(body)).toEqual({ status: 200, body: { status: 'duplicate' } });
});

it('a customer changed A → B → A is queued three times though the third body is byte-identical to the first', async () => {
  // Customers carry no updatedAt: the body is all there is, so the signature timestamp tells a new
  // event from a redelivery. Deduping the third as "already seen" would leave Sphere with B.
  const poller = () => h.runtime.pollers.find((p) => p.binding.queueName === 'customer-sync.fifo')!;
  const before = poller().stats.received;
  const taxed = JSON.stringify(envelope({}, { legalName: 'Webhook Co', taxStatus: 'TAXED' }));
  const exempt = JSON.stringify(envelope({}, { legalName: 'Webhook Co', taxStatus: 'TAX_EXEMPT' }));
  const t0 = Date.now() - 3_000;
  expect(await post(taxed, { t: t0 })).toEqual({ status: 202, body: { status: 'accepted' } });
  expect(await post(exempt, { t: t0 + 1_000 })).toEqual({ status: 202, body: { status: 'accepted' } });
  expect(await post(taxed, { t: t0 + 2_000 })).toEqual({ status: 202, body: { status: 'accepted' } });
  // An exact redelivery of the third is still a duplicate.
  expect(await post(taxed, { t: t0 + 2_000 })).toEqual({ status: 200, body: { status: 'duplicate' } });
  await h.settle();
  expect(poller().stats.received - before).toBe(3);
});

it('an expired delivery claim that DynamoDB has not deleted yet does not count as a duplicate', async () => {
  const { deliveries } = h.deps;
  const info = { notificationType: 'CUSTOMER_UPDATED', resourceId: customerId };
  expect(await deliveries.claim(c.connection.id, 'expired-claim', info, -60)).toBe(true); // already past its ttl
  expect(await deliveries.claim(c.connection.id, 'expired-claim', info, 900)).toBe(true);
  expect(await deliveries.claim(c.connection.id, 'expired-claim', info, 900)).toBe(false);
});

it('picks up a rotated webhook secret (re-reads the vault once on a mismatch)', async () => {
  const rotated = 'whsec_rotated_secret_value_123';
  const stored = await h.deps.vault.get(c.connection.id);
  await h.deps.vault.put(c.connection.id, { ...stored, webhookSigningSecret: rotated });
  const res = await post(JSON.stringify(envelope({ notificationType: 'MERCHANT_UPDATED' }, { rotation: true })), { secret: rotated });
  expect(res.status).toBe(202);
  c.webhookSecret = rotated;
});

it('answers 404 for a DISCONNECTED connection', async () => {
  const before = await queuedSoFar();
  await h.deps.connections.setStatus(c.connection.id, 'DISCONNECTED');
  try {
    const res = await post(JSON.stringify(envelope({}, { afterDisconnect: true })));
    expect(res.status).toBe(404);
    expect(await queuedSoFar()).toBe(before);
  } finally {
    await h.deps.connections.setStatus(c.connection.id, 'ACTIVE');
  }
});

it('never logs a webhook secret, a signature or an API credential', () => {
  const all = logLines.join('\n');
  // The capture is live: it holds the handlers' own lines for this connection, at every level.
  expect(all).toContain('Duplicate webhook delivery');
  expect(all).toContain(c.connection.id);
  for (const secret of [c.webhookSecret, 'whsec_rotated_secret_value_123', h.sequence.clientSecret, 'sph_test_local']) expect(all).not.toContain(secret);
});
