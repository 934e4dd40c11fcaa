/** Simulated Sequence invoices, their line items and line item groups (2024-07-30). */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type CurrencyCode } from '../../../shared/domain/currency';
import { sequenceLineGross, sequenceLineNetTotal, sumDecimals } from '../../../shared/domain/sequence-tax-rule';
import { type Invoice, type LineItem, type LineItemGroup } from '../../../shared/sequence/schemas';
import { badRequest, notFound, validationError } from '../errors';
import { type SimState } from '../store';
import { SimCollection, compact, nextIndex, parse, totalsOf } from './context';
import { currency, decimal, documentHeaderFields, externalIds, nonBlank, rateDisplay } from './request-fields';

const invoiceHeaderFields = {
  ...documentHeaderFields,
  dueDate: z.string().optional(),
  reference: z.string().optional(),
  paymentOptions: z.array(z.enum(['BANK_TRANSFER', 'LINK'])).optional(),
  billingPeriod: z.object({ start: z.string(), endInclusive: z.string() }).optional(),
};
const invoiceCreateBody = z.object({ currency, customerId: nonBlank, billingScheduleId: z.string().optional(), ...invoiceHeaderFields });
const invoiceUpdateBody = z.object({ currency: currency.optional(), ...invoiceHeaderFields });

const lineItemBody = z.object({
  title: nonBlank,
  description: z.string().optional(),
  quantity: decimal,
  rate: decimal,
  taxRate: decimal,
  servicePeriodStart: z.string().optional(),
  servicePeriodEnd: z.string().optional(),
  servicePeriod: z.object({ startDate: z.string(), endDate: z.string() }).optional(),
  groupId: z.string().optional(),
  priceId: z.string().optional(),
  rateDisplay: rateDisplay.optional(),
  externalIds,
  revenueClassification: z.enum(['PREPAYMENT', 'EARNED', 'BURNDOWN']).optional(),
  creditGrantId: z.string().optional(),
  revenueRecognitionMethod: z.enum(['STRAIGHT_LINE', 'USAGE', 'MILESTONE', 'POINT_IN_TIME']).optional(),
});
const lineItemGroupBody = z.object({
  title: nonBlank,
  description: z.string().optional(),
  taxCategoryId: z.string().optional(),
  index: z.number().int().optional(),
});

type Part = 'lineItems' | 'lineItemGroups';
const PART_NAMES: Record<Part, string> = { lineItems: 'LineItem', lineItemGroups: 'LineItemGroup' };

export class Invoices extends SimCollection<'invoices'> {
  /** The invoice, when it is still DRAFT (the only status that can be edited). */
  private editable(id: string): Invoice {
    const inv = this.get(id);
    if (inv.status !== 'DRAFT') throw badRequest(`Invoice ${inv.id} is ${inv.status}; only DRAFT invoices can be edited`, 'invalidInvoiceStatus');
    return inv;
  }

  create(raw: unknown, opts: { silent?: boolean } = {}): Invoice {
    const body = parse(invoiceCreateBody, raw);
    const customer = this.ctx.existingCustomer(body.customerId);
    const now = this.ctx.iso();
    const id = randomUUID();
    const zero = sumDecimals([], body.currency);
    const invoice = compact({
      id,
      sequenceAccountId: this.ctx.s.account.id,
      billingScheduleId: body.billingScheduleId,
      status: 'DRAFT',
      currency: body.currency,
      dueDate: body.dueDate ?? new Date(this.ctx.now() + 30 * 86_400_000).toISOString().slice(0, 10),
      purchaseOrderNumber: body.purchaseOrderNumber,
      reference: body.reference,
      customerEmails: body.customerEmails ?? this.ctx.billingEmails(customer),
      customerLegalCompanyName: body.customerLegalCompanyName ?? customer.legalName,
      customerBillingAddress: compact({ ...(body.customerBillingAddress ?? customer.address) }),
      customerShippingAddress: compact({ ...(body.customerShippingAddress ?? body.customerBillingAddress ?? customer.address) }),
      memo: body.memo,
      paymentOptions: body.paymentOptions ?? ['BANK_TRANSFER'],
      billingPeriod: body.billingPeriod,
      customerId: customer.id,
      totalTax: zero,
      netTotal: zero,
      grossTotal: zero,
      metadata: body.metadata ?? [],
      customerTaxId: this.ctx.customerTaxId(customer.id),
      customerTaxStatus: customer.taxStatus,
      paymentStatus: 'UNPAID',
      createdAt: now,
      updatedAt: now,
      creditNoteIds: [],
      linkedServices: [],
      merchantDetails: structuredClone(this.ctx.s.merchantDetails),
      dunningStatus: 'NOT_REQUIRED',
      accountingDate: body.accountingDate ?? this.ctx.today(),
      calculatedAt: now,
      renderSettings: { paymentLinkDisplay: 'SHOW_PAYMENT_LINK' },
      isCustomerArchived: Boolean(customer.archivedAt),
      attachmentAssets: [],
      balance: zero,
      balanceVersion: 0,
      integrationPaymentStatuses: {},
      appliedCreditNotes: [],
      appliedCreditGrants: [],
      projectedCreditGrants: [],
      paymentAllocations: [],
      paymentTermDays: 30,
      dueDateSource: body.dueDate ? 'MANUAL' : 'CALCULATED',
    }) as Invoice;
    this.ctx.s.invoices[id] = invoice;
    this.ctx.fire('INVOICE_CREATED', 'Invoice', invoice, opts.silent);
    return invoice;
  }

  /** PUT (`partial` false) or PATCH (`partial` true) of the header. */
  update(id: string, raw: unknown, partial = false): Invoice {
    const inv = this.editable(id);
    const body = parse(invoiceUpdateBody, raw);
    const fields = compact(body) as Record<string, unknown>;
    if (!partial) {
      // PUT replaces the optional header fields it does not repeat.
      for (const key of ['dueDate', 'purchaseOrderNumber', 'reference', 'memo', 'billingPeriod'] as const) {
        if (!(key in fields)) delete (inv as Record<string, unknown>)[key];
      }
    }
    for (const [k, v] of Object.entries(fields)) {
      (inv as Record<string, unknown>)[k] = k.endsWith('Address') ? compact({ ...(v as object) }) : v;
    }
    if (body.currency) this.recalculate(inv);
    inv.updatedAt = this.ctx.iso();
    this.ctx.fire('INVOICE_UPDATED', 'Invoice', inv);
    return inv;
  }

  delete(id: string): { id: string; success: boolean } {
    const inv = this.get(id);
    if (inv.status !== 'DRAFT' && inv.status !== 'IN_PROGRESS') throw badRequest(`Invoice ${id} is ${inv.status}; only DRAFT or IN_PROGRESS invoices can be deleted`, 'invalidInvoiceStatus');
    const s = this.ctx.s;
    delete s.invoices[id];
    for (const [lid, l] of Object.entries(s.lineItems)) if (l.invoiceId === id) delete s.lineItems[lid];
    for (const [gid, g] of Object.entries(s.lineItemGroups)) if (g.invoiceId === id) delete s.lineItemGroups[gid];
    this.ctx.changed();
    return { id, success: true };
  }

  list(query: URLSearchParams): Invoice[] {
    const status = query.get('invoiceStatus');
    const customerId = query.get('customerId');
    const statuses = status ? status.split(',') : undefined;
    return Object.values(this.records).filter((i) => (!statuses || statuses.includes(i.status)) && (!customerId || i.customerId === customerId));
  }

  /** The lines or groups of an invoice, in their order. */
  private partsOf<K extends Part>(table: K, invoiceId: string): SimState[K][string][] {
    return Object.values(this.ctx.s[table] as Record<string, SimState[K][string]>)
      .filter((p) => p.invoiceId === invoiceId)
      .sort((a, b) => a.index - b.index);
  }

  /** One line or group of an invoice, or Sequence's 404. */
  private partOf<K extends Part>(table: K, invoiceId: string, id: string): SimState[K][string] {
    this.get(invoiceId);
    const part = (this.ctx.s[table] as Record<string, SimState[K][string]>)[id];
    if (!part || part.invoiceId !== invoiceId) throw notFound(PART_NAMES[table], id);
    return part;
  }

  /** Stores (or, `part` undefined, removes) a line or group of a DRAFT invoice and recalculates it. */
  private savePart<K extends Part>(table: K, inv: Invoice, id: string, part: SimState[K][string] | undefined, silent = false): void {
    const records = this.ctx.s[table] as Record<string, SimState[K][string]>;
    if (part) records[id] = part;
    else delete records[id];
    this.touch(inv, silent);
  }

  lines(invoiceId: string): LineItem[] {
    return this.partsOf('lineItems', invoiceId);
  }

  groups(invoiceId: string): LineItemGroup[] {
    return this.partsOf('lineItemGroups', invoiceId);
  }

  /** Line totals, group totals and invoice totals with the one rounding rule. */
  private recalculate(inv: Invoice): void {
    const cur = inv.currency as CurrencyCode;
    const lines = this.lines(inv.id);
    for (const l of lines) {
      l.netTotal = sequenceLineNetTotal(l.quantity, l.rate, cur);
      l.totalTax = this.ctx.lineTax(l.netTotal, l.taxRate, cur);
      l.grossTotal = sequenceLineGross(l.netTotal, l.totalTax, cur);
    }
    for (const g of this.groups(inv.id)) Object.assign(g, totalsOf(lines.filter((l) => l.groupId === g.id), cur));
    Object.assign(inv, totalsOf(lines, cur));
    inv.balance = inv.grossTotal;
    inv.balanceVersion = (inv.balanceVersion ?? 0) + 1;
    inv.calculatedAt = this.ctx.iso();
  }

  /** Recalculated and saved; INVOICE_UPDATED unless `silent`. */
  private touch(inv: Invoice, silent = false): void {
    this.recalculate(inv);
    inv.updatedAt = this.ctx.iso();
    this.ctx.fire('INVOICE_UPDATED', 'Invoice', inv, silent);
  }

  // -- line items -------------------------------------------------------------------------------

  line(invoiceId: string, id: string): LineItem {
    return this.partOf('lineItems', invoiceId, id);
  }

  private lineFromBody(inv: Invoice, body: z.infer<typeof lineItemBody>, id: string, index: number): LineItem {
    const s = this.ctx.s;
    if (body.groupId !== undefined) {
      const g = s.lineItemGroups[body.groupId];
      if (!g || g.invoiceId !== inv.id) throw validationError([{ key: 'groupId', message: `Line item group ${body.groupId} does not exist on invoice ${inv.id}` }]);
    }
    let productId: string | undefined;
    if (body.priceId !== undefined) {
      const price = s.prices[body.priceId];
      if (!price) throw validationError([{ key: 'priceId', message: `Price ${body.priceId} does not exist` }]);
      productId = price.productId;
    }
    const cur = inv.currency as CurrencyCode;
    const netTotal = sequenceLineNetTotal(body.quantity, body.rate, cur);
    const totalTax = this.ctx.lineTax(netTotal, body.taxRate, cur);
    return compact({
      id,
      invoiceId: inv.id,
      title: body.title,
      description: body.description,
      quantity: body.quantity,
      rate: body.rate,
      taxRate: body.taxRate,
      servicePeriodStart: body.servicePeriodStart,
      servicePeriodEnd: body.servicePeriodEnd,
      servicePeriod: body.servicePeriod,
      index,
      groupId: body.groupId,
      netTotal,
      totalTax,
      grossTotal: sequenceLineGross(netTotal, totalTax, cur),
      priceId: body.priceId,
      rateDisplay: body.rateDisplay ?? 'ABSOLUTE',
      externalIds: body.externalIds,
      revenueClassification: body.revenueClassification,
      creditGrantId: body.creditGrantId,
      productId,
      revenueRecognitionMethod: body.revenueRecognitionMethod,
    }) as LineItem;
  }

  createLine(invoiceId: string, raw: unknown, opts: { silent?: boolean } = {}): LineItem {
    const inv = this.editable(invoiceId);
    const body = parse(lineItemBody, raw);
    const line = this.lineFromBody(inv, body, randomUUID(), nextIndex(this.lines(invoiceId)));
    this.savePart('lineItems', inv, line.id, line, opts.silent);
    return line;
  }

  updateLine(invoiceId: string, id: string, raw: unknown): LineItem {
    const existing = this.line(invoiceId, id);
    const inv = this.editable(invoiceId);
    const body = parse(lineItemBody, raw);
    const line = this.lineFromBody(inv, body, id, existing.index);
    if (!line.productId && existing.productId && body.priceId === undefined) line.productId = existing.productId;
    this.savePart('lineItems', inv, id, line);
    return line;
  }

  deleteLine(invoiceId: string, id: string): LineItem {
    const line = this.line(invoiceId, id);
    const inv = this.editable(invoiceId);
    this.savePart('lineItems', inv, id, undefined);
    return line;
  }

  // -- line item groups -------------------------------------------------------------------------

  group(invoiceId: string, id: string): LineItemGroup {
    return this.partOf('lineItemGroups', invoiceId, id);
  }

  createGroup(invoiceId: string, raw: unknown, opts: { silent?: boolean } = {}): LineItemGroup {
    const inv = this.editable(invoiceId);
    const body = parse(lineItemGroupBody, raw);
    const cat = this.ctx.checkTaxCategory(body.taxCategoryId);
    const zero = sumDecimals([], inv.currency as CurrencyCode);
    const group = compact({
      id: randomUUID(),
      invoiceId,
      title: body.title,
      description: body.description,
      index: body.index ?? nextIndex(this.groups(invoiceId)),
      netTotal: zero,
      totalTax: zero,
      grossTotal: zero,
      taxCategory: cat ? { id: cat.id, name: cat.name } : undefined,
    }) as LineItemGroup;
    this.savePart('lineItemGroups', inv, group.id, group, opts.silent);
    return group;
  }

  updateGroup(invoiceId: string, id: string, raw: unknown): LineItemGroup {
    const existing = this.group(invoiceId, id);
    const inv = this.editable(invoiceId);
    const body = parse(lineItemGroupBody, raw);
    const cat = this.ctx.checkTaxCategory(body.taxCategoryId);
    const group = compact({
      ...existing,
      title: body.title,
      description: body.description,
      index: body.index ?? existing.index,
      taxCategory: cat ? { id: cat.id, name: cat.name } : undefined,
    }) as LineItemGroup;
    this.savePart('lineItemGroups', inv, id, group);
    return group;
  }

  deleteGroup(invoiceId: string, id: string): LineItemGroup {
    const group = this.group(invoiceId, id);
    const inv = this.editable(invoiceId);
    for (const [lid, l] of Object.entries(this.ctx.s.lineItems)) if (l.groupId === id) delete this.ctx.s.lineItems[lid];
    this.savePart('lineItemGroups', inv, id, undefined);
    return group;
  }

  // -- status -----------------------------------------------------------------------------------

  private nextNumber(): string {
    this.ctx.s.counters.invoiceNumber += 1;
    return `SEQ${String(this.ctx.s.counters.invoiceNumber).padStart(5, '0')}`;
  }

  finalize(id: string, opts: { silent?: boolean } = {}): Invoice {
    const inv = this.get(id);
    if (inv.status !== 'DRAFT') throw badRequest(`Invoice ${id} is ${inv.status}; only DRAFT invoices can be finalized`, 'invalidInvoiceStatus');
    this.recalculate(inv);
    inv.status = 'FINAL';
    inv.invoiceNumber = inv.invoiceNumber ?? this.nextNumber();
    inv.issueDate = this.ctx.today();
    inv.updatedAt = this.ctx.iso();
    this.ctx.fire('INVOICE_UPDATED', 'Invoice', inv, opts.silent);
    return inv;
  }

  send(id: string, opts: { silent?: boolean } = {}): Invoice {
    const inv = this.get(id);
    if (inv.status !== 'FINAL') throw badRequest(`Invoice ${id} is ${inv.status}; only FINAL invoices can be sent`, 'invalidInvoiceStatus');
    inv.status = 'SENT';
    inv.dunningStatus = 'SCHEDULED';
    inv.updatedAt = this.ctx.iso();
    this.ctx.fire('INVOICE_UPDATED', 'Invoice', inv, opts.silent);
    this.ctx.fire('INVOICE_ISSUED', 'Invoice', inv, opts.silent);
    return inv;
  }

  finalizeAndSend(id: string): Invoice {
    if (this.get(id).status === 'DRAFT') this.finalize(id, { silent: true });
    return this.send(id);
  }

  /**
   * mark-as-sent: finalized if needed, then SENT, and "Emails or notifications are not sent.
   * Integration syncs do not happen." (the 2024-07-30 reference), so no webhook; `notify` (the
   * `markAsSentNotifies` fault) plays a Sequence that sends them anyway.
   */
  markAsSent(id: string, notify = false): Invoice {
    if (this.get(id).status === 'DRAFT') this.finalize(id, { silent: true });
    return this.send(id, { silent: !notify });
  }

  void(id: string, opts: { silent?: boolean } = {}): Invoice {
    const inv = this.get(id);
    if (inv.status === 'VOIDED' || inv.status === 'IN_PROGRESS') throw badRequest(`Invoice ${id} is ${inv.status} and cannot be voided`, 'invalidInvoiceStatus');
    if (inv.status === 'SENT' && inv.paymentStatus !== 'UNPAID' && inv.paymentStatus !== 'UNCOLLECTIBLE') {
      throw badRequest(`Invoice ${id} is ${inv.paymentStatus}; issue a credit note instead`, 'invalidInvoiceStatus');
    }
    inv.status = 'VOIDED';
    inv.invoiceNumber = inv.invoiceNumber ?? this.nextNumber();
    inv.updatedAt = this.ctx.iso();
    this.ctx.fire('INVOICE_UPDATED', 'Invoice', inv, opts.silent);
    return inv;
  }
}
