/**
 * The reconcile's invoice sweep (shared/tax/stuck-invoices.ts) on in-memory ports: a draft taxed
 * for a customer treatment the customer no longer has (its exemption message was lost) is queued
 * for re-tax; a draft whose tax is still right is not. The emulator suite is
 * test/integration/sync/reconcile.test.ts.
 */
import { SIM_TAX_CATEGORY_IDS } from '../../../local/sequence-sim/store';
import { customerToRequest } from '../../../shared/sequence';
import { ensureCustomerInSphere } from '../../../shared/sync/ensure';
import { calculateInvoiceTax } from '../../../shared/tax/calculate';
import { queueStuckInvoices } from '../../../shared/tax/stuck-invoices';
import { type FakeWorld, SPHERE_CODES, fakeWorld } from '../../support/fakes';

const SACRAMENTO = { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' };

let w: FakeWorld;

beforeEach(() => {
  w = fakeWorld({ taxCodes: { default: SPHERE_CODES.electronicServices, byTaxCategory: { [SIM_TAX_CATEGORY_IDS.saas]: SPHERE_CODES.saasBusiness } } });
});

/** A calculated draft of one SaaS line for a new Sacramento customer. */
async function taxedDraft(legalName: string) {
  const customer = w.seed.customer(legalName, SACRAMENTO);
  const { priceId } = w.seed.product(`${legalName} seat`, 'USD', SIM_TAX_CATEGORY_IDS.saas);
  const invoice = w.seed.invoice(customer.id, 'USD', [{ title: 'Seats', quantity: '2', rate: '19.99', priceId }]);
  await calculateInvoiceTax(w.ctx, w.connection, invoice.id);
  return { customerId: customer.id, invoiceId: invoice.id };
}

it('queues for re-tax only the draft whose customer became exempt after it was taxed', async () => {
  const drifted = await taxedDraft('Capitol Widgets');
  // A second customer's draft, taxed for the treatment it still has: nothing to do.
  await taxedDraft('River Supplies');
  // The customer turns exempt and the connector syncs it, but the exemption message that re-taxes its drafts is lost.
  const customers = w.sequence.resources.customers;
  customers.update(drifted.customerId, { ...customerToRequest(customers.get(drifted.customerId)), taxStatus: 'TAX_EXEMPT' });
  await ensureCustomerInSphere(w.deps, w.connection, w.clients, drifted.customerId);
  expect(await w.links.getCustomer(w.connection.id, drifted.customerId)).toMatchObject({ taxStatus: 'TAX_EXEMPT' });

  const counts = await queueStuckInvoices({ ...w.deps, taxRecords: w.taxRecords, transactions: w.transactions }, w.connection, { sequence: w.sequence }, '2026-01-01T00:00:00.000Z');

  expect(counts).toEqual({ invoicesChecked: 2, invoicesQueued: 1 });
  expect(w.queues.on('invoiceTax')).toEqual([{ kind: 'invoice', connectionId: w.connection.id, trigger: 'reconcile', invoiceId: drifted.invoiceId }]);
});
