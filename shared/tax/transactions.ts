/**
 * Recording finalised documents in Sphere (v1 Transaction API), once each:
 *  - an invoice turning FINAL or SENT → `POST /v1/transactions` type debit, finalized,
 *    external_id = the invoice id, one line per Sequence line (amount, product, quantity);
 *  - VOIDED → `POST /v1/transactions/{invoice id}/cancel` (404 = never recorded → nothing to cancel);
 *  - an issued credit note (FINAL/SENT) → type credit, external_id = the credit note id,
 *    original_transaction_id = the invoice id (the original is recorded first when it is not yet);
 *    a credit note created from scratch is a standalone credit without original_transaction_id.
 * Each line's Sphere product comes from ./line-products.ts, a credit line's through the invoice line
 * it refunds, so a refund is filed under the sale's product tax code. Both documents share one
 * recorder (`recordTransaction`); the two exported functions only gather their document's lines.
 * Idempotent by construction: deterministic external ids and bodies built only from the finalised
 * (immutable) document, so a retry is an identical upsert; the TXN# record skips work already done.
 * Everything here respects the connection's `recordTransactions` switch, and records nothing while a
 * native Sequence↔Sphere integration is detected unless the operator confirmed running beside it
 * (shared/domain/native-integration.ts): the document fails with `native_sphere_integration_detected`.
 */
import { type Connection } from '../domain/connection';
import { nativeLinkBlocksTransactions } from '../domain/native-integration';
import { type CurrencyCode } from '../domain/currency';
import { Decimal } from '../domain/decimal';
import { RetryableUpstreamError, UserActionRequiredError } from '../domain/errors';
import { type SequenceAddressLike, toSphereAddress } from '../domain/invoice-tax';
import { type CreditNote, type Invoice } from '../sequence';
import { SphereNotFoundError } from '../sphere';
import { type TransactionRecord } from '../store/transactions';
import { recordedTaxDifference } from '../domain/tax-write-check';
import { type TaxClients, type TaxContext } from './context';
import { resolveCreditLineProducts, resolveLineProducts } from './line-products';

export type TransactionOutcome =
  | { action: 'recorded' | 'cancelled' | 'nothing_to_cancel'; record: TransactionRecord }
  | { action: 'already_done'; record: TransactionRecord }
  | { action: 'skipped'; reason: 'recording_disabled' | 'no_lines' | 'not_issued' };

type DocumentKind = TransactionRecord['documentType'];

/** An invoice is recorded as a debit, a credit note as a credit against it. */
const TRANSACTION_TYPE: Record<DocumentKind, TransactionRecord['type']> = { invoice: 'debit', credit_note: 'credit' };

/** The finalised Sequence document a transaction records (both invoices and credit notes have these fields). */
interface RecordedDocument {
  id: string;
  status: string;
  customerId: string;
  currency: CurrencyCode;
  totalTax: string;
  issueDate?: string | null;
  accountingDate?: string | null;
}

interface TransactionLine {
  id: string;
  /** The Sphere product the line is filed as (shared/tax/line-products.ts). */
  productId: string;
  amount: string;
  quantity: string;
  description: string;
}

function isoDate(value: string | null | undefined): string | undefined {
  const date = value?.slice(0, 10);
  return date && /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : undefined;
}

function abs(amount: string): string {
  return new Decimal(amount).abs().toFixed();
}

/** Why nothing is to be recorded (switch off, not issued) or the record of it already done; undefined → record it. */
async function recordingNotNeeded(ctx: TaxContext, connection: Connection, document: RecordedDocument): Promise<TransactionOutcome | undefined> {
  if (!connection.options.recordTransactions) return { action: 'skipped', reason: 'recording_disabled' };
  if (document.status !== 'FINAL' && document.status !== 'SENT') return { action: 'skipped', reason: 'not_issued' };
  const existing = await ctx.transactions.get(connection.id, document.id);
  if (existing) return { action: 'already_done', record: existing };
  const native = nativeLinkBlocksTransactions(connection);
  if (native) {
    // Sphere would count the document twice (once from the native integration): hold it back, visibly.
    throw new UserActionRequiredError(native.code, `Not recorded in Sphere: ${native.message}`, {
      fix: `Disconnect the native Sequence↔Sphere integration, or PATCH /connections/${connection.id} with {"options":{"allowBesideNativeIntegration":true}}; then retry this failure`,
    });
  }
  return undefined;
}

/**
 * Create the finalized Sphere transaction of a document whose lines are resolved, and record it:
 * `address` is the document's billing address (the customer's when it has none).
 */
async function recordTransaction(
  ctx: TaxContext,
  connection: Connection,
  clients: TaxClients,
  input: { document: RecordedDocument; kind: DocumentKind; lines: TransactionLine[]; address: SequenceAddressLike | null | undefined; originalTransactionId?: string },
): Promise<TransactionOutcome> {
  const { deps } = ctx;
  const { document, kind, originalTransactionId } = input;
  const type = TRANSACTION_TYPE[kind];
  const ensured = await ctx.sync.ensureCustomer(deps, connection, clients, document.customerId);
  const transactionDate = isoDate(document.issueDate) ?? isoDate(document.accountingDate);
  const transaction = await clients.sphere.createTransaction({
    externalId: document.id,
    type,
    status: 'finalized',
    customerId: ensured.sphereCustomerId,
    currency: document.currency,
    ...(originalTransactionId ? { originalTransactionId } : {}),
    ...(transactionDate ? { transactionDate } : {}),
    customerAddress: toSphereAddress(input.address ?? ensured.customer.address),
    lineItems: input.lines,
  });
  const now = new Date().toISOString();
  const taxDifference = recordedTaxDifference(transaction.tax, document.totalTax);
  if (taxDifference) {
    deps.logger.warn('Sphere recorded other tax than the Sequence document shows', { documentId: document.id, sphereTax: transaction.tax, documentTax: document.totalTax, taxDifference });
    await deps.failures.recordWarning({
      connectionId: connection.id,
      resourceType: 'transaction',
      resourceId: document.id,
      code: 'sphere_recorded_tax_differs',
      message: `Sphere recorded ${transaction.tax ?? ''} ${document.currency} tax for ${kind === 'invoice' ? 'invoice' : 'credit note'} ${document.id}; the Sequence document shows ${document.totalTax} (difference ${taxDifference})`,
      fix: 'Check the document in Sequence (finalised without a calculation, or edited after it) and reconcile the filing in Sphere',
      details: { sphereTax: transaction.tax ?? '', documentTax: document.totalTax, taxDifference },
    });
  }
  const record: TransactionRecord = {
    documentId: document.id,
    documentType: kind,
    type,
    state: 'RECORDED',
    ...(originalTransactionId ? { originalTransactionId } : {}),
    currency: document.currency,
    ...(transaction.subtotal ? { subtotal: transaction.subtotal } : {}),
    ...(transaction.tax ? { tax: transaction.tax } : {}),
    ...(taxDifference ? { documentTax: document.totalTax, taxDifference } : {}),
    recordedAt: now,
    updatedAt: now,
  };
  if (await ctx.transactions.putRecorded(connection.id, record)) await deps.connections.increment(connection.id, 'transactionsRecorded', 1);
  deps.logger.info(kind === 'invoice' ? 'Invoice recorded in Sphere' : 'Credit note recorded in Sphere', {
    connectionId: connection.id,
    documentId: document.id,
    ...(originalTransactionId ? { invoiceId: originalTransactionId } : {}),
    tax: transaction.tax,
  });
  return { action: 'recorded', record };
}

/** Record a FINAL/SENT invoice as a finalized debit transaction, once. */
export async function recordInvoiceTransaction(ctx: TaxContext, connection: Connection, clients: TaxClients, invoice: Invoice): Promise<TransactionOutcome> {
  const notNeeded = await recordingNotNeeded(ctx, connection, invoice);
  if (notNeeded) return notNeeded;
  const [lines, groups, taxRecord] = await Promise.all([
    clients.sequence.listLineItems(invoice.id),
    clients.sequence.listLineItemGroups(invoice.id),
    ctx.taxRecords.get(connection.id, invoice.id),
  ]);
  if (lines.length === 0) return { action: 'skipped', reason: 'no_lines' };
  const products = await resolveLineProducts(ctx, connection, clients, { lines, groups, taxRecord });
  return recordTransaction(ctx, connection, clients, {
    document: invoice,
    kind: 'invoice',
    lines: lines.map((l) => ({ id: l.id, productId: products.get(l.id)!, amount: l.netTotal, quantity: l.quantity, description: l.title })),
    address: invoice.customerBillingAddress,
  });
}

/** A voided document: cancel its Sphere transaction (404 → it was never recorded). */
export async function cancelTransaction(
  ctx: TaxContext,
  connection: Connection,
  clients: TaxClients,
  document: { id: string; kind: DocumentKind },
): Promise<TransactionOutcome> {
  if (!connection.options.recordTransactions) return { action: 'skipped', reason: 'recording_disabled' };
  const existing = await ctx.transactions.get(connection.id, document.id);
  if (existing && (existing.state === 'CANCELLED' || existing.state === 'NOTHING_TO_CANCEL')) return { action: 'already_done', record: existing };
  const base = { documentId: document.id, documentType: document.kind, type: TRANSACTION_TYPE[document.kind] };
  let state: 'CANCELLED' | 'NOTHING_TO_CANCEL' = 'CANCELLED';
  try {
    await clients.sphere.cancelTransaction(document.id);
  } catch (error) {
    if (!(error instanceof SphereNotFoundError)) throw error;
    state = 'NOTHING_TO_CANCEL';
  }
  await ctx.transactions.markCancelled(connection.id, document.id, state, base);
  ctx.deps.logger.info(state === 'CANCELLED' ? 'Sphere transaction cancelled' : 'Voided document was never recorded in Sphere; nothing to cancel', {
    connectionId: connection.id,
    documentId: document.id,
  });
  const record = (await ctx.transactions.get(connection.id, document.id))!;
  return { action: state === 'CANCELLED' ? 'cancelled' : 'nothing_to_cancel', record };
}

/**
 * Record an issued credit note as a credit transaction, once: against its invoice (recorded first
 * when it is not yet), or, for a credit note created from scratch, as a standalone credit (no
 * `original_transaction_id`; Sequence documents such credit notes and Sphere's docs do not require it).
 */
export async function recordCreditNote(ctx: TaxContext, connection: Connection, clients: TaxClients, creditNote: CreditNote): Promise<TransactionOutcome> {
  const notNeeded = await recordingNotNeeded(ctx, connection, creditNote);
  if (notNeeded) return notNeeded;
  const invoiceId = creditNote.invoiceId ?? undefined;
  if (invoiceId) await ensureOriginalRecorded(ctx, connection, clients, creditNote.id, invoiceId);

  const [lines, invoiceTaxRecord] = await Promise.all([
    clients.sequence.listCreditNoteLineItems(creditNote.id),
    invoiceId ? ctx.taxRecords.get(connection.id, invoiceId) : undefined,
  ]);
  if (lines.length === 0) return { action: 'skipped', reason: 'no_lines' };
  const products = await resolveCreditLineProducts(ctx, connection, clients, { lines, ...(invoiceId ? { invoiceId } : {}), invoiceTaxRecord });
  return recordTransaction(ctx, connection, clients, {
    document: creditNote,
    kind: 'credit_note',
    lines: lines.map((l) => ({ id: l.id, productId: products.get(l.id)!, amount: abs(l.netTotal), quantity: abs(l.quantity), description: l.title })),
    address: creditNote.customerBillingAddress,
    ...(invoiceId ? { originalTransactionId: invoiceId } : {}),
  });
}

/** Sphere credits an original transaction: record the refunded invoice first when it is not yet. */
async function ensureOriginalRecorded(ctx: TaxContext, connection: Connection, clients: TaxClients, creditNoteId: string, invoiceId: string): Promise<void> {
  const original = await ctx.transactions.get(connection.id, invoiceId);
  if (original?.state === 'RECORDED') return;
  if (original?.state === 'CANCELLED' || original?.state === 'NOTHING_TO_CANCEL') {
    throw new UserActionRequiredError('original_transaction_cancelled', `Credit note ${creditNoteId} refunds invoice ${invoiceId}, which is voided`, {
      fix: 'Void the credit note, or credit an invoice that is not voided',
    });
  }
  const invoice = await clients.sequence.getInvoice(invoiceId);
  const recorded = await recordInvoiceTransaction(ctx, connection, clients, invoice);
  if (recorded.action !== 'recorded' && recorded.action !== 'already_done') {
    throw new RetryableUpstreamError('original_transaction_not_recorded', `Invoice ${invoiceId} (${invoice.status}) is not recorded in Sphere yet; the credit note will be retried`);
  }
}
