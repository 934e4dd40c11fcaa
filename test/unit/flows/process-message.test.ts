/**
 * The invoice-tax worker's dispatch (shared/tax/process-message.ts) on in-memory ports: one
 * invoice's life from a webhook to Sphere and back, message by message. The emulator suites under
 * test/integration/tax/ run the same path through the queue and the real worker wrapper.
 */
import { SIM_TAX_CATEGORY_IDS } from '../../../local/sequence-sim/store';
import { type QueueMessage } from '../../../shared/runtime/catalogue';
import { processInvoiceTaxMessage } from '../../../shared/tax/process-message';
import { ingestWebhook } from '../../../shared/webhooks/ingest';
import { SIGNATURE_HEADER, signatureHeader } from '../../../shared/webhooks/signature';
import { FAKE_WEBHOOK_SECRET, type FakeWorld, fakeWorld } from '../../support/fakes';

const SACRAMENTO = { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' };

let w: FakeWorld;

beforeEach(() => {
  w = fakeWorld();
});

function draft() {
  const customer = w.seed.customer('Capitol Widgets', SACRAMENTO);
  const { priceId } = w.seed.product('Cloud seat', 'USD', SIM_TAX_CATEGORY_IDS.saas);
  return w.seed.invoice(customer.id, 'USD', [
    { title: 'Seats', quantity: '3', rate: '19.99', priceId },
    { title: 'Add-on', quantity: '1', rate: '1.05', priceId },
  ]);
}

const invoiceMessage = (invoiceId: string, trigger: 'webhook' | 'admin' = 'webhook'): QueueMessage<'invoiceTax'> => ({ kind: 'invoice', connectionId: w.connection.id, trigger, invoiceId });

/** Deliver what Sequence sent since `from` through ingest, as its webhooks would arrive. */
async function deliverEvents(from: number): Promise<void> {
  for (const event of w.sequence.events.slice(from)) {
    const resource = event.resourceType === 'Invoice' ? w.sequence.resources.invoices.get(event.resource.id) : { id: event.resource.id };
    const rawBody = Buffer.from(JSON.stringify({ notificationType: event.notificationType, sequenceAccountId: w.connection.sequenceAccountId, resourceType: event.resourceType, resource }));
    await ingestWebhook(w.deps, { connectionId: w.connection.id, headers: { [SIGNATURE_HEADER]: signatureHeader(FAKE_WEBHOOK_SECRET, rawBody) }, rawBody });
  }
}

it('calculates a draft, and the INVOICE_UPDATED its own line writes cause ends as a no-op', async () => {
  const invoice = draft();

  expect(await processInvoiceTaxMessage(w.ctx, w.connection, invoiceMessage(invoice.id))).toBe('calculated');
  expect(w.sequence.events.map((e) => e.notificationType)).toContain('INVOICE_UPDATED');
  await deliverEvents(0);
  const echoes = w.queues.on('invoiceTax');
  expect(echoes.length).toBeGreaterThan(0);
  const sphereCalls = w.sphere.calls.length;
  for (const echo of echoes) expect(await processInvoiceTaxMessage(w.ctx, w.connection, echo)).toBe('unchanged');
  expect(w.sphere.calls).toHaveLength(sphereCalls);
});

it('leaves drafts alone when the connection does not calculate on drafts, unless an operator asks', async () => {
  const invoice = draft();
  const off = { ...w.connection, options: { ...w.connection.options, calculateOnDraft: false } };

  expect(await processInvoiceTaxMessage(w.ctx, off, invoiceMessage(invoice.id))).toBe('calculation_off');
  expect(w.sphere.calls).toEqual([]);
  expect(await processInvoiceTaxMessage(w.ctx, off, invoiceMessage(invoice.id, 'admin'))).toBe('calculated');
});

it('records the finalised invoice once and cancels it when it is voided', async () => {
  const invoice = draft();
  await processInvoiceTaxMessage(w.ctx, w.connection, invoiceMessage(invoice.id));
  w.sequence.resources.invoices.finalize(invoice.id, { silent: true });

  expect(await processInvoiceTaxMessage(w.ctx, w.connection, invoiceMessage(invoice.id))).toBe('recorded');
  expect(await processInvoiceTaxMessage(w.ctx, w.connection, invoiceMessage(invoice.id))).toBe('already_recorded');
  w.sequence.resources.invoices.void(invoice.id, { silent: true });
  expect(await processInvoiceTaxMessage(w.ctx, w.connection, invoiceMessage(invoice.id))).toBe('cancelled');
  expect(w.sphere.transactions.get(invoice.id)!.transaction.status).toBe('cancelled');
});

it('drops the message of a draft deleted meanwhile, saying so', async () => {
  const invoice = draft();
  w.sequence.resources.invoices.delete(invoice.id);

  expect(await processInvoiceTaxMessage(w.ctx, w.connection, invoiceMessage(invoice.id))).toBe('gone');
  expect(w.logger.messages('info')).toContain('Invoice no longer exists; nothing to do');
  expect(w.sphere.calls).toEqual([]);
});

it('reads the customer a recalculated draft\'s record names with its lines, not after them (one wave fewer)', async () => {
  const invoice = draft();
  expect(await processInvoiceTaxMessage(w.ctx, w.connection, invoiceMessage(invoice.id))).toBe('calculated');
  const line = w.sequence.resources.invoices.lines(invoice.id)[0]!;
  w.sequence.resources.invoices.updateLine(invoice.id, line.id, { title: line.title, quantity: '4', rate: line.rate, priceId: line.priceId, taxRate: '0', externalIds: [] });
  // The line reads answer once the customer is asked for: asked before, it went out beside them.
  const held = w.sequence.holdLineReads();
  const customerAsked: { beside: boolean }[] = [];
  const readCustomer = w.sequence.getCustomer.bind(w.sequence);
  w.sequence.getCustomer = (id) => {
    customerAsked.push({ beside: !held.answered });
    held.release();
    return readCustomer(id);
  };

  expect(await processInvoiceTaxMessage(w.ctx, w.connection, invoiceMessage(invoice.id))).toBe('calculated');
  expect(customerAsked).toEqual([{ beside: true }]);
});
