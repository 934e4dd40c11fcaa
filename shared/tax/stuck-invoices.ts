/**
 * The reconcile's invoice sweep: invoices whose tax or transaction record a lost webhook or a
 * long outage left behind, queued on the invoice-tax queue like any other message (the worker then
 * re-reads them and does only what is missing; a message for an invoice that needs nothing is a
 * cheap no-op).
 *
 *  - a DRAFT with no tax record (INVOICE_CREATED never arrived), when tax is calculated on drafts;
 *  - a DRAFT whose last calculation FAILED for a retryable reason (Sphere or Sequence was down
 *    until the message's retries ran out). Failures the merchant must fix wait for their retry;
 *  - a DRAFT taxed for a customer treatment that is no longer the customer's: its record's tax
 *    status or registrations differ from the customer link's (the connector synced the change,
 *    but the exemption message that re-taxes open drafts was lost), or the draft changed customer;
 *  - a FINAL or SENT invoice with no transaction in Sphere (a finalisation done in Sequence while
 *    the webhook was lost), when transactions are recorded: the filing must not miss it;
 *  - a VOIDED invoice whose transaction is still recorded (the void's webhook was lost).
 *
 * Sequence lists newest first, so the sweep reads the newest `MAX_PAGES_PER_STATUS` pages of each
 * status: an hourly sweep over recent invoices, not a walk through years of history.
 */
import { nativeLinkBlocksTransactions } from '../domain/native-integration';
import { type Connection } from '../domain/connection';
import { customerTreatmentDrifted } from '../domain/invoice-tax';
import { type ConnectorConfig } from '../runtime/config';
import { type FlowLogger, type QueueSender } from '../runtime/ports';
import { perResource } from '../runtime/queue-messages';
import { type InvoiceStatus, type SequenceClient } from '../sequence';
import { type CustomerLink } from '../store/links';
import { type SphereLinkStore, type TaxRecordStore, type TransactionStore } from '../store/ports';

/** What the sweep reads (the invoice's records, the customer's link) and where it queues. */
export interface StuckInvoiceDeps {
  config: Pick<ConnectorConfig, 'queueUrls'>;
  taxRecords: Pick<TaxRecordStore, 'get'>;
  transactions: Pick<TransactionStore, 'get'>;
  links: Pick<SphereLinkStore, 'getCustomer'>;
  queues: QueueSender;
  logger: FlowLogger;
}

export interface StuckInvoiceClients {
  sequence: Pick<SequenceClient, 'invoicePages'>;
}

export const MAX_PAGES_PER_STATUS = 10;

export interface StuckInvoiceCounts {
  invoicesChecked: number;
  invoicesQueued: number;
}

type Verdict = (connection: Connection, invoice: { id: string; customerId: string }) => Promise<boolean>;

export async function queueStuckInvoices(deps: StuckInvoiceDeps, connection: Connection, clients: StuckInvoiceClients, stamp: string): Promise<StuckInvoiceCounts> {
  const { taxRecords, transactions, links } = deps;
  const counts: StuckInvoiceCounts = { invoicesChecked: 0, invoicesQueued: 0 };
  if (!deps.config.queueUrls.invoiceTax) return counts;

  // Many drafts share a customer: read each customer's link once per sweep.
  const customerLinks = new Map<string, Promise<CustomerLink | undefined>>();
  const customerLink = (c: Connection, customerId: string) => {
    if (!customerLinks.has(customerId)) customerLinks.set(customerId, links.getCustomer(c.id, customerId));
    return customerLinks.get(customerId)!;
  };

  const draftIsStuck: Verdict = async (c, invoice) => {
    const record = await taxRecords.get(c.id, invoice.id);
    if (!record) return c.options.calculateOnDraft;
    if (record.status === 'FAILED') return record.retryable === true;
    return customerTreatmentDrifted(record, invoice.customerId, await customerLink(c, invoice.customerId));
  };
  const finalIsUnrecorded: Verdict = async (c, invoice) => (await transactions.get(c.id, invoice.id)) === undefined;
  const voidIsUncancelled: Verdict = async (c, invoice) => (await transactions.get(c.id, invoice.id))?.state === 'RECORDED';

  const sweeps: [InvoiceStatus, Verdict][] = [['DRAFT', draftIsStuck]];
  // While a native integration holds transactions back, finalised invoices wait (their failure record says why).
  if (connection.options.recordTransactions && !nativeLinkBlocksTransactions(connection)) sweeps.push(['FINAL', finalIsUnrecorded], ['SENT', finalIsUnrecorded], ['VOIDED', voidIsUncancelled]);

  const stuck: string[] = [];
  for (const [status, isStuck] of sweeps) {
    let pages = 0;
    for await (const page of clients.sequence.invoicePages({ status })) {
      for (const invoice of page.items) {
        if (invoice.status !== status) continue; // changed since the listing filtered it; the next sweep sees it
        counts.invoicesChecked += 1;
        if (await isStuck(connection, invoice)) stuck.push(invoice.id);
      }
      if (++pages >= MAX_PAGES_PER_STATUS) break;
    }
  }

  await deps.queues.sendMany(
    'invoiceTax',
    perResource(connection.id, stuck, `reconcile:${stamp}`, (invoiceId) => ({ kind: 'invoice' as const, connectionId: connection.id, trigger: 'reconcile' as const, invoiceId })),
  );
  counts.invoicesQueued = stuck.length;
  if (stuck.length > 0) deps.logger.info('Queued invoices a lost webhook or an outage left behind', { connectionId: connection.id, ...counts });
  return counts;
}
