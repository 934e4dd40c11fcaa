/**
 * What the invoice-tax queue worker does with one message. Workers re-read the document's current
 * state from Sequence instead of trusting the event:
 *  - invoice DRAFT → calculate (when the connection calculates on drafts, or an operator/retry or a
 *    customer's tax-status change asked for it), then finalise when an admin "finalise with tax"
 *    was handed over (`finalize`: its line writes outlasted the request); IN_PROGRESS → nothing yet;
 *  - invoice FINAL/SENT → record the debit transaction once; VOIDED → cancel it;
 *  - credit note FINAL/SENT ("issued") → record the credit; VOIDED → cancel it; DRAFT → nothing.
 * A document that no longer exists (a deleted draft) is dropped with a log line.
 */
import { type Connection } from '../domain/connection';
import { type CreditNoteMessage, type InvoiceMessage } from '../runtime/queue-messages';
import { afterCallsLeave } from '../runtime/concurrency';
import { SequenceNotFoundError } from '../sequence';
import { calculateDraftInvoice, finalizeAfterCalculation, withInvoiceLease } from './calculate';
import { type TaxClients, type TaxContext } from './context';
import { cancelTransaction, recordCreditNote, recordInvoiceTransaction } from './transactions';

export type InvoiceTaxMessage = InvoiceMessage | CreditNoteMessage;

export type MessageOutcome =
  | 'calculated'
  | 'unchanged'
  | 'finalized'
  | 'calculation_off'
  | 'not_ready'
  | 'recorded'
  | 'already_recorded'
  | 'cancelled'
  | 'nothing_to_cancel'
  | 'skipped'
  | 'gone';

async function readOrGone<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof SequenceNotFoundError) return undefined;
    throw error;
  }
}

function fromTransaction(action: string): MessageOutcome {
  switch (action) {
    case 'recorded':
      return 'recorded';
    case 'already_done':
      return 'already_recorded';
    case 'cancelled':
      return 'cancelled';
    case 'nothing_to_cancel':
      return 'nothing_to_cancel';
    default:
      return 'skipped';
  }
}

async function processInvoice(ctx: TaxContext, connection: Connection, clients: TaxClients, message: InvoiceMessage): Promise<MessageOutcome> {
  const reading = readOrGone(() => clients.sequence.getInvoice(message.invoiceId));
  // Beside the invoice (under the lease): a draft's calculation reads what the record foresees with its lines.
  const stored = afterCallsLeave(() => ctx.taxRecords.get(connection.id, message.invoiceId));
  stored.catch(() => undefined);
  const invoice = await reading;
  if (!invoice) {
    ctx.deps.logger.info('Invoice no longer exists; nothing to do', { connectionId: connection.id, invoiceId: message.invoiceId });
    return 'gone';
  }
  switch (invoice.status) {
    case 'DRAFT': {
      const asked = message.trigger === 'admin' || message.trigger === 'retry' || message.trigger === 'redrive';
      const taxedBefore = message.trigger === 'exemption_change' && (await stored) !== undefined;
      if (!connection.options.calculateOnDraft && !asked && !taxedBefore) return 'calculation_off';
      const outcome = await calculateDraftInvoice(ctx, connection, clients, invoice, { stored });
      if (message.finalize) {
        await finalizeAfterCalculation(ctx, connection, clients, invoice.id, outcome.record);
        return 'finalized';
      }
      return outcome.calculated ? 'calculated' : 'unchanged';
    }
    case 'FINAL':
    case 'SENT':
      return fromTransaction((await recordInvoiceTransaction(ctx, connection, clients, invoice)).action);
    case 'VOIDED':
      return fromTransaction((await cancelTransaction(ctx, connection, clients, { id: invoice.id, kind: 'invoice' })).action);
    default:
      return 'not_ready';
  }
}

async function processCreditNote(ctx: TaxContext, connection: Connection, clients: TaxClients, message: CreditNoteMessage): Promise<MessageOutcome> {
  const creditNote = await readOrGone(() => clients.sequence.getCreditNote(message.creditNoteId));
  if (!creditNote) return 'gone';
  switch (creditNote.status) {
    case 'FINAL':
    case 'SENT':
      return fromTransaction((await recordCreditNote(ctx, connection, clients, creditNote)).action);
    case 'VOIDED':
      return fromTransaction((await cancelTransaction(ctx, connection, clients, { id: creditNote.id, kind: 'credit_note' })).action);
    default:
      return 'not_ready';
  }
}

export async function processInvoiceTaxMessage(ctx: TaxContext, connection: Connection, message: InvoiceTaxMessage): Promise<MessageOutcome> {
  if (message.kind === 'invoice') {
    // Under the invoice's lease, so an admin calculation or finalisation in flight finishes first
    // and this message then reads its result (usually: unchanged, nothing to do).
    return withInvoiceLease(ctx, connection, message.invoiceId, (clients) => processInvoice(ctx, connection, clients, message));
  }
  return ctx.deps.withUpstream(connection, (clients) => processCreditNote(ctx, connection, clients, message));
}

/** The failure record a message's failure belongs to. */
export function invoiceTaxFailureTarget(message: InvoiceTaxMessage): { resourceType: 'invoice' | 'credit_note'; resourceId: string } {
  return message.kind === 'invoice' ? { resourceType: 'invoice', resourceId: message.invoiceId } : { resourceType: 'credit_note', resourceId: message.creditNoteId };
}
