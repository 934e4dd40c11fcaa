/**
 * The invoice-tax flow through the deployed wiring: every admin route served by the real
 * functions/connect/handler.ts as local/wiring.ts mounts it (not the test-only admin-tax fixture),
 * and Sequence's signed webhooks (the connector's own policy, every consumed notification type)
 * through the real webhook ingest into the queue workers.
 */
import { CONSUMED_NOTIFICATION_TYPES } from '../../../shared/webhooks/routing';
import { TransactionRepository } from '../../../shared/store/transactions';
import { routes as deployedRoutes } from '../../../local/wiring';
import {
  CATEGORY,
  type TaxHarness,
  admin,
  customerBody,
  priceBody,
  registerWebhooks,
  seed,
  settle,
  sphereTransactions,
  startTaxHarness,
  waitFor,
} from './harness';

let h: TaxHarness;
let transactions: TransactionRepository;

beforeAll(async () => {
  h = await startTaxHarness({ routes: deployedRoutes });
  transactions = new TransactionRepository(h.deps.db, h.deps.config.connectorTableName);
  // As POST /connections leaves it: its webhook policy registered (so PATCH only updates).
  const policyId = await registerWebhooks(h, [...CONSUMED_NOTIFICATION_TYPES]);
  await h.deps.connections.update(h.connection.id, { notificationPolicyId: policyId });
});

afterAll(async () => {
  await h?.stop();
});

const SACRAMENTO = { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' };

const base = () => `/connections/${h.connection.id}`;

async function seedTaxedInvoice(name: string): Promise<string> {
  const seeded = await seed(h, {
    customers: [customerBody(name, SACRAMENTO)],
    products: [{ name: `${name} plan`, taxCategoryId: CATEGORY.saas }],
    prices: [priceBody('$products[0]', 'USD')],
    invoices: [{ customerId: '$customers[0]', currency: 'USD', lineItems: [{ title: 'Plan', quantity: '1', rate: '120.00', taxRate: '0', priceId: '$prices[0]' }] }],
  });
  return seeded.invoices[0]!.id;
}

async function connectionOptions(): Promise<Record<string, unknown>> {
  const response = await admin<{ options: Record<string, unknown> }>(h, 'GET', base());
  expect(response.status).toBe(200);
  return response.body.options;
}

async function recordedCount(): Promise<number> {
  return (await h.deps.connections.get(h.connection.id))!.counts.transactionsRecorded;
}

it('records no Sphere transaction while recordTransactions is off (PATCH options), and records the next one once it is back on', async () => {
  const off = await admin<{ options: Record<string, unknown> }>(h, 'PATCH', base(), { options: { recordTransactions: false } });
  expect(off.status).toBe(200);
  expect(off.body.options).toEqual({ recordTransactions: false, calculateOnDraft: true });

  const unrecordedId = await seedTaxedInvoice('Not Recorded Yet Inc');
  const recordedBefore = await recordedCount();
  const finalized = await admin<{ invoice: { status: string } }>(h, 'POST', `${base()}/invoices/${unrecordedId}/finalize`);
  expect(finalized.status).toBe(200);
  expect(finalized.body.invoice.status).toBe('FINAL');
  // The FINAL invoice reached the worker twice: the connector's own queued record and the INVOICE_UPDATED webhook.
  await waitFor('FINAL notification delivered', () =>
    h.sequence.deliveries.some((d) => d.state === 'delivered' && d.resourceId === unrecordedId && d.body.includes('"status":"FINAL"')),
  );
  await settle(h);
  expect((await sphereTransactions(h)).filter((t) => t.external_id === unrecordedId)).toEqual([]);
  expect(await transactions.get(h.connection.id, unrecordedId)).toBeUndefined();
  expect(await recordedCount()).toBe(recordedBefore);

  const on = await admin<{ options: Record<string, unknown> }>(h, 'PATCH', base(), { options: { recordTransactions: true } });
  expect(on.status).toBe(200);
  expect(await connectionOptions()).toEqual({ recordTransactions: true, calculateOnDraft: true });

  const nextId = await seedTaxedInvoice('Recorded Again Ltd');
  expect((await admin(h, 'POST', `${base()}/invoices/${nextId}/finalize`)).status).toBe(200);
  const txn = await waitFor('debit transaction', async () => (await sphereTransactions(h)).find((t) => t.external_id === nextId));
  await settle(h);
  expect(txn).toMatchObject({ type: 'debit', status: 'finalized', tax: '8.70' });
  expect(await transactions.get(h.connection.id, nextId)).toMatchObject({ state: 'RECORDED', type: 'debit' });
  expect(await recordedCount()).toBe(recordedBefore + 1);
});
