/**
 * Invoice tax: calculate a DRAFT invoice's tax with Sphere and write it back to Sequence so that the
 * tax Sequence shows equals Sphere's to the minor unit; and "finalise with tax".
 *
 * Steps of one calculation (all reads first, so a no-op costs no Sphere call and no write):
 *  1. read the invoice, every line item (paged), the groups, the customer and its registrations,
 *     and the Sequence products of the lines;
 *  2. plan each line's Sphere product (shared/domain/invoice-tax.ts) — a TAXED customer's line
 *     without a tax category stops here (`product_missing_tax_category`);
 *  3. hash the inputs; equal to the stored record's hash and every line still at the stored rate →
 *     nothing to do (this is what ends the loop "our PUT → INVOICE_UPDATED → calculate again");
 *  4. ensure the customer and the products in Sphere (the sync flow's ensure functions; a
 *     per-category stand-in product for lines without their own category: ./line-products.ts,
 *     which the transaction records share, so a document is filed as it was taxed);
 *  5. one calculate_tax call with every line (a quote: no side effect in Sphere);
 *  6. PUT only the lines whose current rate does not reproduce Sphere's amount, with the rate chosen
 *     by shared/domain/tax-rate.ts; attach sphere_tax_calculation_id to the invoice metadata;
 *  7. store the tax record (§5.1) with the input hash.
 * A failure stores a FAILED record (reason + code, no hash, so the next attempt recalculates) and is
 * rethrown with its classification (user → 422 / failure record; retryable → retried / 503).
 */
import { forEachLimited } from '../runtime/concurrency';
import { type Connection } from '../domain/connection';
import { registrationsHash } from '../domain/customer-mapping';
import { ConnectorError, UserActionRequiredError, classifyError } from '../domain/errors';
import { minorUnitsToDecimal } from '../domain/money';
import { withLease } from '../store/leases';
import {
  type TaxRecord,
  applySphereResult,
  buildCalculateTaxRequest,
  isUnchanged,
  planLineProducts,
  taxInputHash,
} from '../domain/invoice-tax';
import { type UpstreamClients } from '../runtime/dependencies';
import { messageGroupId } from '../runtime/queue-messages';
import { deduplicationIdFor } from '../runtime/queue-publisher';
import { type Invoice, type LineItem, type LineItemGroup, InvoiceSchema, lineItemToRequest } from '../sequence';
import { type TaxContext } from './context';
import { ensurePlannedProducts, loadProducts } from './line-products';

/** The metadata key carrying Sphere's calculation id on the Sequence invoice. */
export const CALCULATION_ID_METADATA_KEY = 'sphere_tax_calculation_id';

export class InvoiceNotDraftError extends UserActionRequiredError {
  constructor(invoiceId: string, status: string) {
    super('invoice_not_draft', `Invoice ${invoiceId} is ${status}; tax can only be calculated on a DRAFT invoice`, {
      fix: 'Tax is calculated while the invoice is a draft; a finalised invoice is recorded in Sphere as it is',
    });
  }
}

/**
 * Longer than the tax function's timeout (120 s, lib/constructs/invoice-tax.ts): a holder that was
 * killed mid-calculation frees the invoice soon after its Lambda would have died anyway.
 */
export const INVOICE_LEASE_TTL_MS = 130_000;
/** How long a second caller waits for the invoice before it is retried later (the admin API's 30 s budget). */
export const INVOICE_LEASE_WAIT_MS = 20_000;

export class InvoiceBusyError extends ConnectorError {
  constructor(invoiceId: string) {
    super('retryable', 'invoice_busy', `Invoice ${invoiceId} is being taxed or finalised by another request`, { retryAfterMs: 5_000 });
  }
}

/**
 * One tax calculation, finalisation or transaction record per invoice at a time, whichever way it
 * was reached. The queue serialises its own messages; the admin routes and the direct invocation do
 * not, so without this the INVOICE_UPDATED caused by our own line PUTs could be calculated (and
 * written again) while those PUTs are still going. `work` gets the connection's upstream clients.
 */
export function withInvoiceLease<T>(ctx: TaxContext, connection: Connection, invoiceId: string, work: (clients: UpstreamClients) => Promise<T>): Promise<T> {
  return withLease(
    ctx.leases,
    connection.id,
    `INVOICE#${invoiceId}`,
    { ttlMs: INVOICE_LEASE_TTL_MS, waitMs: INVOICE_LEASE_WAIT_MS, pollMs: 100, busy: () => new InvoiceBusyError(invoiceId) },
    () => ctx.deps.withUpstream(connection, work),
  );
}

export interface CalculationOutcome {
  record: TaxRecord;
  /** false when the inputs were unchanged (no Sphere call, no write). */
  calculated: boolean;
  /** Lines PUT to Sequence. */
  linesWritten: number;
}

/** Line PUTs in flight at once (the Sequence client's per-key bucket paces them anyway). */
const LINE_WRITE_CONCURRENCY = 4;

interface LoadedInvoice {
  invoice: Invoice;
  lines: LineItem[];
  groups: LineItemGroup[];
}

async function storeFailure(ctx: TaxContext, connection: Connection, invoice: Invoice, error: unknown): Promise<void> {
  const classified = classifyError(error);
  const previous = await ctx.taxRecords.get(connection.id, invoice.id);
  const record: TaxRecord = {
    invoiceId: invoice.id,
    status: 'FAILED',
    calculationId: previous?.calculationId ?? null,
    currency: invoice.currency,
    customerId: invoice.customerId,
    lines: previous?.lines ?? [],
    totalTax: previous?.totalTax ?? minorUnitsToDecimal(0, invoice.currency),
    reason: classified.fix ? `${classified.message}. ${classified.fix}` : classified.message,
    errorCode: classified.code,
    retryable: classified.retryable,
    ...(previous?.calculatedAt ? { calculatedAt: previous.calculatedAt } : {}),
    updatedAt: new Date().toISOString(),
  };
  await ctx.taxRecords.put(connection.id, record);
}

async function calculateLoaded(ctx: TaxContext, connection: Connection, clients: UpstreamClients, loaded: LoadedInvoice): Promise<CalculationOutcome> {
  const { deps } = ctx;
  const { invoice, lines, groups } = loaded;
  const [customer, registrations, products, stored] = await Promise.all([
    clients.sequence.getCustomer(invoice.customerId),
    clients.sequence.listTaxRegistrationsForCustomer(invoice.customerId),
    loadProducts(clients, lines),
    ctx.taxRecords.get(connection.id, invoice.id),
  ]);
  const plans = planLineProducts({ lines, groups, products, requireTaxCategory: customer.taxStatus === 'TAXED', taxCodes: connection.taxCodes });
  const inputHash = taxInputHash({ invoice, lines, plans, customer, registrations });
  if (isUnchanged(stored, inputHash, lines)) {
    deps.logger.info('Invoice tax inputs unchanged; nothing to do', { connectionId: connection.id, invoiceId: invoice.id });
    return { record: stored!, calculated: false, linesWritten: 0 };
  }

  const now = new Date().toISOString();
  if (lines.length === 0) {
    const record: TaxRecord = {
      invoiceId: invoice.id,
      status: 'CALCULATED',
      calculationId: null,
      currency: invoice.currency,
      customerId: invoice.customerId,
      taxStatus: customer.taxStatus,
      lines: [],
      totalTax: minorUnitsToDecimal(0, invoice.currency),
      reason: 'no_lines',
      inputHash,
      calculatedAt: now,
      updatedAt: now,
    };
    await ctx.taxRecords.put(connection.id, record);
    return { record, calculated: true, linesWritten: 0 };
  }

  // What was just read is handed to the sync step, so it does not read it all again.
  // The customer and the products are independent: ensure them side by side.
  const [ensured, lineProducts] = await Promise.all([
    ctx.sync.ensureCustomer(deps, connection, clients, invoice.customerId, { customer, taxRegistrations: registrations }),
    ensurePlannedProducts(ctx, connection, clients, { plans, groups, products }),
  ]);

  const request = buildCalculateTaxRequest({
    invoice,
    lines,
    customer: ensured.customer,
    registrations: ensured.taxRegistrations,
    sphereCustomerId: ensured.sphereCustomerId,
    lineProducts,
  });
  const calculation = await clients.sphere.calculateTax(request);
  const application = applySphereResult({ currency: invoice.currency, lines, results: calculation.lines, lineProducts });

  const byId = new Map(lines.map((l) => [l.id, l]));
  await forEachLimited(application.writes, LINE_WRITE_CONCURRENCY, (write) =>
    clients.sequence.updateLineItem(invoice.id, write.lineItemId, lineItemToRequest(byId.get(write.lineItemId)!, { taxRate: write.taxRate })),
  );
  if (calculation.calculationId) {
    const metadata = [
      ...invoice.metadata.filter((m) => m.key !== CALCULATION_ID_METADATA_KEY).map((m) => ({ key: m.key, value: m.value })),
      { key: CALCULATION_ID_METADATA_KEY, value: calculation.calculationId },
    ];
    await clients.sequence.request('PATCH', `/invoices/${encodeURIComponent(invoice.id)}`, InvoiceSchema, { body: { metadata } });
  }

  const record: TaxRecord = {
    invoiceId: invoice.id,
    status: 'CALCULATED',
    calculationId: calculation.calculationId ?? null,
    currency: invoice.currency,
    customerId: invoice.customerId,
    taxStatus: ensured.customer.taxStatus,
    lines: application.lines,
    totalTax: application.totalTax,
    ...(application.reason ? { reason: application.reason } : {}),
    inputHash,
    registrationsHash: registrationsHash(ensured.taxRegistrations),
    calculatedAt: now,
    updatedAt: now,
  };
  await ctx.taxRecords.put(connection.id, record);
  await deps.connections.increment(connection.id, 'invoicesTaxed', 1);
  deps.logger.info('Invoice taxed', {
    connectionId: connection.id,
    invoiceId: invoice.id,
    lines: lines.length,
    linesWritten: application.writes.length,
    totalTax: application.totalTax,
    currency: invoice.currency,
  });
  return { record, calculated: true, linesWritten: application.writes.length };
}

/** Calculate (or confirm) the tax of an invoice already read and known to be DRAFT. */
export async function calculateDraftInvoice(ctx: TaxContext, connection: Connection, clients: UpstreamClients, invoice: Invoice): Promise<CalculationOutcome> {
  if (invoice.status !== 'DRAFT') throw new InvoiceNotDraftError(invoice.id, invoice.status);
  try {
    const [lines, groups] = await Promise.all([clients.sequence.listLineItems(invoice.id), clients.sequence.listLineItemGroups(invoice.id)]);
    return await calculateLoaded(ctx, connection, clients, { invoice, lines, groups });
  } catch (error) {
    await storeFailure(ctx, connection, invoice, error).catch((e: unknown) => ctx.deps.logger.error('Could not store the FAILED tax record', { error: String(e) }));
    throw error;
  }
}

/** The use case behind the queue worker, the admin route and the direct invocation. */
export async function calculateInvoiceTax(ctx: TaxContext, connection: Connection, invoiceId: string): Promise<CalculationOutcome> {
  return withInvoiceLease(ctx, connection, invoiceId, async (clients) => calculateDraftInvoice(ctx, connection, clients, await clients.sequence.getInvoice(invoiceId)));
}

export interface FinalizeOutcome {
  invoice: Invoice;
  record: TaxRecord;
}

/**
 * "Finalise with tax": the same calculation synchronously, then Sequence's finalize. When tax
 * cannot be determined the error propagates and the invoice stays DRAFT. After finalising, the
 * invoice is queued so its Sphere transaction is recorded even if no webhook arrives (idempotent).
 */
export async function finalizeInvoiceWithTax(ctx: TaxContext, connection: Connection, invoiceId: string): Promise<FinalizeOutcome> {
  const outcome = await withInvoiceLease(ctx, connection, invoiceId, async (clients) => {
    const invoice = await clients.sequence.getInvoice(invoiceId);
    const { record } = await calculateDraftInvoice(ctx, connection, clients, invoice);
    if (record.status !== 'CALCULATED') throw new ConnectorError('bug', 'tax_not_calculated', `Invoice ${invoiceId} has no calculated tax; refusing to finalise`);
    const finalized = await clients.sequence.finalizeInvoice(invoiceId);
    return { invoice: finalized, record };
  });
  if (ctx.deps.config.queueUrls.invoiceTax) {
    const message = { kind: 'invoice' as const, connectionId: connection.id, trigger: 'admin' as const, invoiceId, notificationType: 'INVOICE_FINALIZED_BY_CONNECTOR' };
    await ctx.deps.queues
      .send('invoiceTax', { message, groupId: messageGroupId(connection.id, invoiceId), deduplicationId: deduplicationIdFor(`finalized|${connection.id}|${invoiceId}`) })
      .catch((error: unknown) => ctx.deps.logger.warn('Could not queue the transaction record; the INVOICE_UPDATED webhook will do it', { error: String(error) }));
  }
  return outcome;
}
