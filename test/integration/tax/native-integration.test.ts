/**
 * Never run beside the native integrations (issue 13 §5): Sequence's own Sphere tax integration or
 * Sphere's own Sequence connector tags customers with a Sphere integration id the connector did not
 * write. Connect, "Test credentials" and the hourly reconcile show it as a connection warning, and no
 * Sphere transaction is recorded (a visible failure says why) until the operator confirms with
 * options.allowBesideNativeIntegration. The connector's own tags (a reconnect) are no such sign.
 * Everything goes through the deployed admin routes (local/wiring.ts), against both simulators.
 */
import { type FailureView } from '../../../shared/failures';
import { reconcileConnection } from '../../../shared/sync/reconcile';
import { ADDRESSES, customerBody, invoiceSeed, SPHERE_KEY, TAX_CODES, useTaxHarness } from './harness';
import { eventually } from '../../support/eventually';

const h = useTaxHarness({ productSync: true });

const { SACRAMENTO } = ADDRESSES;
const NATIVE_CODE = 'native_sphere_integration_detected';

interface Warning {
  code: string;
  message: string;
  evidence: { resourceType: string; resourceId: string; found: string }[];
}
interface ConnectionBody {
  id: string;
  status: string;
  options: Record<string, unknown>;
  warnings: Warning[];
}
/** An item of GET …/failures, as the route answers it. */
type FailureItem = FailureView;

/** The connection currently live for the simulator's Sequence account (the harness's, then each reconnect). */
let connectionId = '';

async function connect(name: string): Promise<ConnectionBody> {
  const response = await h.admin.call<ConnectionBody>('POST', '/connections', {
    name,
    sequence: { environment: 'sandbox', clientId: h.sequence.clientId, clientSecret: h.sequence.clientSecret, baseUrl: h.sequence.apiUrl },
    sphere: { apiKey: SPHERE_KEY, baseUrl: h.sphere.url },
    taxCodes: TAX_CODES,
  });
  expect(response.status).toBe(201);
  connectionId = response.body.id;
  return response.body;
}

async function disconnect(): Promise<void> {
  const response = await h.admin.call('DELETE', `/connections/${connectionId}`);
  expect(response.status).toBe(200);
  await h.settle();
}

async function seedInvoice(name: string, integrationIds: { service: string; id: string }[] = []): Promise<{ invoiceId: string; customerId: string }> {
  const seeded = await h.seed(invoiceSeed({ customer: { ...customerBody(name, SACRAMENTO), integrationIds }, lines: [{ title: 'Plan', quantity: '1', rate: '120.00' }] }));
  return { invoiceId: seeded.invoices[0]!.id, customerId: seeded.customers[0]! };
}

async function finalize(invoiceId: string): Promise<void> {
  const finalized = await h.admin.call<{ invoice: { status: string } }>('POST', `/connections/${connectionId}/invoices/${invoiceId}/finalize`);
  expect(finalized.status).toBe(200);
  expect(finalized.body.invoice.status).toBe('FINAL');
  await h.settle();
}

async function failureOf(resourceId: string): Promise<FailureItem | undefined> {
  return (await h.admin.call<{ items: FailureItem[] }>('GET', `/connections/${connectionId}/failures`)).body.items.find((f) => f.resourceId === resourceId);
}

async function recordedInSphere(invoiceId: string): Promise<boolean> {
  return (await h.sphereTransactions()).some((t) => t.external_id === invoiceId);
}

it('a reconnect of the same account finds only the connector’s own tags: no warning, transactions recorded', async () => {
  connectionId = h.connection.id;
  const { invoiceId, customerId } = await seedInvoice('Own Tag Co');
  await finalize(invoiceId); // syncs and tags the customer with the connector's own Sphere id
  await eventually('the debit transaction', () => recordedInSphere(invoiceId));
  const customer = await h.sequenceApi<{ integrationIds: { service: string; id: string }[] }>('GET', `/customers/${customerId}`);
  expect(customer.integrationIds).toContainEqual(expect.objectContaining({ service: 'Sphere', id: customerId }));

  await disconnect();
  const reconnected = await connect('Own Tag Co again');
  expect(reconnected.status).toBe('ACTIVE');
  expect(reconnected.warnings).toEqual([]);
  const test = await h.admin.call<{ nativeIntegration: { ok: boolean } }>('POST', `/connections/${connectionId}/test`);
  expect(test.body.nativeIntegration).toMatchObject({ ok: true });
});

it('a customer tagged by a native integration: connect and "Test credentials" warn, no transaction is recorded until the operator confirms', async () => {
  const { invoiceId, customerId } = await seedInvoice('Natively Linked Inc', [{ service: 'Sphere', id: 'sphere_cus_native_42' }]);
  // The connect form's "Test credentials", before anything is saved, already says so.
  const before = await h.admin.call<{ nativeIntegration: { ok: boolean; code: string } }>('POST', '/connections/test-credentials', {
    sequence: { environment: 'sandbox', clientId: h.sequence.clientId, clientSecret: h.sequence.clientSecret, baseUrl: h.sequence.apiUrl },
    sphere: { apiKey: SPHERE_KEY, baseUrl: h.sphere.url },
  });
  expect(before.status).toBe(200);
  expect(before.body.nativeIntegration).toMatchObject({ ok: false, code: NATIVE_CODE });
  await disconnect();
  const connected = await connect('Beside native');
  expect(connected.warnings).toEqual([
    expect.objectContaining({
      code: NATIVE_CODE,
      message: expect.stringContaining('allowBesideNativeIntegration'),
      evidence: [{ resourceType: 'customer', resourceId: customerId, found: expect.stringContaining('sphere_cus_native_42') }],
    }),
  ]);
  expect((await h.admin.call<ConnectionBody>('GET', `/connections/${connectionId}`)).body.warnings).toEqual(connected.warnings);
  const test = await h.admin.call<{ nativeIntegration: { ok: boolean; code: string } }>('POST', `/connections/${connectionId}/test`);
  expect(test.body.nativeIntegration).toMatchObject({ ok: false, code: NATIVE_CODE });

  // Finalised: tax is written, but Sphere gets no transaction, and the failure says why.
  await finalize(invoiceId);
  const failure = await eventually('the held-back transaction', () => failureOf(invoiceId));
  expect(failure).toMatchObject({ code: NATIVE_CODE, reason: expect.stringContaining('Not recorded in Sphere'), fix: expect.stringContaining('allowBesideNativeIntegration') });
  expect(await recordedInSphere(invoiceId)).toBe(false);
  // The connector left the native integration's tag alone.
  const customer = await h.sequenceApi<{ integrationIds: { service: string; id: string }[] }>('GET', `/customers/${customerId}`);
  expect(customer.integrationIds.map((i) => i.id)).toEqual(['sphere_cus_native_42']);

  // The hourly reconcile still sees it, and its stuck-invoice sweep does not queue the held-back invoice.
  const swept = await reconcileConnection(h.deps, (await h.deps.connections.get(connectionId))!, { verifySphere: false });
  expect(swept).toMatchObject({ nativeIntegrationDetected: true, invoicesQueued: 0 });

  // The operator confirms running beside it and retries: recorded.
  const patched = await h.admin.call<ConnectionBody>('PATCH', `/connections/${connectionId}`, { options: { allowBesideNativeIntegration: true } });
  expect(patched.status).toBe(200);
  expect(patched.body.options).toMatchObject({ allowBesideNativeIntegration: true });
  expect(patched.body.warnings).toEqual([expect.objectContaining({ code: NATIVE_CODE })]);
  expect((await h.admin.call('POST', `/connections/${connectionId}/failures/retry`, { resourceType: 'invoice', resourceId: invoiceId })).status).toBe(202);
  await h.settle();
  await eventually('the debit transaction once confirmed', () => recordedInSphere(invoiceId));
  expect(await failureOf(invoiceId)).toBeUndefined();
});

it('the reconcile removes the warning once the native tag is gone, and an invoice linked to Sphere by another service raises it again', async () => {
  const state = await h.sequenceApi<{ items: { id: string; integrationIds: { service: string; id: string }[] }[] }>('GET', '/customers?limit=100');
  const native = state.items.find((c) => c.integrationIds.some((i) => i.service === 'Sphere' && i.id === 'sphere_cus_native_42'))!;
  await untag(native.id);
  const cleared = await reconcileConnection(h.deps, (await h.deps.connections.get(connectionId))!, { verifySphere: false });
  expect(cleared.nativeIntegrationDetected).toBe(false);
  expect((await h.admin.call<ConnectionBody>('GET', `/connections/${connectionId}`)).body.warnings).toEqual([]);

  const seeded = await h.seed({
    customers: [customerBody('Linked Invoice Ltd', SACRAMENTO)],
    invoices: [{ customerId: '$customers[0]', currency: 'USD', linkedServices: [{ externalId: 'sphere_txn_7', externalService: 'Sphere', syncTime: '2026-01-01T00:00:00Z' }] }],
  });
  const test = await h.admin.call<{ nativeIntegration: { ok: boolean; code: string }; connection: ConnectionBody }>('POST', `/connections/${connectionId}/test`);
  expect(test.body.nativeIntegration).toMatchObject({ ok: false, code: NATIVE_CODE });
  expect(test.body.connection.warnings).toEqual([
    expect.objectContaining({ code: NATIVE_CODE, evidence: [{ resourceType: 'invoice', resourceId: seeded.invoices[0]!.id, found: 'linkedServices: Sphere "sphere_txn_7"' }] }),
  ]);
});

/** The merchant removes the native integration's tag from a customer (a full PUT without it). */
async function untag(customerId: string): Promise<void> {
  const current = await h.sequenceApi<{ legalName: string; address: Record<string, string | null>; contacts: Record<string, unknown>[]; taxStatus: string }>('GET', `/customers/${customerId}`);
  const address = Object.fromEntries(Object.entries(current.address).filter(([, v]) => v !== null)) as Record<string, string>;
  await h.sequenceApi('PUT', `/customers/${customerId}`, {
    ...customerBody(current.legalName, address, current.taxStatus),
    contacts: current.contacts.map((c) => ({ name: c.name, email: c.email, billingPreference: c.billingPreference })),
    integrationIds: [],
  });
}
