/**
 * Recording finalised documents in Sphere (v1 Transaction API), once each:
 *  - an invoice turning FINAL or SENT → `POST /v1/transactions` type debit, finalized,
 *    external_id = the invoice id, one line per Sequence line (amount, product, quantity);
 *  - VOIDED → `POST /v1/transactions/{invoice id}/cancel` (404 = never recorded → nothing to cancel);
 *  - an issued credit note (FINAL/SENT) → type credit, external_id = the credit note id,
 *    original_transaction_id = the invoice id (the original is recorded first when it is not yet).
 * Idempotent by construction: deterministic external ids and bodies built only from the finalised
 * (immutable) document, so a retry is an identical upsert; the TXN# record skips work already done.
 * Everything here respects the connection's `recordTransactions` switch.
 */
import { type Connection } from '../domain/connection';
import { type CurrencyCode } from '../domain/currency';
import { Decimal } from '../domain/decimal';
import { RetryableUpstreamError, UserActionRequiredError } from '../domain/errors';
import { NO_CATEGORY, planLineProducts, shipToAddress, sphereProductIdFor, toSphereAddress } from '../domain/invoice-tax';
import { sphereTaxCodeFor, taxCategoryProductId } from '../domain/tax-codes';
import { type UpstreamClients } from '../runtime/dependencies';
import { type CreditNote, type Invoice, type Product } from '../sequence';
import { SphereNotFoundError } from '../sphere';
import { type TransactionRecord } from '../store/transactions';
import { type TaxContext } from './context';

export type TransactionOutcome =
  | { action: 'recorded' | 'cancelled' | 'nothing_to_cancel'; record: TransactionRecord }
  | { action: 'already_done'; record: TransactionRecord }
  | { action: 'skipped'; reason: 'recording_disabled' | 'no_lines' | 'not_issued' };

function isoDate(value: string | null | undefined): string | undefined {
  const date = value?.slice(0, 10);
  return date && /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : undefined;
}

function abs(amount: string): string {
  return new Decimal(amount).abs().toFixed();
}

async function ensureStandIn(clients: UpstreamClients, connection: Connection, category: string): Promise<void> {
  const externalId = taxCategoryProductId(category);
  if (await clients.sphere.getProduct(externalId)) return;
  await clients.sphere.upsertProduct({ externalId, name: category === NO_CATEGORY ? 'Sequence lines without a tax category' : `Sequence tax category ${category}`, taxCode: sphereTaxCodeFor(connection.taxCodes, category === NO_CATEGORY ? undefined : category) });
}

/** Record a FINAL/SENT invoice as a finalized debit transaction, once. */
export async function recordInvoiceTransaction(ctx: TaxContext, connection: Connection, clients: UpstreamClients, invoice: Invoice): Promise<TransactionOutcome> {
  const { deps } = ctx;
  if (!connection.options.recordTransactions) return { action: 'skipped', reason: 'recording_disabled' };
  if (invoice.status !== 'FINAL' && invoice.status !== 'SENT') return { action: 'skipped', reason: 'not_issued' };
  const existing = await ctx.transactions.get(connection.id, invoice.id);
  if (existing) return { action: 'already_done', record: existing };

  const [lines, groups, taxRecord] = await Promise.all([
    clients.sequence.listLineItems(invoice.id),
    clients.sequence.listLineItemGroups(invoice.id),
    ctx.taxRecords.get(connection.id, invoice.id),
  ]);
  if (lines.length === 0) return { action: 'skipped', reason: 'no_lines' };

  const ensured = await ctx.sync.ensureCustomer(deps, connection, clients, invoice.customerId);
  // The products the calculation used, when there was one; otherwise the same planning rules.
  const taxedAs = new Map((taxRecord?.lines ?? []).filter((l) => l.sphereProductId).map((l) => [l.lineItemId, l.sphereProductId]));
  const unplanned = lines.filter((l) => !taxedAs.has(l.id));
  if (unplanned.length > 0) {
    const products = new Map<string, Product>();
    for (const id of new Set(unplanned.map((l) => l.productId).filter((p): p is string => Boolean(p)))) products.set(id, await clients.sequence.getProduct(id));
    const plans = planLineProducts({ lines: unplanned, groups, products, requireTaxCategory: false, taxCodes: connection.taxCodes });
    const synced = await ctx.sync.ensureProducts(deps, connection, clients, plans.flatMap((p) => (p.productId ? [p.productId] : [])));
    for (const category of new Set(plans.flatMap((p) => (p.standInCategory ? [p.standInCategory] : [])))) await ensureStandIn(clients, connection, category);
    for (const plan of plans) taxedAs.set(plan.lineItemId, sphereProductIdFor(plan, synced));
  }

  const currency = invoice.currency as CurrencyCode;
  const transactionDate = isoDate(invoice.issueDate) ?? isoDate(invoice.accountingDate);
  const transaction = await clients.sphere.createTransaction({
    externalId: invoice.id,
    type: 'debit',
    status: 'finalized',
    customerId: ensured.sphereCustomerId,
    currency,
    ...(transactionDate ? { transactionDate } : {}),
    customerAddress: toSphereAddress(shipToAddress(invoice, ensured.customer)),
    lineItems: lines.map((l) => ({ id: l.id, productId: taxedAs.get(l.id)!, amount: l.netTotal, quantity: l.quantity, description: l.title })),
  });
  const now = new Date().toISOString();
  const record: TransactionRecord = {
    documentId: invoice.id,
    documentType: 'invoice',
    type: 'debit',
    state: 'RECORDED',
    currency,
    ...(transaction.subtotal ? { subtotal: transaction.subtotal } : {}),
    ...(transaction.tax ? { tax: transaction.tax } : {}),
    recordedAt: now,
    updatedAt: now,
  };
  if (await ctx.transactions.putRecorded(connection.id, record)) await deps.connections.increment(connection.id, 'transactionsRecorded', 1);
  deps.logger.info('Invoice recorded in Sphere', { connectionId: connection.id, invoiceId: invoice.id, tax: transaction.tax });
  return { action: 'recorded', record };
}

/** A voided document: cancel its Sphere transaction (404 → it was never recorded). */
export async function cancelTransaction(
  ctx: TaxContext,
  connection: Connection,
  clients: UpstreamClients,
  document: { id: string; kind: 'invoice' | 'credit_note' },
): Promise<TransactionOutcome> {
  if (!connection.options.recordTransactions) return { action: 'skipped', reason: 'recording_disabled' };
  const existing = await ctx.transactions.get(connection.id, document.id);
  if (existing && (existing.state === 'CANCELLED' || existing.state === 'NOTHING_TO_CANCEL')) return { action: 'already_done', record: existing };
  const base = { documentId: document.id, documentType: document.kind, type: document.kind === 'invoice' ? ('debit' as const) : ('credit' as const) };
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

/** Record an issued credit note as a credit transaction against its invoice, once. */
export async function recordCreditNote(ctx: TaxContext, connection: Connection, clients: UpstreamClients, creditNote: CreditNote): Promise<TransactionOutcome> {
  const { deps } = ctx;
  if (!connection.options.recordTransactions) return { action: 'skipped', reason: 'recording_disabled' };
  if (creditNote.status !== 'FINAL' && creditNote.status !== 'SENT') return { action: 'skipped', reason: 'not_issued' };
  const existing = await ctx.transactions.get(connection.id, creditNote.id);
  if (existing) return { action: 'already_done', record: existing };
  const invoiceId = creditNote.invoiceId;
  if (!invoiceId) {
    throw new UserActionRequiredError('credit_note_without_invoice', `Credit note ${creditNote.id} is not linked to an invoice; Sphere records a credit against its original transaction`, {
      fix: 'Issue the credit note against the invoice it refunds',
    });
  }

  const original = await ctx.transactions.get(connection.id, invoiceId);
  if (!original || original.state !== 'RECORDED') {
    if (original?.state === 'CANCELLED' || original?.state === 'NOTHING_TO_CANCEL') {
      throw new UserActionRequiredError('original_transaction_cancelled', `Credit note ${creditNote.id} refunds invoice ${invoiceId}, which is voided`, {
        fix: 'Void the credit note, or credit an invoice that is not voided',
      });
    }
    const invoice = await clients.sequence.getInvoice(invoiceId);
    const recorded = await recordInvoiceTransaction(ctx, connection, clients, invoice);
    if (recorded.action !== 'recorded' && recorded.action !== 'already_done') {
      throw new RetryableUpstreamError('original_transaction_not_recorded', `Invoice ${invoiceId} (${invoice.status}) is not recorded in Sphere yet; the credit note will be retried`);
    }
  }

  const [lines, invoiceTax] = await Promise.all([clients.sequence.listCreditNoteLineItems(creditNote.id), ctx.taxRecords.get(connection.id, invoiceId)]);
  if (lines.length === 0) return { action: 'skipped', reason: 'no_lines' };
  const ensured = await ctx.sync.ensureCustomer(deps, connection, clients, creditNote.customerId);
  const taxedAs = new Map((invoiceTax?.lines ?? []).map((l) => [l.lineItemId, l.sphereProductId]));
  const productIds = [...new Set(lines.flatMap((l) => (l.productId ? [l.productId] : [])))];
  const synced = await ctx.sync.ensureProducts(deps, connection, clients, productIds);
  const productFor = async (line: (typeof lines)[number]): Promise<string> => {
    if (line.productId) return synced.get(line.productId)!.sphereProductId;
    const viaInvoice = line.lineItemId ? taxedAs.get(line.lineItemId) : undefined;
    if (viaInvoice) return viaInvoice;
    await ensureStandIn(clients, connection, NO_CATEGORY);
    return taxCategoryProductId(NO_CATEGORY);
  };
  const lineItems = [];
  for (const l of lines) lineItems.push({ id: l.id, productId: await productFor(l), amount: abs(l.netTotal), quantity: abs(l.quantity), description: l.title });

  const currency = creditNote.currency as CurrencyCode;
  const transactionDate = isoDate(creditNote.issueDate) ?? isoDate(creditNote.accountingDate);
  const transaction = await clients.sphere.createTransaction({
    externalId: creditNote.id,
    type: 'credit',
    status: 'finalized',
    customerId: ensured.sphereCustomerId,
    currency,
    originalTransactionId: invoiceId,
    ...(transactionDate ? { transactionDate } : {}),
    customerAddress: toSphereAddress(creditNote.customerBillingAddress),
    lineItems,
  });
  const now = new Date().toISOString();
  const record: TransactionRecord = {
    documentId: creditNote.id,
    documentType: 'credit_note',
    type: 'credit',
    state: 'RECORDED',
    originalTransactionId: invoiceId,
    currency,
    ...(transaction.subtotal ? { subtotal: transaction.subtotal } : {}),
    ...(transaction.tax ? { tax: transaction.tax } : {}),
    recordedAt: now,
    updatedAt: now,
  };
  if (await ctx.transactions.putRecorded(connection.id, record)) await deps.connections.increment(connection.id, 'transactionsRecorded', 1);
  deps.logger.info('Credit note recorded in Sphere', { connectionId: connection.id, creditNoteId: creditNote.id, invoiceId });
  return { action: 'recorded', record };
}
