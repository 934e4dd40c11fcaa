/**
 * The reconcile's invoice sweep: invoices whose tax or transaction record a lost webhook or a
 * long outage left behind, queued on the invoice-tax queue like any other message (the worker then
 * re-reads them and does only what is missing; a message for an invoice that needs nothing is a
 * cheap no-op).
 *
 *  - a DRAFT with no tax record (INVOICE_CREATED never arrived), when tax is calculated on drafts;
 *  - a DRAFT whose last calculation FAILED for a retryable reason (Sphere or Sequence was down
 *    until the message's retries ran out). Failures the merchant must fix wait for their retry;
 *  - a FINAL or SENT invoice with no transaction in Sphere (a finalisation done in Sequence while
 *    the webhook was lost), when transactions are recorded: the filing must not miss it;
 *  - a VOIDED invoice whose transaction is still recorded (the void's webhook was lost).
 *
 * Sequence lists newest first, so the sweep reads the newest `MAX_PAGES_PER_STATUS` pages of each
 * status: an hourly sweep over recent invoices, not a walk through years of history.
 */
import { type Connection } from '../domain/connection';
import { type Dependencies, type UpstreamClients } from '../runtime/dependencies';
import { messageGroupId } from '../runtime/queue-messages';
import { type InvoiceStatus } from '../sequence';
import { taxContext } from './context';

export const MAX_PAGES_PER_STATUS = 10;

export interface StuckInvoiceCounts {
  invoicesChecked: number;
  invoicesQueued: number;
}

type Verdict = (connection: Connection, invoiceId: string) => Promise<boolean>;

export async function queueStuckInvoices(deps: Dependencies, connection: Connection, clients: UpstreamClients, stamp: string): Promise<StuckInvoiceCounts> {
  const { taxRecords, transactions } = taxContext(deps);
  const counts: StuckInvoiceCounts = { invoicesChecked: 0, invoicesQueued: 0 };
  if (!deps.config.queueUrls.invoiceTax) return counts;

  const draftIsStuck: Verdict = async (c, id) => {
    const record = await taxRecords.get(c.id, id);
    if (!record) return c.options.calculateOnDraft;
    return record.status === 'FAILED' && record.retryable === true;
  };
  const finalIsUnrecorded: Verdict = async (c, id) => (await transactions.get(c.id, id)) === undefined;
  const voidIsUncancelled: Verdict = async (c, id) => (await transactions.get(c.id, id))?.state === 'RECORDED';

  const sweeps: [InvoiceStatus, Verdict][] = [['DRAFT', draftIsStuck]];
  if (connection.options.recordTransactions) sweeps.push(['FINAL', finalIsUnrecorded], ['SENT', finalIsUnrecorded], ['VOIDED', voidIsUncancelled]);

  const stuck: string[] = [];
  for (const [status, isStuck] of sweeps) {
    let pages = 0;
    for await (const page of clients.sequence.invoicePages({ status })) {
      for (const invoice of page.items) {
        if (invoice.status !== status) continue; // changed since the listing filtered it; the next sweep sees it
        counts.invoicesChecked += 1;
        if (await isStuck(connection, invoice.id)) stuck.push(invoice.id);
      }
      if (++pages >= MAX_PAGES_PER_STATUS) break;
    }
  }

  await deps.queues.sendMany(
    'invoiceTax',
    stuck.map((invoiceId) => ({
      message: { kind: 'invoice' as const, connectionId: connection.id, trigger: 'reconcile' as const, invoiceId },
      groupId: messageGroupId(connection.id, invoiceId),
      deduplicationId: `reconcile:${stamp}:${invoiceId}`.slice(0, 128),
    })),
  );
  counts.invoicesQueued = stuck.length;
  if (stuck.length > 0) deps.logger.info('Queued invoices a lost webhook or an outage left behind', { connectionId: connection.id, ...counts });
  return counts;
}
