/**
 * Customer sync end to end: Sequence simulator → signed webhooks → front door → customer-sync
 * worker → Sphere simulator; plus exemption changes, archive, Sphere failures and a poisoned message.
 */
import { restoreLogLevel } from '../../fixtures/log-level-info'; // first: the handlers' logger is built at import
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { captureLogs, type LogCapture } from '../../../bench/lib/chaos-log-capture';
import { type ExemptionChangedMessage } from '../../../shared/runtime/queue-messages';
import { syncCustomerToSphere } from '../../../shared/sync/ensure';
import { captured } from '../../fixtures/handlers/exemptions-capture';
import { createConnection, customerBody, dlqBodies, type Harness, queueDepth, sequenceApi, sim, sphereRequests, sphereState, startAddressCheckingSphereProxy, startHarness, type TestConnection } from './harness';
import { eventually } from '../../support/eventually';

let h: Harness;
let c: TestConnection;
let logs: LogCapture;

beforeAll(async () => {
  // What the handlers log (INFO and up), kept off the terminal for the assertions that read it.
  logs = captureLogs();
  h = await startHarness();
  c = await createConnection(h);
});

afterAll(async () => {
  await h?.stop();
  logs?.stop();
  restoreLogLevel();
});

beforeEach(async () => {
  await sim(h.sequence.url, 'POST', '/_sim/faults', { duplicateWebhooks: false, reorderWebhooks: false });
  await sim(h.sphere.url, 'POST', '/_sim/faults', { errorRate: 0, failNext: 0 });
});

interface SphereCustomerWire {
  external_id: string;
  name?: string;
  billing_address?: Record<string, string>;
  tax_ids?: { type: string; value: string }[];
  tax_exempt?: string;
}

async function sphereCustomer(id: string): Promise<SphereCustomerWire | undefined> {
  const state = await sphereState(h);
  return (state.customers as unknown as SphereCustomerWire[]).find((x) => x.external_id === id);
}

it('a customer created then updated twice, with duplicated and reordered deliveries, ends in Sphere once in its final state', async () => {
  await sim(h.sequence.url, 'POST', '/_sim/faults', { duplicateWebhooks: true, reorderWebhooks: true, reorderWindowMs: 150 });
  const created = await sequenceApi<{ id: string }>(h, 'POST', '/customers', customerBody('Orbit Labs'));
  await sequenceApi(h, 'PUT', `/customers/${created.id}`, customerBody('Orbit Labs Inc.'));
  await sequenceApi(h, 'PUT', `/customers/${created.id}`, customerBody('Orbit Labs Incorporated', { address: { line1: '500 Broadway', town: 'New York', state: 'NY', postcode: '10012', country: 'US' } }));
  await h.settle();

  const state = await sphereState(h);
  const copies = (state.customers as unknown as SphereCustomerWire[]).filter((x) => x.external_id === created.id);
  expect(copies).toHaveLength(1);
  expect(copies[0]).toMatchObject({
    name: 'Orbit Labs Incorporated',
    billing_address: { address1: '500 Broadway', city: 'New York', state: 'NY', postal_code: '10012', country: 'US' },
    tax_exempt: 'none',
    tax_ids: [],
  });
  // Every delivery was duplicated, and every copy answered 2xx. The simulator signs each copy anew
  // and a customer carries no version, so the copies count as new events and are queued (a key on
  // the body alone would also swallow a real A → B → A change): the worker re-reads, so Sphere
  // still ends with one copy in its final state.
  const deliveries = h.sequence.deliveries.filter((d) => d.resourceId === created.id);
  expect(deliveries.some((d) => d.duplicate)).toBe(true);
  expect(deliveries.every((d) => d.state === 'delivered')).toBe(true);
  expect(deliveries.flatMap((d) => d.attempts.map((a) => a.status)).every((s) => s === 200 || s === 202)).toBe(true);

  // Linked, and the Sequence customer is tagged without losing its contacts.
  const link = await h.deps.links.getCustomer(c.connection.id, created.id);
  expect(link).toMatchObject({ sphereCustomerId: created.id, archived: false, taxStatus: 'TAXED', tagged: true });
  const customer = await sequenceApi<{ integrationIds: { service: string; id: string }[]; contacts: { email: string }[] }>(h, 'GET', `/customers/${created.id}`);
  expect(customer.integrationIds).toEqual([expect.objectContaining({ service: 'Sphere', id: created.id })]);
  expect(customer.contacts).toHaveLength(1);
  const connection = await h.deps.connections.get(c.connection.id);
  expect(connection!.counts.customersSynced).toBeGreaterThanOrEqual(1);
});

it('keeps other integration ids and every contact when tagging', async () => {
  const created = await sequenceApi<{ id: string }>(
    h,
    'POST',
    '/customers',
    customerBody('Multi Contact Ltd', {
      integrationIds: [{ service: 'Stripe', id: 'cus_stripe_1' }],
      contacts: [
        { name: 'A', email: 'a@example.com', billingPreference: 'PRIMARY' },
        { name: 'B', email: 'b@example.com', billingPreference: 'STANDARD' },
      ],
    }),
  );
  await h.settle();
  const customer = await sequenceApi<{ integrationIds: { service: string; id: string }[]; contacts: { email: string }[] }>(h, 'GET', `/customers/${created.id}`);
  expect(customer.integrationIds.map((i) => `${i.service}:${i.id}`).sort()).toEqual([`Sphere:${created.id}`, 'Stripe:cus_stripe_1']);
  expect(customer.contacts.map((x) => x.email).sort()).toEqual(['a@example.com', 'b@example.com']);
});

it('the CUSTOMER_UPDATED echo of our own tag PUT costs no Sequence read; a real change after it is re-read', async () => {
  const created = await sequenceApi<{ id: string }>(h, 'POST', '/customers', customerBody('Echo Works Ltd'));
  await h.settle();
  const calls = (method: string, path: string) => h.sequence.requests.filter((r) => r.method === method && r.path === path).length;
  // CUSTOMER_CREATED: one read of the customer and of its registrations, one tag PUT. The PUT's
  // CUSTOMER_UPDATED arrived (delivered and answered) but read nothing.
  expect(calls('GET', `/api/customers/${created.id}`)).toBe(1);
  expect(calls('GET', `/api/tax-registrations/for-customer/${created.id}`)).toBe(1);
  expect(calls('PUT', `/api/customers/${created.id}`)).toBe(1);
  expect(h.sequence.deliveries.filter((d) => d.resourceId === created.id && d.notificationType === 'CUSTOMER_UPDATED' && d.state === 'delivered')).toHaveLength(1);
  const link = await h.deps.links.getCustomer(c.connection.id, created.id);
  expect(link).toMatchObject({ tagged: true });
  expect(link!.expectedEcho).toBeUndefined();

  // A change by the merchant is a different state: re-read and written.
  await sequenceApi(h, 'PUT', `/customers/${created.id}`, customerBody('Echo Works Group Ltd', { integrationIds: [{ service: 'Sphere', id: created.id }] }));
  await h.settle();
  expect(calls('GET', `/api/customers/${created.id}`)).toBe(2);
  expect((await sphereCustomer(created.id))?.name).toBe('Echo Works Group Ltd');
});

it("a backfill takes registrations from its run's snapshot, unless the customer was synced after the snapshot was read", async () => {
  const created = await sequenceApi<{ id: string }>(h, 'POST', '/customers', customerBody('Snapshot Ltd', { taxStatus: 'REVERSE_CHARGED' }));
  await sequenceApi(h, 'POST', '/tax-registrations', { taxIdentifier: 'DE111111111', country: 'DE', customerId: created.id });
  await h.settle();
  const connection = (await h.deps.connections.get(c.connection.id))!;
  const { registrationSnapshots, links } = h.deps;
  const reads = () => h.sequence.requests.filter((r) => r.path === `/api/tax-registrations/for-customer/${created.id}`).length;
  const sync = (readFrom: string) =>
    h.deps.withUpstream(connection, (clients) =>
      syncCustomerToSphere(h.deps, connection, clients, created.id, { trigger: 'backfill', registrationsSnapshot: { runId: 'run-snap', readFrom } }),
    );
  await registrationSnapshots.putPage(connection.id, 'run-snap', [
    { id: 'reg-snap', sequenceAccountId: 'acc', customerId: created.id, taxIdentifier: 'DE222222222', country: 'DE' },
  ]);
  const lastSyncedAt = (await links.getCustomer(connection.id, created.id))!.lastSyncedAt;

  // Read before the last sync: the link knows better, so the registrations are read from Sequence.
  const before = reads();
  const stale = await sync(new Date(Date.parse(lastSyncedAt) - 60_000).toISOString());
  expect(reads()).toBe(before + 1);
  expect(stale.taxRegistrations.map((r) => r.taxIdentifier)).toEqual(['DE111111111']);
  expect(stale.changed).toBe(false);

  // Read after it: the snapshot is used (no Sequence read) and what it holds reaches Sphere.
  const fresh = await sync(new Date(Date.now() + 1000).toISOString());
  expect(reads()).toBe(before + 1);
  expect(fresh.taxRegistrations.map((r) => r.taxIdentifier)).toEqual(['DE222222222']);
  expect(fresh.changed).toBe(true);
  expect((await sphereCustomer(created.id))?.tax_ids).toEqual([{ type: 'eu_vat', value: 'DE222222222' }]);
});

it('an unchanged customer is not written to Sphere again', async () => {
  const created = await sequenceApi<{ id: string }>(h, 'POST', '/customers', customerBody('Quiet Co'));
  await h.settle();
  const writesBefore = (await sphereRequests(h)).filter((r) => r.method === 'POST' && r.path === '/v1/customers').length;
  // A change Sphere does not see (contacts) → CUSTOMER_UPDATED → re-read → same hash → no write.
  await sequenceApi(h, 'PUT', `/customers/${created.id}`, customerBody('Quiet Co', { contacts: [{ name: 'New', email: 'new@example.com', billingPreference: 'PRIMARY' }], integrationIds: [{ service: 'Sphere', id: created.id }] }));
  await h.settle();
  const writesAfter = (await sphereRequests(h)).filter((r) => r.method === 'POST' && r.path === '/v1/customers').length;
  expect(writesAfter).toBe(writesBefore);
});

it('an archived customer marks its link archived', async () => {
  const created = await sequenceApi<{ id: string }>(h, 'POST', '/customers', customerBody('Sunset GmbH'));
  await h.settle();
  await sequenceApi(h, 'POST', `/customers/${created.id}/archive`);
  await h.settle();
  const link = await h.deps.links.getCustomer(c.connection.id, created.id);
  expect(link).toMatchObject({ archived: true, sphereCustomerId: created.id });
  expect(link!.archivedAt).toEqual(expect.any(String));
});

it('an exemption change (tax status, then registrations) reaches Sphere and emits "exemption changed"', async () => {
  captured.length = 0;
  const created = await sequenceApi<{ id: string }>(h, 'POST', '/customers', customerBody('Exempt Org', { address: { line1: 'Unter den Linden 1', town: 'Berlin', postcode: '10117', country: 'DE' } }));
  await h.settle();
  expect(captured.filter((m) => m.customerId === created.id)).toHaveLength(0); // first sync: nothing to re-tax

  await sequenceApi(h, 'PUT', `/customers/${created.id}`, customerBody('Exempt Org', { taxStatus: 'TAX_EXEMPT', address: { line1: 'Unter den Linden 1', town: 'Berlin', postcode: '10117', country: 'DE' }, integrationIds: [{ service: 'Sphere', id: created.id }] }));
  await h.settle();
  expect((await sphereCustomer(created.id))?.tax_exempt).toBe('exempt');
  const first = await eventually('exemption message', () => captured.find((m) => m.customerId === created.id) as ExemptionChangedMessage | undefined);
  expect(first).toMatchObject({ kind: 'exemption_changed', connectionId: c.connection.id, customerId: created.id, previousTaxStatus: 'TAXED', taxStatus: 'TAX_EXEMPT', registrationsChanged: false });

  // Registrations send no webhook: the next sync of the customer (here: an edit) carries them.
  await sequenceApi(h, 'POST', '/tax-registrations', { customerId: created.id, taxIdentifier: 'DE123456789', country: 'DE' });
  await sequenceApi(h, 'PUT', `/customers/${created.id}`, customerBody('Exempt Org', { taxStatus: 'REVERSE_CHARGED', label: 'vat', address: { line1: 'Unter den Linden 1', town: 'Berlin', postcode: '10117', country: 'DE' }, integrationIds: [{ service: 'Sphere', id: created.id }] }));
  await h.settle();
  const sphere = await sphereCustomer(created.id);
  expect(sphere).toMatchObject({ tax_exempt: 'reverse', tax_ids: [{ type: 'eu_vat', value: 'DE123456789' }] });
  const second = await eventually('second exemption message', () => captured.filter((m) => m.customerId === created.id)[1] as ExemptionChangedMessage | undefined);
  expect(second).toMatchObject({ previousTaxStatus: 'TAX_EXEMPT', taxStatus: 'REVERSE_CHARGED', registrationsChanged: true });
  expect(captured.filter((m) => m.customerId === created.id)).toHaveLength(2);
});

it('a burst of Sphere 5xx heals by retry (no failure record left)', async () => {
  await sim(h.sphere.url, 'POST', '/_sim/faults', { failNext: 6, statuses: [503] });
  const created = await sequenceApi<{ id: string }>(h, 'POST', '/customers', customerBody('Flaky Sphere Inc'));
  await h.settle({ timeoutMs: 45_000 });
  expect((await sphereCustomer(created.id))?.name).toBe('Flaky Sphere Inc');
  const requests = await sphereRequests(h);
  expect(requests.filter((r) => r.status === 503).length).toBe(6);
  expect(await h.deps.failures.get(c.connection.id, 'customer', created.id)).toBeUndefined();
  expect(await dlqBodies(h, 'customer-sync-dlq.fifo')).toHaveLength(0);
});

it("an address Sphere cannot use (customer_tax_location_invalid) becomes a failure record with Sphere's reason, not a retry loop", async () => {
  const proxy = await startAddressCheckingSphereProxy(h.sphere.url);
  try {
    const bad = await createConnection(h, { sphereBaseUrl: proxy.url });
    const poller = h.runtime.pollers.find((p) => p.binding.queueName === 'customer-sync.fifo')!;
    const before = poller.stats.received;
    const created = await sequenceApi<{ id: string }>(h, 'POST', '/customers', customerBody('Nowhere LLC', { address: { line1: '1 Unknown Rd', town: 'Nowhere', state: 'CA', postcode: '00000', country: 'US' } }));
    await h.settle();
    const failure = await eventually('failure record', () => h.deps.failures.get(bad.connection.id, 'customer', created.id));
    expect(failure).toMatchObject({ kind: 'user', code: 'customer_tax_location_invalid', retryable: false, retry: { queue: 'customerSync' } });
    expect(failure.message).toContain("Postal code '00000' could not be resolved");
    expect(failure.fix).toMatch(/address/i);
    expect(poller.stats.received - before).toBe(1); // received once: no retry loop
    expect((await h.deps.connections.get(bad.connection.id))!.counts.failures).toBe(1);
    expect(await dlqBodies(h, 'customer-sync-dlq.fifo')).toHaveLength(0);
  } finally {
    await proxy.stop();
  }
});

it('a queued message that no longer parses goes to the DLQ with its reason logged, handled once, never loops', async () => {
  const poller = h.runtime.pollers.find((p) => p.binding.queueName === 'customer-sync.fifo')!;
  const before = { ...poller.stats };
  const body = JSON.stringify({ kind: 'customer', connectionId: c.connection.id });
  const { MessageId } = await h.runtime.sqs.client.send(
    new SendMessageCommand({ QueueUrl: h.runtime.queueUrls['customer-sync.fifo']!, MessageBody: body, MessageGroupId: 'poison', MessageDeduplicationId: `poison-${Date.now()}` }),
  );
  await h.settle();
  const dead = await eventually('DLQ message', async () => {
    const bodies = (await dlqBodies(h, 'customer-sync-dlq.fifo')).filter((m) => m.body === body);
    return bodies.length > 0 ? bodies : undefined;
  });
  expect(dead).toHaveLength(1);
  expect(dead[0]!.reason).toMatch(/trigger|customerId/);

  // Handled once: received once, then deleted from the source queue (not left to SQS retries),
  // never a failed batch; nothing is left to be received again.
  expect(poller.stats.received - before.received).toBe(1);
  expect(poller.stats.deleted - before.deleted).toBe(1);
  expect(poller.stats.failedRecords - before.failedRecords).toBe(0);
  expect(await queueDepth(h, 'customer-sync.fifo')).toBe(0);

  // The reason is in the log, with the message id.
  const logged = logs.lines.filter((l) => l.includes('Queued message no longer parses; moved to the DLQ') && l.includes(MessageId!));
  expect(logged).toHaveLength(1);
  expect(logged[0]).toMatch(/customerId/);
  expect(logged[0]).toContain('customerSync');
});
