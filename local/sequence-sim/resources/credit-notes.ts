/** Simulated Sequence credit notes and their line items (2024-07-30). */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type CurrencyCode } from '../../../shared/domain/currency';
import { sequenceLineGross, sequenceLineNetTotal, sumDecimals } from '../../../shared/domain/sequence-tax-rule';
import { type CreditNote, type CreditNoteLineItem } from '../../../shared/sequence/schemas';
import { badRequest, validationError } from '../errors';
import { SimCollection, compact, nextIndex, parse, totalsOf } from './context';
import { currency, decimal, documentHeaderFields, externalIds, nonBlank, rateDisplay } from './request-fields';

const creditNoteBody = z.object({
  currency,
  customerId: nonBlank,
  invoiceId: z.string().optional(),
  billingPeriodStart: z.string().optional(),
  billingPeriodEnd: z.string().optional(),
  customerTaxId: z.string().optional(),
  ...documentHeaderFields,
});
const creditNoteLineBody = z.object({
  creditNoteId: nonBlank,
  groupId: z.string().optional(),
  lineItemId: z.string().optional(),
  title: nonBlank,
  description: z.string().optional(),
  quantity: decimal,
  rate: decimal,
  taxRate: decimal,
  rateDisplay: rateDisplay.optional(),
  externalIds,
  productId: z.string().optional(),
  invoiceLineItemIds: z.array(z.string()).optional(),
});

export class CreditNotes extends SimCollection<'creditNotes'> {
  create(raw: unknown): CreditNote {
    const body = parse(creditNoteBody, raw);
    const s = this.ctx.s;
    const customer = this.ctx.existingCustomer(body.customerId);
    const invoice = body.invoiceId !== undefined ? s.invoices[body.invoiceId] : undefined;
    if (body.invoiceId !== undefined && !invoice) throw validationError([{ key: 'invoiceId', message: `Invoice ${body.invoiceId} does not exist` }]);
    const zero = sumDecimals([], body.currency);
    const id = randomUUID();
    const cn = compact({
      id,
      sequenceAccountId: s.account.id,
      status: 'DRAFT',
      invoiceId: invoice?.id,
      invoiceNumber: invoice?.invoiceNumber ?? undefined,
      currency: body.currency,
      billingPeriodStart: body.billingPeriodStart,
      billingPeriodEnd: body.billingPeriodEnd,
      purchaseOrderNumber: body.purchaseOrderNumber,
      customerId: customer.id,
      customerEmails: body.customerEmails ?? this.ctx.billingEmails(customer),
      customerLegalCompanyName: body.customerLegalCompanyName ?? customer.legalName,
      customerBillingAddress: compact({ ...(body.customerBillingAddress ?? invoice?.customerBillingAddress ?? customer.address) }),
      customerShippingAddress: compact({ ...(body.customerShippingAddress ?? invoice?.customerShippingAddress ?? customer.address) }),
      memo: body.memo,
      totalTax: zero,
      netTotal: zero,
      grossTotal: zero,
      metadata: body.metadata ?? [],
      customerTaxId: body.customerTaxId ?? this.ctx.customerTaxId(customer.id),
      linkedServices: [],
      applicationStatus: 'UNAPPLIED',
      balance: zero,
      balanceVersion: 0,
      applications: [],
      merchantDetails: structuredClone(s.merchantDetails),
      settings: { generateCashCreditGrant: 'DISABLED' },
      accountingDate: body.accountingDate ?? this.ctx.today(),
    }) as CreditNote;
    s.creditNotes[id] = cn;
    if (invoice) {
      invoice.creditNoteIds = [...invoice.creditNoteIds, id];
      invoice.updatedAt = this.ctx.iso();
    }
    this.ctx.fire('CREDIT_NOTE_CREATED', 'CreditNote', cn);
    return cn;
  }

  list(query: URLSearchParams): CreditNote[] {
    const customerId = query.get('customerId');
    const invoiceId = query.get('invoiceId');
    return Object.values(this.records).filter((c) => (!customerId || c.customerId === customerId) && (!invoiceId || c.invoiceId === invoiceId));
  }

  lines(creditNoteId: string): CreditNoteLineItem[] {
    return Object.values(this.ctx.s.creditNoteLineItems)
      .filter((l) => l.creditNoteId === creditNoteId)
      .sort((a, b) => a.index - b.index);
  }

  createLine(creditNoteId: string, raw: unknown): CreditNoteLineItem {
    const cn = this.get(creditNoteId);
    if (cn.status !== 'DRAFT') throw badRequest(`Credit note ${creditNoteId} is ${cn.status}; only DRAFT credit notes can be edited`, 'invalidCreditNoteStatus');
    const body = parse(creditNoteLineBody, { creditNoteId, ...(raw as object) });
    if (body.creditNoteId !== creditNoteId) throw validationError([{ key: 'creditNoteId', message: 'creditNoteId does not match the path' }]);
    const cur = cn.currency as CurrencyCode;
    const lines = this.lines(creditNoteId);
    const netTotal = sequenceLineNetTotal(body.quantity, body.rate, cur);
    const totalTax = this.ctx.lineTax(netTotal, body.taxRate, cur);
    const line = compact({
      id: randomUUID(),
      creditNoteId,
      groupId: body.groupId,
      lineItemId: body.lineItemId,
      title: body.title,
      description: body.description,
      quantity: body.quantity,
      rate: body.rate,
      taxRate: body.taxRate,
      index: nextIndex(lines),
      netTotal,
      totalTax,
      grossTotal: sequenceLineGross(netTotal, totalTax, cur),
      rateDisplay: body.rateDisplay ?? 'ABSOLUTE',
      externalIds: body.externalIds,
      productId: body.productId ?? (body.lineItemId ? (this.ctx.s.lineItems[body.lineItemId]?.productId ?? undefined) : undefined),
    }) as CreditNoteLineItem;
    this.ctx.s.creditNoteLineItems[line.id] = line;
    Object.assign(cn, totalsOf([...lines, line], cur));
    cn.balance = cn.grossTotal;
    this.ctx.fire('CREDIT_NOTE_UPDATED', 'CreditNote', cn);
    return line;
  }

  finalize(id: string, silent = false): CreditNote {
    const cn = this.get(id);
    if (cn.status !== 'DRAFT') throw badRequest(`Credit note ${id} is ${cn.status}; only DRAFT credit notes can be finalized`, 'invalidCreditNoteStatus');
    cn.status = 'FINAL';
    this.ctx.s.counters.creditNoteNumber += 1;
    cn.creditNoteNumber = `SCN${String(this.ctx.s.counters.creditNoteNumber).padStart(5, '0')}`;
    cn.issueDate = this.ctx.today();
    this.ctx.fire('CREDIT_NOTE_UPDATED', 'CreditNote', cn, silent);
    return cn;
  }

  /** send / finalize-and-send / mark-as-sent: the credit note is issued; mark-as-sent notifies no one (`silent`), as for invoices. */
  issue(id: string, opts: { silent?: boolean } = {}): CreditNote {
    const cn = this.get(id);
    if (cn.status === 'DRAFT') this.finalize(id, true);
    if (cn.status !== 'FINAL') throw badRequest(`Credit note ${id} is ${cn.status}; only FINAL credit notes can be sent`, 'invalidCreditNoteStatus');
    cn.status = 'SENT';
    this.ctx.fire('CREDIT_NOTE_UPDATED', 'CreditNote', cn, opts.silent);
    this.ctx.fire('CREDIT_NOTE_ISSUED', 'CreditNote', cn, opts.silent);
    return cn;
  }

  void(id: string): CreditNote {
    const cn = this.get(id);
    if (cn.status === 'VOIDED') throw badRequest(`Credit note ${id} is already VOIDED`, 'invalidCreditNoteStatus');
    cn.status = 'VOIDED';
    this.ctx.fire('CREDIT_NOTE_UPDATED', 'CreditNote', cn);
    return cn;
  }
}
