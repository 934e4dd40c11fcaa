/**
 * The sync flow's ensure step (shared/sync/ensure.ts) on in-memory ports: a customer or product is
 * written to Sphere when it is new or changed, never again while it is the same; the Sequence
 * customer is tagged once; a tax-treatment change is announced once. The emulator suite is
 * test/integration/sync/customer-sync.test.ts.
 */
import { SIM_TAX_CATEGORY_IDS } from '../../../local/sequence-sim/store';
import { customerToRequest } from '../../../shared/sequence';
import { ensureCustomerInSphere, ensureProductsInSphere, SPHERE_INTEGRATION_SERVICE } from '../../../shared/sync/ensure';
import { type FakeWorld, SPHERE_CODES, fakeWorld } from '../../support/fakes';

const SACRAMENTO = { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' };
const SEATTLE = { line1: '400 Broad St', town: 'Seattle', state: 'WA', postcode: '98109', country: 'US' };

let w: FakeWorld;

beforeEach(() => {
  w = fakeWorld();
});

const sphereCustomerWrites = () => w.sphere.callsTo('POST /v1/customers');
const sphereProductWrites = () => w.sphere.callsTo('POST /v1/products');

/** What a merchant does in Sequence: a full PUT of the customer with `changes`. */
function editCustomer(customerId: string, changes: Record<string, unknown>): void {
  const r = w.sequence.resources;
  r.customers.update(customerId, { ...customerToRequest(r.customers.get(customerId)), ...changes });
}

it('creates the customer in Sphere once, tags it in Sequence once, then writes nothing while it is unchanged', async () => {
  const customer = w.seed.customer('Capitol Widgets', SACRAMENTO);

  const first = await ensureCustomerInSphere(w.deps, w.connection, w.clients, customer.id);
  const second = await ensureCustomerInSphere(w.deps, w.connection, w.clients, customer.id);

  expect(first).toMatchObject({ changed: true, sphereCustomerId: customer.id });
  expect(second).toMatchObject({ changed: false, sphereCustomerId: customer.id });
  expect(sphereCustomerWrites()).toHaveLength(1);
  expect(w.sphere.customers.get(customer.id)).toMatchObject({ billingAddress: { city: 'Sacramento', state: 'CA', postalCode: '95814', country: 'US' } });
  expect(w.sequence.callsTo(`PUT /customers/${customer.id}`)).toHaveLength(1);
  expect(w.sequence.resources.customers.get(customer.id).integrationIds).toContainEqual(expect.objectContaining({ service: SPHERE_INTEGRATION_SERVICE, id: customer.id }));
  expect(await w.links.getCustomer(w.connection.id, customer.id)).toMatchObject({ sphereCustomerId: customer.id, tagged: true, taxStatus: 'TAXED' });
  expect(w.connections.count(w.connection.id, 'customersSynced')).toBe(1);
});

it('updates the Sphere customer when Sequence changes it, and only then', async () => {
  const customer = w.seed.customer('Capitol Widgets', SACRAMENTO);
  await ensureCustomerInSphere(w.deps, w.connection, w.clients, customer.id);
  editCustomer(customer.id, { address: SEATTLE });

  const changed = await ensureCustomerInSphere(w.deps, w.connection, w.clients, customer.id);
  const unchanged = await ensureCustomerInSphere(w.deps, w.connection, w.clients, customer.id);

  expect([changed.changed, unchanged.changed]).toEqual([true, false]);
  expect(sphereCustomerWrites()).toHaveLength(2);
  expect(w.sphere.customers.get(customer.id)!.billingAddress).toMatchObject({ city: 'Seattle', state: 'WA' });
  expect(w.sequence.callsTo(`PUT /customers/${customer.id}`)).toHaveLength(1);
});

it('announces a change of tax treatment once, so open drafts are re-taxed', async () => {
  const customer = w.seed.customer('Capitol Widgets', SACRAMENTO);
  await ensureCustomerInSphere(w.deps, w.connection, w.clients, customer.id);
  editCustomer(customer.id, { taxStatus: 'TAX_EXEMPT' });

  await ensureCustomerInSphere(w.deps, w.connection, w.clients, customer.id);
  await ensureCustomerInSphere(w.deps, w.connection, w.clients, customer.id);

  expect(w.queues.on('exemptions')).toEqual([
    expect.objectContaining({ kind: 'exemption_changed', connectionId: w.connection.id, customerId: customer.id, previousTaxStatus: 'TAXED', taxStatus: 'TAX_EXEMPT' }),
  ]);
  expect(w.sphere.customers.get(customer.id)!.exemptionStatus).toBe('exempt');
});

it('creates each product once with the code its tax category maps to, and rewrites only the one whose code changes', async () => {
  const saas = w.seed.product('Cloud seat', 'USD', SIM_TAX_CATEGORY_IDS.saas).product;
  const plain = w.seed.product('Onboarding', 'USD').product;
  const ids = [saas.id, plain.id];

  const first = await ensureProductsInSphere(w.deps, w.connection, w.clients, ids);
  await ensureProductsInSphere(w.deps, w.connection, w.clients, ids);
  expect(sphereProductWrites()).toHaveLength(2);
  expect([...first.values()].map((p) => p.taxCode)).toEqual([SPHERE_CODES.electronicServices, SPHERE_CODES.electronicServices]);

  const remapped = { ...w.connection, taxCodes: { default: SPHERE_CODES.electronicServices, byTaxCategory: { [SIM_TAX_CATEGORY_IDS.saas]: SPHERE_CODES.saasBusiness } } };
  const after = await ensureProductsInSphere(w.deps, remapped, w.clients, ids);

  expect(sphereProductWrites()).toEqual(['POST /v1/products', 'POST /v1/products', 'POST /v1/products']);
  expect(w.sphere.products.get(saas.id)!.taxCode).toBe(SPHERE_CODES.saasBusiness);
  expect(after.get(saas.id)).toMatchObject({ sphereProductId: saas.id, taxCode: SPHERE_CODES.saasBusiness, taxCategoryId: SIM_TAX_CATEGORY_IDS.saas });
  expect(w.sphere.products.get(plain.id)!.taxCode).toBe(SPHERE_CODES.electronicServices);
  expect(w.connections.count(w.connection.id, 'productsSynced')).toBe(3);
});
