/**
 * The audit log as a real flow writes it: an invoice taxed through the admin route calls Sequence
 * and Sphere (simulators) through the real clients, and every call lands in the connection's audit
 * log with method, path, status, latency and the upstream's request id (the X-Request-Id each
 * simulator answers with, so the ids can be matched against the simulators' own request logs), and
 * nothing else: no bodies, headers or credentials.
 */
import { type AuditEntry } from '../../../shared/store/audit-log';
import { CATEGORY, customerBody, invoiceSeed, sim, SPHERE_KEY, useTaxHarness } from './harness';

const h = useTaxHarness();

/** An item of GET …/audit, as the route answers it. */
type AuditItem = AuditEntry;

it('records every upstream call of a tax calculation with method, path, status, latency and request id, and no body or secret', async () => {
  const seeded = await h.seed(invoiceSeed({ customer: customerBody('Audit Trail Inc', { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' }), product: { name: 'Audited seat', taxCategoryId: CATEGORY.saas }, lines: [{ title: 'Seat', quantity: '2', rate: '10.00' }] }));
  const invoiceId = seeded.invoices[0]!.id;
  const taxed = await h.admin.call('POST', `/connections/${h.connection.id}/invoices/${invoiceId}/tax`);
  expect(taxed.status).toBe(200);

  const answer = await h.admin.call<{ items: AuditItem[]; count: number }>('GET', `/connections/${h.connection.id}/audit?limit=500`);
  expect(answer.status).toBe(200);
  const items = answer.body.items;
  expect(items.length).toBeGreaterThanOrEqual(3);

  // The calls the flow must have made, each recorded.
  expect(items).toContainEqual(expect.objectContaining({ service: 'sequence', method: 'GET', path: `/invoices/${invoiceId}`, status: 200 }));
  expect(items).toContainEqual(expect.objectContaining({ service: 'sphere', method: 'POST', path: '/tax_api/calculate_tax', status: 200 }));
  expect(items).toContainEqual(expect.objectContaining({ service: 'sequence', method: 'PUT', status: 200 })); // the tax rates written back

  // Every entry: the allowed fields only, a status, a latency and the request id the upstream sent.
  const sequenceIds = new Set((await sim<{ items: { id: string }[] }>(h.sequence.url, 'GET', '/_sim/requests')).items.map((r) => r.id));
  const sphereIds = new Set((await sim<{ requests: { requestId?: string }[] }>(h.sphere.url, 'GET', '/_sim/requests')).requests.map((r) => r.requestId));
  const allowed = new Set(['at', 'service', 'method', 'path', 'status', 'latencyMs', 'attempt', 'requestId', 'errorCode']);
  for (const item of items) {
    for (const key of Object.keys(item)) expect(allowed.has(key)).toBe(true);
    expect(item.method).toMatch(/^(GET|POST|PUT|PATCH|DELETE)$/);
    expect(item.path).toMatch(/^\//);
    expect(typeof item.status).toBe('number');
    expect(item.latencyMs).toBeGreaterThanOrEqual(0);
    expect(item.requestId).toEqual(expect.any(String));
    expect((item.service === 'sequence' ? sequenceIds : sphereIds).has(item.requestId)).toBe(true);
  }

  const stored = await h.deps.audit.list(h.connection.id, 500);
  const raw = JSON.stringify(stored) + JSON.stringify(answer.body);
  for (const secret of [SPHERE_KEY, h.sequence.clientSecret, h.webhookSecret, Buffer.from(`${h.sequence.clientId}:${h.sequence.clientSecret}`).toString('base64')]) {
    expect(raw).not.toContain(secret);
  }
  expect(raw).not.toMatch(/"(body|headers|authorization|x-api-key)"/i);
  expect(raw).not.toContain('Audit Trail Inc'); // customer data from a response body
});
