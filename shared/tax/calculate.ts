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
 * Latency (issue 15): against the real APIs each call costs tens of ms, so what counts is how many
 * stand one after another. The waves are {invoice, line items, groups} → {customer, registrations,
 * products; the Sphere links from DynamoDB} → (ensure, only when the links show a change; otherwise
 * it runs beside the next call) → calculate_tax → {line PUTs, metadata PATCH} → {tax record,
 * counter, failure record}. An invoice calculated before skips the second wave: the stored record
 * names the customer and products it had, so they are read beside the first wave (ForeseenReads)
 * and used where the invoice still names them. The invoice lease is claimed while the first wave is
 * read (withLeasedInvoice); the audit log is written beside the calls (shared/runtime/dependencies.ts).
 * A failure stores a FAILED record (reason + code, no hash, so the next attempt recalculates) and is
 * rethrown with its classification (user → 422 / failure record; retryable → retried / 503).
 */
import { afterCallsLeave, forEachLimited } from '../runtime/concurrency';
import { type Connection } from '../domain/connection';
import { registrationsHash } from '../domain/customer-mapping';
import { ConnectorError, UserActionRequiredError, classifyError } from '../domain/errors';
import { minorUnitsToDecimal } from '../domain/money';
import { type LeaseHold, withLease } from '../store/leases';
import {
  type TaxRecord,
  applySphereResult,
  buildCalculateTaxRequest,
  isUnchanged,
  planLineProducts,
  sphereProductIdFor,
  taxIdFor,
  taxInputHash,
} from '../domain/invoice-tax';
import { assertNoTaxForExemptCustomer, assertReverseChargeHasTaxId, assertSequenceTaxMatches, invoiceTaxMismatch, lineTaxMismatches } from '../domain/tax-write-check';
import { messageGroupId } from '../runtime/queue-messages';
import { deduplicationIdFor } from '../runtime/queue-publisher';
import { type Customer, type Invoice, type LineItem, type LineItemGroup, type Product, type TaxRegistration, InvoiceSchema, SEQUENCE_RATE_LIMIT_PER_MINUTE, lineItemToRequest } from '../sequence';
import { type SphereCopies } from '../sync/ensure';
import { type TaxClients, type TaxContext } from './context';
import { type LineProducts, PRODUCT_READ_CONCURRENCY, ensurePlannedProducts, loadProducts, productIdsOf } from './line-products';

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
export function withInvoiceLease<T>(ctx: TaxContext, connection: Connection, invoiceId: string, work: (clients: TaxClients) => Promise<T>): Promise<T> {
  return leaseInvoice(ctx, connection, invoiceId, () => ctx.deps.withUpstream(connection, work));
}

function leaseInvoice<T>(ctx: TaxContext, connection: Connection, invoiceId: string, work: (lease: LeaseHold) => Promise<T>): Promise<T> {
  const wait = { ttlMs: INVOICE_LEASE_TTL_MS, waitMs: INVOICE_LEASE_WAIT_MS, pollMs: 100, busy: () => new InvoiceBusyError(invoiceId) };
  return withLease(ctx.leases, connection.id, `INVOICE#${invoiceId}`, wait, work);
}

/**
 * Allowance for the clocks of two processes (Lambda hosts keep theirs within a millisecond or so of
 * Amazon Time Sync): reads that started this long after the previous holder released the lease
 * certainly see its writes.
 */
export const LEASE_CLOCK_MARGIN_MS = 25;

/**
 * `withInvoiceLease` with the invoice, its lines and groups already read: the reads need no lease,
 * so they go out while the lease is claimed (one round trip instead of two). If another holder
 * released the lease after they started, they may miss its writes, and are done again.
 */
function withLeasedInvoice<T>(ctx: TaxContext, connection: Connection, invoiceId: string, work: (clients: TaxClients, loaded: LoadedInvoice, lease: LeaseHold) => Promise<T>): Promise<T> {
  return ctx.deps.withUpstream(connection, async (clients) => {
    const readStartedAt = Date.now();
    const early = readInvoiceWithLines(clients, invoiceId);
    early.catch(() => undefined); // awaited below, or dropped when the lease says to read again
    // The stored record beside the first wave; the second wave's reads it foresees go out once the
    // lease says the reads count (one DynamoDB round trip, well inside the first wave), so when they
    // must be made again they are made once, beside the invoice's second read.
    const storedEarly = afterCallsLeave(() => ctx.taxRecords.get(connection.id, invoiceId));
    storedEarly.catch(() => undefined);
    // Claimed once the reads (and the pace reservation they wait for) are out: the lease is not on the path.
    return afterCallsLeave(() => leaseInvoice(ctx, connection, invoiceId, async (lease) => {
      const fresh = lease.quietSince < readStartedAt - LEASE_CLOCK_MARGIN_MS;
      const reads = fresh ? early : readInvoiceWithLines(clients, invoiceId);
      const stored = fresh ? storedEarly : ctx.taxRecords.get(connection.id, invoiceId);
      stored.catch(() => undefined);
      const foreseen = foreseeReads(ctx, connection, clients, stored);
      return work(clients, { ...(await reads), stored, foreseen }, lease);
    }));
  });
}

/**
 * The second wave's reads, started from the stored record beside the first wave: the customer the
 * invoice had when it was last calculated, its registrations, the Sequence products its lines used
 * and their Sphere links. calculateLoaded takes each only where the invoice still names the same
 * customer (and, for the products' links, exactly the same products); anything else is read after
 * the first wave, as without them. A read nobody takes is dropped (its failure too).
 */
interface ForeseenReads {
  customerId: string;
  customer: Promise<Customer>;
  registrations: Promise<TaxRegistration[]>;
  products: ReadonlyMap<string, Promise<Product>>;
  copies: Promise<SphereCopies>;
}

/** The reads the stored record foresees, started as soon as it is read; none without a record (or its read). */
function foreseeReads(ctx: TaxContext, connection: Connection, clients: TaxClients, stored: Promise<TaxRecord | undefined>): Promise<ForeseenReads | undefined> {
  return stored.then(
    (record) => (record ? startForeseenReads(ctx, connection, clients, record) : undefined),
    () => undefined,
  );
}

function startForeseenReads(ctx: TaxContext, connection: Connection, clients: TaxClients, record: TaxRecord): ForeseenReads | undefined {
  // A record from before the product ids were kept: the products would still cost a second wave.
  if (!record.sequenceProductIds) return undefined;
  // No more product reads in flight than loadProducts allows itself; the rest are read after the first wave.
  const productIds = record.sequenceProductIds.slice(0, PRODUCT_READ_CONCURRENCY);
  const dropped = <R>(read: Promise<R>): Promise<R> => {
    read.catch(() => undefined);
    return read;
  };
  return {
    customerId: record.customerId,
    customer: dropped(clients.sequence.getCustomer(record.customerId)),
    registrations: dropped(clients.sequence.listTaxRegistrationsForCustomer(record.customerId)),
    products: new Map(productIds.map((id) => [id, dropped(clients.sequence.getProduct(id))])),
    copies: dropped(afterCallsLeave(() => ctx.sync.readCopies(ctx.deps, connection, record.customerId, productIds))),
  };
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((id) => set.has(id));
}

/** The invoice, every line item (paged) and the groups: all keyed by the invoice id, read side by side. */
async function readInvoiceWithLines(clients: TaxClients, invoiceId: string): Promise<LoadedInvoice> {
  const [invoice, lines, groups] = await Promise.allSettled([
    clients.sequence.getInvoice(invoiceId),
    clients.sequence.listLineItems(invoiceId),
    clients.sequence.listLineItemGroups(invoiceId),
  ]);
  // The invoice's own error first: "no such invoice" says more than the 404 of its line items.
  for (const read of [invoice, lines, groups]) if (read.status === 'rejected') throw read.reason;
  return { invoice: (invoice as PromiseFulfilledResult<Invoice>).value, lines: (lines as PromiseFulfilledResult<LineItem[]>).value, groups: (groups as PromiseFulfilledResult<LineItemGroup[]>).value };
}

export interface CalculationOutcome {
  record: TaxRecord;
  /** false when the inputs were unchanged (no Sphere call, no write). */
  calculated: boolean;
  /** Lines PUT to Sequence. */
  linesWritten: number;
  /**
   * The line writes could not be done by the caller's deadline: the record is PENDING and the
   * invoice-tax worker finishes the calculation (and the finalisation, when asked).
   */
  handedOff?: boolean;
}

/** Line PUTs in flight at once (the Sequence client's per-key bucket paces them anyway). */
const LINE_WRITE_CONCURRENCY = 4;

interface LoadedInvoice {
  invoice: Invoice;
  lines: LineItem[];
  groups: LineItemGroup[];
  /** The stored tax record, when it was read beside the invoice. */
  stored?: Promise<TaxRecord | undefined>;
  /** Reads started from the stored record beside the invoice (withLeasedInvoice). */
  foreseen?: Promise<ForeseenReads | undefined>;
}

/**
 * Store a record that is not a (new) calculation — FAILED or PENDING — keeping what the last one
 * knew (its lines, total and calculation), without an input hash, so the next attempt recalculates.
 */
async function storeInterimRecord(
  ctx: TaxContext,
  connection: Connection,
  invoice: Invoice,
  state: Pick<TaxRecord, 'status' | 'reason'> & Partial<Pick<TaxRecord, 'errorCode' | 'retryable'>>,
): Promise<TaxRecord> {
  const previous = await ctx.taxRecords.get(connection.id, invoice.id);
  const record: TaxRecord = {
    invoiceId: invoice.id,
    calculationId: previous?.calculationId ?? null,
    currency: invoice.currency,
    customerId: invoice.customerId,
    lines: previous?.lines ?? [],
    totalTax: previous?.totalTax ?? minorUnitsToDecimal(0, invoice.currency),
    ...state,
    ...(previous?.sequenceProductIds ? { sequenceProductIds: previous.sequenceProductIds } : {}),
    ...(previous?.calculatedAt ? { calculatedAt: previous.calculatedAt } : {}),
    updatedAt: new Date().toISOString(),
  };
  await ctx.taxRecords.put(connection.id, record);
  return record;
}

async function storeFailure(ctx: TaxContext, connection: Connection, invoice: Invoice, error: unknown): Promise<void> {
  const classified = classifyError(error);
  const reason = classified.fix ? `${classified.message}. ${classified.fix}` : classified.message;
  await storeInterimRecord(ctx, connection, invoice, { status: 'FAILED', reason, errorCode: classified.code, retryable: classified.retryable });
}

export interface CalculationHooks {
  /** Work to do once the tax is stored, beside the last writes and still under the lease (e.g. clearing a failure record). */
  onStored?: () => Promise<unknown>;
  /**
   * Epoch ms by which a synchronous caller must answer (the admin routes: API Gateway's 29 s). Line
   * writes that cannot be done by then are left to the invoice-tax worker (`handedOff`).
   */
  deadline?: number;
  /** With `deadline`: the worker that takes over also finalises the invoice once its tax is written. */
  finalizeAfter?: boolean;
  /** The invoice lease the caller holds and releases when this returns: follow-up writes go beside the release. */
  lease?: LeaseHold;
}

/**
 * Sequence's sustained pace for one credential (1,500 a minute less the burst, shared/sequence/client.ts):
 * how long N line PUTs take at least once the burst is spent.
 */
const SEQUENCE_SUSTAINED_MS_PER_CALL = 60_000 / (SEQUENCE_RATE_LIMIT_PER_MINUTE - SEQUENCE_RATE_LIMIT_PER_MINUTE / 60);
const SEQUENCE_BURST = SEQUENCE_RATE_LIMIT_PER_MINUTE / 60;
/** Kept free before the deadline for the last writes in flight, the records and the answer. */
const DEADLINE_RESERVE_MS = 2_000;

/** How long `writes` line PUTs take: the pace once past the burst, else rounds of parallel calls at the observed latency. */
function estimateWritesMs(writes: number, callLatencyMs: number): number {
  return Math.max(Math.ceil(writes / LINE_WRITE_CONCURRENCY) * callLatencyMs, Math.max(0, writes - SEQUENCE_BURST) * SEQUENCE_SUSTAINED_MS_PER_CALL);
}

/** The worker finishes what a synchronous caller could not in time: a PENDING record says so meanwhile. */
async function handOff(ctx: TaxContext, connection: Connection, invoice: Invoice, hooks: CalculationHooks, done: { linesWritten: number; planned: number }): Promise<CalculationOutcome> {
  const record = await storeInterimRecord(ctx, connection, invoice, {
    status: 'PENDING',
    reason: `${done.planned} line writes take longer than this request may; the invoice-tax worker finishes the calculation${hooks.finalizeAfter ? ' and then finalises the invoice' : ''}`,
  });
  const message = { kind: 'invoice' as const, connectionId: connection.id, trigger: 'admin' as const, invoiceId: invoice.id, ...(hooks.finalizeAfter ? { finalize: true as const } : {}) };
  await ctx.deps.queues.send('invoiceTax', {
    message,
    groupId: messageGroupId(connection.id, invoice.id),
    deduplicationId: deduplicationIdFor(`handoff|${connection.id}|${invoice.id}|${hooks.finalizeAfter ? 'finalize' : 'tax'}|${record.updatedAt}`),
  });
  ctx.deps.logger.info('Invoice tax handed to the worker: the line writes would outlast the request', { connectionId: connection.id, invoiceId: invoice.id, ...done });
  return { record, calculated: false, linesWritten: done.linesWritten, handedOff: true };
}

/** Before finalising: the invoice's totalTax as Sequence shows it must be Sphere's total (else FAILED record, no finalisation). */
async function confirmSequenceTotal(ctx: TaxContext, connection: Connection, clients: TaxClients, invoiceId: string, record: TaxRecord): Promise<void> {
  const current = await clients.sequence.getInvoice(invoiceId);
  try {
    assertSequenceTaxMatches(invoiceId, [invoiceTaxMismatch(record.totalTax, current.totalTax)]);
  } catch (error) {
    await storeFailure(ctx, connection, current, error);
    throw error;
  }
}

async function calculateLoaded(ctx: TaxContext, connection: Connection, clients: TaxClients, loaded: LoadedInvoice, hooks: CalculationHooks): Promise<CalculationOutcome> {
  const { deps } = ctx;
  const { invoice, lines, groups } = loaded;
  const productIds = productIdsOf(lines);
  // Settled long before the first wave answers (one DynamoDB read): whatever it foresaw correctly is used.
  const foreseen = await loaded.foreseen;
  const sameCustomer = foreseen?.customerId === invoice.customerId ? foreseen : undefined;
  const [customer, registrations, products, stored, copies] = await Promise.all([
    sameCustomer?.customer ?? clients.sequence.getCustomer(invoice.customerId),
    sameCustomer?.registrations ?? clients.sequence.listTaxRegistrationsForCustomer(invoice.customerId),
    loadProducts(clients, lines, sameCustomer?.products),
    loaded.stored ?? afterCallsLeave(() => ctx.taxRecords.get(connection.id, invoice.id)),
    sameCustomer && sameIds([...sameCustomer.products.keys()], productIds)
      ? sameCustomer.copies
      : afterCallsLeave(() => ctx.sync.readCopies(deps, connection, invoice.customerId, productIds)),
  ]);
  assertReverseChargeHasTaxId({ invoiceId: invoice.id, customerId: invoice.customerId, taxStatus: customer.taxStatus, taxId: taxIdFor(customer.taxStatus, invoice, registrations) });
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
      sequenceProductIds: [],
      calculatedAt: now,
      updatedAt: now,
    };
    await Promise.all([ctx.taxRecords.put(connection.id, record), hooks.onStored?.()]);
    return { record, calculated: true, linesWritten: 0 };
  }

  // What was just read is handed to the sync step, so it does not read it all again.
  // The customer and the products are independent: ensure them side by side.
  const ensure = () =>
    Promise.all([
      ctx.sync.ensureCustomer(deps, connection, clients, invoice.customerId, { customer, taxRegistrations: registrations }),
      ensurePlannedProducts(ctx, connection, clients, { plans, groups, products }),
    ]);
  const calculate = (sphereCustomerId: string, lineProducts: LineProducts) =>
    clients.sphere.calculateTax(buildCalculateTaxRequest({ invoice, lines, customer, registrations, sphereCustomerId, lineProducts }));
  let calculation: Awaited<ReturnType<typeof calculate>>;
  let lineProducts: LineProducts;
  const calculationStarted = Date.now();
  const standIns = plans.some((p) => p.standInCategory);
  if (!standIns && ctx.sync.copiesCurrent(copies, connection, { customer, taxRegistrations: registrations, products })) {
    // Sphere already has the customer and every product as they are now (the links say so): the
    // ensure step would write nothing there, so it is skipped; its note on the link runs beside.
    const synced = new Map([...copies.products].flatMap(([id, link]) => (link ? [[id, link] as const] : [])));
    lineProducts = new Map(plans.map((p) => [p.lineItemId, sphereProductIdFor(p, synced)]));
    [calculation] = await Promise.all([calculate(copies.customer!.sphereCustomerId, lineProducts), ctx.sync.confirmCopies(deps, connection, copies)]);
  } else {
    const [ensured, ensuredProducts] = await ensure();
    lineProducts = ensuredProducts;
    calculation = await calculate(ensured.sphereCustomerId, lineProducts);
  }
  const application = applySphereResult({ currency: invoice.currency, lines, results: calculation.lines, lineProducts });

  // Sphere taxed a customer Sequence says is exempt or reverse-charged: nothing is written.
  assertNoTaxForExemptCustomer({ invoiceId: invoice.id, customerId: invoice.customerId, taxStatus: customer.taxStatus, lines: application.lines });

  const cutoff = hooks.deadline === undefined ? Number.POSITIVE_INFINITY : hooks.deadline - DEADLINE_RESERVE_MS;
  const planned = application.writes.length;
  // calculate_tax's own time stands in for one round trip to Sequence.
  if (Date.now() + estimateWritesMs(planned, Date.now() - calculationStarted) > cutoff) return handOff(ctx, connection, invoice, hooks, { linesWritten: 0, planned });

  const record: TaxRecord = {
    invoiceId: invoice.id,
    status: 'CALCULATED',
    calculationId: calculation.calculationId ?? null,
    currency: invoice.currency,
    customerId: invoice.customerId,
    taxStatus: customer.taxStatus,
    lines: application.lines,
    totalTax: application.totalTax,
    ...(application.reason ? { reason: application.reason } : {}),
    inputHash,
    registrationsHash: registrationsHash(registrations),
    sequenceProductIds: productIds,
    calculatedAt: now,
    updatedAt: now,
  };
  // The changed lines, the calculation id and the record are independent writes: side by side.
  // Storing the record before the line writes have landed is safe: a calculation that finds a line
  // not at the stored rate is not "unchanged" (isUnchanged), and a failed write replaces the record
  // with a FAILED one (below, once every write has settled), a write cut short by the deadline with a PENDING one.
  // Each PUT's response is kept: Sequence's own arithmetic on what we wrote is checked, line by line.
  const asSequenceHasIt = new Map(lines.map((l) => [l.id, l]));
  let linesWritten = 0;
  const writes = await Promise.allSettled([
    forEachLimited(application.writes, LINE_WRITE_CONCURRENCY, async (write) => {
      if (Date.now() > cutoff) return; // slower than estimated: the worker writes the rest
      asSequenceHasIt.set(write.lineItemId, await clients.sequence.updateLineItem(invoice.id, write.lineItemId, lineItemToRequest(asSequenceHasIt.get(write.lineItemId)!, { taxRate: write.taxRate })));
      linesWritten += 1;
    }),
    calculation.calculationId ? writeCalculationId(clients, invoice, calculation.calculationId) : undefined,
    afterCallsLeave(() => ctx.taxRecords.put(connection.id, record)),
  ]);
  const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
  if (failed) throw failed.reason;
  if (linesWritten < planned) return handOff(ctx, connection, invoice, hooks, { linesWritten, planned });
  // A mismatch replaces the record just stored with a FAILED one (calculateDraftInvoice's catch).
  assertSequenceTaxMatches(invoice.id, lineTaxMismatches(application.lines, [...asSequenceHasIt.values()]));

  // The counter and the caller's follow-up need no lease: beside its release when the caller holds it.
  const followUps = [() => deps.connections.increment(connection.id, 'invoicesTaxed', 1), ...(hooks.onStored ? [hooks.onStored] : [])];
  if (hooks.lease) hooks.lease.besideRelease.push(...followUps);
  else await Promise.all(followUps.map((f) => f()));
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

/** Sphere's calculation id on the invoice's metadata (the other keys kept). */
async function writeCalculationId(clients: TaxClients, invoice: Invoice, calculationId: string): Promise<void> {
  const metadata = [
    ...invoice.metadata.filter((m) => m.key !== CALCULATION_ID_METADATA_KEY).map((m) => ({ key: m.key, value: m.value })),
    { key: CALCULATION_ID_METADATA_KEY, value: calculationId },
  ];
  await clients.sequence.request('PATCH', `/invoices/${encodeURIComponent(invoice.id)}`, InvoiceSchema, { body: { metadata } });
}

/**
 * Calculate (or confirm) the tax of an invoice already read and known to be DRAFT; its lines and
 * groups too when the caller read them with it. A caller that read only the invoice may pass the
 * stored record's read (started beside the invoice's, under the lease): the reads it foresees then
 * go out with the lines and groups (the queue worker: process-message.ts).
 */
export async function calculateDraftInvoice(
  ctx: TaxContext,
  connection: Connection,
  clients: TaxClients,
  invoice: Invoice,
  read?: Omit<LoadedInvoice, 'invoice'> | { stored: Promise<TaxRecord | undefined> },
  hooks: CalculationHooks = {},
): Promise<CalculationOutcome> {
  if (invoice.status !== 'DRAFT') throw new InvoiceNotDraftError(invoice.id, invoice.status);
  try {
    let loaded: Omit<LoadedInvoice, 'invoice'>;
    if (read && 'lines' in read) loaded = read;
    else {
      const both = Promise.all([clients.sequence.listLineItems(invoice.id), clients.sequence.listLineItemGroups(invoice.id)]);
      const foreseen = read && foreseeReads(ctx, connection, clients, read.stored);
      const [lines, groups] = await both;
      loaded = { lines, groups, ...(read ? { stored: read.stored, foreseen } : {}) };
    }
    return await calculateLoaded(ctx, connection, clients, { invoice, ...loaded }, hooks);
  } catch (error) {
    await storeFailure(ctx, connection, invoice, error).catch((e: unknown) => ctx.deps.logger.error('Could not store the FAILED tax record', { error: String(e) }));
    throw error;
  }
}

/** The use case behind the admin route and the direct invocation (the queue worker reads the invoice first: process-message.ts). */
export async function calculateInvoiceTax(ctx: TaxContext, connection: Connection, invoiceId: string, hooks: CalculationHooks = {}): Promise<CalculationOutcome> {
  return withLeasedInvoice(ctx, connection, invoiceId, (clients, { invoice, ...read }, lease) => calculateDraftInvoice(ctx, connection, clients, invoice, read, { ...hooks, lease }));
}

export interface FinalizeOutcome {
  invoice: Invoice;
  record: TaxRecord;
  /** The tax could not be written in time: the worker writes it, then finalises (the invoice is still DRAFT). */
  handedOff?: boolean;
}

/** Sequence's finalize, for an invoice whose tax was just calculated and written, once Sequence's total is Sphere's. */
async function finalizeCalculated(ctx: TaxContext, connection: Connection, clients: TaxClients, invoiceId: string, record: TaxRecord): Promise<FinalizeOutcome> {
  if (record.status !== 'CALCULATED') throw new ConnectorError('bug', 'tax_not_calculated', `Invoice ${invoiceId} has no calculated tax; refusing to finalise`);
  await confirmSequenceTotal(ctx, connection, clients, invoiceId, record);
  const finalized = await clients.sequence.finalizeInvoice(invoiceId);
  return { invoice: finalized, record };
}

/** After finalising: queue the invoice so its Sphere transaction is recorded even if no webhook arrives (idempotent). */
async function queueTransactionRecord(ctx: TaxContext, connection: Connection, invoiceId: string): Promise<void> {
  if (!ctx.deps.config.queueUrls.invoiceTax) return;
  const message = { kind: 'invoice' as const, connectionId: connection.id, trigger: 'admin' as const, invoiceId, notificationType: 'INVOICE_FINALIZED_BY_CONNECTOR' };
  await ctx.deps.queues
    .send('invoiceTax', { message, groupId: messageGroupId(connection.id, invoiceId), deduplicationId: deduplicationIdFor(`finalized|${connection.id}|${invoiceId}`) })
    .catch((error: unknown) => ctx.deps.logger.warn('Could not queue the transaction record; the INVOICE_UPDATED webhook will do it', { error: String(error) }));
}

/**
 * "Finalise with tax": the same calculation synchronously, then Sequence's finalize. When tax
 * cannot be determined the error propagates and the invoice stays DRAFT. With a `deadline` (the
 * admin route) an invoice whose line writes would outlast it is handed to the worker, which
 * finalises only after writing the tax; the invoice stays DRAFT until then.
 */
export async function finalizeInvoiceWithTax(ctx: TaxContext, connection: Connection, invoiceId: string, options: { deadline?: number } = {}): Promise<FinalizeOutcome> {
  const outcome = await withLeasedInvoice(ctx, connection, invoiceId, async (clients, { invoice, ...read }) => {
    const hooks: CalculationHooks = options.deadline === undefined ? {} : { deadline: options.deadline, finalizeAfter: true };
    const calculated = await calculateDraftInvoice(ctx, connection, clients, invoice, read, hooks);
    if (calculated.handedOff) return { invoice, record: calculated.record, handedOff: true };
    return finalizeCalculated(ctx, connection, clients, invoiceId, calculated.record);
  });
  if (!outcome.handedOff) await queueTransactionRecord(ctx, connection, invoiceId);
  return outcome;
}

/** The worker's half of a handed-off "finalise with tax": the tax is written (under the lease), now finalise. */
export async function finalizeAfterCalculation(ctx: TaxContext, connection: Connection, clients: TaxClients, invoiceId: string, record: TaxRecord): Promise<void> {
  await finalizeCalculated(ctx, connection, clients, invoiceId, record);
  await queueTransactionRecord(ctx, connection, invoiceId);
}
