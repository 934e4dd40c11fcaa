/**
 * The simulated Sequence resources: validation, state transitions and computed totals. Every
 * method either returns the API response body or throws a SimHttpError with Sequence's error body.
 * Money is computed with shared/domain/sequence-tax-rule.ts, the one rounding rule.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CURRENCIES, type CurrencyCode, currencyExponent } from '../../shared/domain/currency';
import { Decimal, isDecimalString } from '../../shared/domain/decimal';
import { sequenceLineGross, sequenceLineNetTotal, sequenceLineTax, sumDecimals } from '../../shared/domain/sequence-tax-rule';
import {
  COUNTRY_CODES,
  type CreditNote,
  type CreditNoteLineItem,
  type Customer,
  type Invoice,
  type LineItem,
  type LineItemGroup,
  type NotificationPolicy,
  type Price,
  type Product,
  type TaxCategory,
  type TaxRegistration,
  INTEGRATION_SERVICES,
  NOTIFICATION_TYPES,
  STATES,
} from '../../shared/sequence/schemas';
import { type FieldError, badRequest, databaseError, notFound, validationError, zodValidationError } from './errors';
import { type SimState } from './store';

/**
 * How the simulated Sequence computes a line's totalTax from its taxRate (the `lineTaxRule` fault):
 * `fraction_half_up` is the rule the connector assumes (shared/domain/sequence-tax-rule.ts);
 * `fraction_round_down` truncates instead; `percent` reads taxRate as a percentage ("20" = 20%).
 */
export type LineTaxRule = 'fraction_half_up' | 'fraction_round_down' | 'percent';

// ---------------------------------------------------------------------------------------------
// Request schemas (lenient about unknown keys, like a typical JSON API; strict about types)
// ---------------------------------------------------------------------------------------------

const decimal = z.string().refine(isDecimalString, 'must be a decimal string like "12.50"');
const nonBlank = z.string().trim().min(1, 'should not be blank');
const currency = z.enum(CURRENCIES as [CurrencyCode, ...CurrencyCode[]]);
const country = z.enum(COUNTRY_CODES as [string, ...string[]]);
const state = z.enum(STATES as [string, ...string[]]);
const taxStatus = z.enum(['TAXED', 'TAX_EXEMPT', 'REVERSE_CHARGED']);
const integrationService = z.enum(INTEGRATION_SERVICES);

const addressBody = z
  .object({ line1: nonBlank, line2: z.string().optional(), town: nonBlank, state: state.optional(), postcode: z.string(), country })
  .superRefine((a, ctx) => {
    if ((a.country === 'US' || a.country === 'CA') && !a.state) {
      ctx.addIssue({ code: 'custom', path: ['state'], message: 'state is required for USA and Canada' });
    }
  });

const customerBody = z.object({
  legalName: nonBlank,
  address: addressBody,
  contacts: z.array(z.object({ name: z.string(), email: z.string().email(), billingPreference: z.enum(['PRIMARY', 'STANDARD', 'NONE']) })),
  taxStatus,
  url: z.string().optional(),
  label: z.string().optional(),
  customerAliases: z.array(z.string()).optional(),
  integrationIds: z.array(z.object({ service: integrationService, id: z.string() })).optional(),
  parentId: z.string().optional(),
  status: z.enum(['DRAFT', 'ACTIVE']).optional(),
  customProperties: z.record(z.string(), z.string()).optional(),
});

const productBody = z.object({ name: nonBlank, label: z.string().optional(), taxCategoryId: z.string().optional() });

const priceBody = z.object({
  productId: nonBlank,
  name: nonBlank,
  currency,
  structure: z.looseObject({ pricingType: z.enum(['ONE_TIME', 'FIXED', 'LINEAR', 'PACKAGE', 'GRADUATED', 'VOLUME', 'SEAT_BASED']) }),
  billingFrequency: z.enum(['ON_DEMAND', 'ONE_TIME', 'MONTHLY', 'QUARTERLY', 'HALF_YEARLY', 'YEARLY', 'PER_EVENT']),
  billingType: z.enum(['IN_ARREARS', 'IN_ADVANCE']),
  integrationIds: z.array(z.object({ service: integrationService, id: z.string() })).optional(),
  customMetricParameters: z.array(z.object({ parameterId: z.string(), value: z.string() })).optional(),
  listPriceId: z.string().optional(),
  status: z.enum(['DRAFT', 'ACTIVE']).optional(),
});

const invoiceHeaderFields = {
  dueDate: z.string().optional(),
  purchaseOrderNumber: z.string().optional(),
  reference: z.string().optional(),
  customerEmails: z.array(z.string()).optional(),
  customerLegalCompanyName: z.string().optional(),
  customerBillingAddress: addressBody.optional(),
  customerShippingAddress: addressBody.optional(),
  memo: z.string().optional(),
  paymentOptions: z.array(z.enum(['BANK_TRANSFER', 'LINK'])).optional(),
  billingPeriod: z.object({ start: z.string(), endInclusive: z.string() }).optional(),
  metadata: z.array(z.object({ key: z.string(), value: z.string() })).optional(),
  accountingDate: z.string().optional(),
};
const invoiceCreateBody = z.object({ currency, customerId: nonBlank, billingScheduleId: z.string().optional(), ...invoiceHeaderFields });
const invoiceUpdateBody = z.object({ currency: currency.optional(), ...invoiceHeaderFields });

const externalIds = z.array(z.object({ key: integrationService, value: z.string() }));
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
  rateDisplay: z.enum(['ABSOLUTE', 'PERCENTAGE']).optional(),
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

const creditNoteBody = z.object({
  currency,
  customerId: nonBlank,
  invoiceId: z.string().optional(),
  billingPeriodStart: z.string().optional(),
  billingPeriodEnd: z.string().optional(),
  purchaseOrderNumber: z.string().optional(),
  customerEmails: z.array(z.string()).optional(),
  customerLegalCompanyName: z.string().optional(),
  customerBillingAddress: addressBody.optional(),
  customerShippingAddress: addressBody.optional(),
  memo: z.string().optional(),
  metadata: z.array(z.object({ key: z.string(), value: z.string() })).optional(),
  customerTaxId: z.string().optional(),
  accountingDate: z.string().optional(),
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
  rateDisplay: z.enum(['ABSOLUTE', 'PERCENTAGE']).optional(),
  externalIds,
  productId: z.string().optional(),
  invoiceLineItemIds: z.array(z.string()).optional(),
});

const taxRegistrationBody = z.object({
  taxIdentifier: nonBlank,
  customerId: z.string().nullish(),
  merchantId: z.string().nullish(),
  country,
  state: state.nullish(),
});

const policyBody = z.object({
  name: nonBlank,
  recipients: z.array(z.string()).min(1, 'should not be empty'),
  channel: z.enum(['WEBHOOK', 'EMAIL']),
  notificationTypes: z.array(z.string()).optional(),
  webhookSecret: z.string().optional(),
});

const taxCategoryBody = z.object({ name: nonBlank, description: z.string().optional() });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw zodValidationError(result.error);
  return result.data;
}

/** Drop undefined keys so optional fields are absent, never `null` (the spec rarely allows null). */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

export type SimEventType =
  | 'CUSTOMER_CREATED'
  | 'CUSTOMER_UPDATED'
  | 'CUSTOMER_ARCHIVED'
  | 'INVOICE_CREATED'
  | 'INVOICE_UPDATED'
  | 'INVOICE_ISSUED'
  | 'CREDIT_NOTE_CREATED'
  | 'CREDIT_NOTE_UPDATED'
  | 'CREDIT_NOTE_ISSUED';

export interface SimEvent {
  notificationType: SimEventType;
  resourceType: 'Customer' | 'Invoice' | 'CreditNote';
  resource: { id: string };
}

// ---------------------------------------------------------------------------------------------
// The resources
// ---------------------------------------------------------------------------------------------

export class SequenceResources {
  constructor(
    readonly state: () => SimState,
    private readonly now: () => number,
    private readonly emit: (event: SimEvent) => void,
    private readonly changed: () => void,
    /** The `lineTaxRule` fault: how this simulated Sequence turns a line's taxRate into totalTax. */
    private readonly lineTaxRule: () => LineTaxRule = () => 'fraction_half_up',
  ) {}

  /** A line's totalTax: the connector's assumed rule, unless a fault plays a Sequence that computes differently. */
  private lineTax(netTotal: string, taxRate: string, currency: CurrencyCode): string {
    switch (this.lineTaxRule()) {
      case 'fraction_round_down':
        return new Decimal(netTotal).times(taxRate).toDecimalPlaces(currencyExponent(currency), Decimal.ROUND_DOWN).toFixed(currencyExponent(currency));
      case 'percent':
        return sequenceLineTax(netTotal, new Decimal(taxRate).dividedBy(100).toFixed(), currency);
      default:
        return sequenceLineTax(netTotal, taxRate, currency);
    }
  }

  private get s(): SimState {
    return this.state();
  }

  private iso(): string {
    return new Date(this.now()).toISOString();
  }

  private today(): string {
    return this.iso().slice(0, 10);
  }

  private fire(notificationType: SimEventType, resourceType: SimEvent['resourceType'], resource: { id: string }): void {
    this.changed();
    this.emit({ notificationType, resourceType, resource });
  }

  // -- customers ------------------------------------------------------------------------------

  customer(id: string): Customer {
    const c = this.s.customers[id];
    if (!c) throw notFound('Customer', id);
    return c;
  }

  private buildCustomer(body: z.infer<typeof customerBody>, existing: Customer | undefined, id: string): Customer {
    const now = this.iso();
    const contacts = body.contacts.map((c) => {
      const previous = existing?.contacts.find((p) => p.email === c.email && !p.archivedAt);
      return { id: previous?.id ?? randomUUID(), name: c.name, email: c.email, billingPreference: c.billingPreference, createdAt: previous?.createdAt ?? now, updatedAt: now };
    });
    if (contacts.some((c) => c.billingPreference !== 'NONE') && !contacts.some((c) => c.billingPreference === 'PRIMARY')) {
      throw validationError([{ key: 'contacts', message: 'contacts must include a PRIMARY contact when any contact receives billing communications' }]);
    }
    return compact({
      id,
      createdAt: existing?.createdAt ?? now,
      organizations: existing?.organizations ?? [],
      legalName: body.legalName,
      address: compact({ ...body.address }),
      url: body.url,
      domain: body.url ? body.url.replace(/^https?:\/\//, '').replace(/\/.*$/, '') : undefined,
      label: body.label,
      integrationIds: (body.integrationIds ?? []).map((i) => ({ service: i.service, id: i.id, isPending: false, lastSynced: now })),
      archivedAt: existing?.archivedAt ?? undefined,
      taxStatus: body.taxStatus,
      contacts,
      status: body.status ?? existing?.status ?? 'ACTIVE',
      customProperties: body.customProperties ?? existing?.customProperties ?? {},
    }) as Customer;
  }

  createCustomer(raw: unknown, opts: { id?: string; silent?: boolean } = {}): Customer {
    const body = parse(customerBody, raw);
    const id = opts.id ?? randomUUID();
    if (this.s.customers[id]) throw badRequest(`Customer with id ${id} already exists`);
    const customer = this.buildCustomer(body, undefined, id);
    this.s.customers[id] = customer;
    if (!opts.silent) this.fire('CUSTOMER_CREATED', 'Customer', customer);
    else this.changed();
    return customer;
  }

  updateCustomer(id: string, raw: unknown): Customer {
    const existing = this.customer(id);
    const body = parse(customerBody, raw);
    const customer = this.buildCustomer(body, existing, id);
    this.s.customers[id] = customer;
    this.refreshDraftInvoicesFor(id);
    this.fire('CUSTOMER_UPDATED', 'Customer', customer);
    return customer;
  }

  archiveCustomer(id: string): Customer {
    const customer = this.customer(id);
    if (!customer.archivedAt) customer.archivedAt = this.iso();
    for (const inv of Object.values(this.s.invoices)) if (inv.customerId === id) inv.isCustomerArchived = true;
    this.fire('CUSTOMER_ARCHIVED', 'Customer', customer);
    return customer;
  }

  listCustomers(query: URLSearchParams): Record<string, unknown>[] {
    const legalName = query.get('legalName')?.toLowerCase();
    const includeArchived = query.get('includeArchived') === 'true';
    return Object.values(this.s.customers)
      .filter((c) => includeArchived || !c.archivedAt)
      .filter((c) => !legalName || c.legalName.toLowerCase().includes(legalName))
      .map((c) => {
        // ListCustomerResponseModel omits contacts and status.
        const { contacts: _contacts, status: _status, ...rest } = c;
        return rest;
      });
  }

  // -- products, prices, tax categories -------------------------------------------------------

  product(id: string): Product {
    const p = this.s.products[id];
    if (!p) throw notFound('Product', id);
    return p;
  }

  private checkTaxCategory(id: string | undefined, key = 'taxCategoryId'): TaxCategory | undefined {
    if (id === undefined) return undefined;
    const cat = this.s.taxCategories[id];
    if (!cat) throw validationError([{ key, message: 'Tax category invalid' }]);
    return cat;
  }

  createProduct(raw: unknown, opts: { id?: string } = {}): Product {
    const body = parse(productBody, raw);
    this.checkTaxCategory(body.taxCategoryId);
    const now = this.iso();
    const id = opts.id ?? randomUUID();
    const product = compact({ id, name: body.name, label: body.label, taxCategoryId: body.taxCategoryId, createdAt: now, updatedAt: now }) as Product;
    this.s.products[id] = product;
    this.changed();
    return product;
  }

  updateProduct(id: string, raw: unknown): Product {
    const existing = this.product(id);
    const body = parse(productBody, raw);
    this.checkTaxCategory(body.taxCategoryId);
    const product = compact({ id, name: body.name, label: body.label, taxCategoryId: body.taxCategoryId, createdAt: existing.createdAt, updatedAt: this.iso(), archivedAt: existing.archivedAt ?? undefined }) as Product;
    this.s.products[id] = product;
    this.changed();
    return product;
  }

  archiveProduct(id: string): Product {
    const product = this.product(id);
    if (!product.archivedAt) product.archivedAt = this.iso();
    product.updatedAt = this.iso();
    this.changed();
    // Stable20240509ProductResponse: no taxCategoryId.
    const { taxCategoryId: _t, ...rest } = product;
    return rest as Product;
  }

  listProducts(query: URLSearchParams): Product[] {
    const name = query.get('name')?.toLowerCase();
    return Object.values(this.s.products).filter((p) => !name || p.name.toLowerCase().includes(name));
  }

  price(id: string): Price {
    const p = this.s.prices[id];
    if (!p) throw notFound('Price', id);
    return p;
  }

  createPrice(raw: unknown): Price {
    const body = parse(priceBody, raw);
    if (!this.s.products[body.productId]) throw validationError([{ key: 'productId', message: `Product ${body.productId} does not exist` }]);
    const structurePrice = (body.structure as Record<string, unknown>).price;
    if ((body.structure.pricingType === 'FIXED' || body.structure.pricingType === 'ONE_TIME') && (typeof structurePrice !== 'string' || !isDecimalString(structurePrice))) {
      throw validationError([{ key: 'structure.price', message: 'structure.price must be a decimal string' }]);
    }
    const now = this.iso();
    const id = randomUUID();
    const price = compact({
      id,
      productId: body.productId,
      name: body.name,
      currency: body.currency,
      structure: body.structure,
      billingFrequency: body.billingFrequency,
      billingType: body.billingType,
      createdAt: now,
      updatedAt: now,
      integrationIds: (body.integrationIds ?? []).map((i) => ({ ...i, isPending: false })),
      customMetricParameters: body.customMetricParameters ?? [],
      listPriceId: body.listPriceId,
      status: body.status ?? 'ACTIVE',
    }) as Price;
    this.s.prices[id] = price;
    this.changed();
    return price;
  }

  listPrices(query: URLSearchParams): Price[] {
    const productId = query.get('productId');
    const cur = query.get('currency');
    return Object.values(this.s.prices).filter((p) => (!productId || p.productId === productId) && (!cur || p.currency === cur));
  }

  taxCategory(id: string): TaxCategory {
    const c = this.s.taxCategories[id];
    if (!c) throw notFound('TaxCategory', id);
    return c;
  }

  createTaxCategory(raw: unknown, opts: { id?: string } = {}): TaxCategory {
    const body = parse(taxCategoryBody, raw);
    const id = opts.id ?? randomUUID();
    const cat = compact({ id, versionId: randomUUID(), sequenceAccountId: this.s.account.id, version: 1, isPublished: true, name: body.name, description: body.description }) as TaxCategory;
    this.s.taxCategories[id] = cat;
    this.changed();
    return cat;
  }

  updateTaxCategory(id: string, raw: unknown): TaxCategory {
    const existing = this.taxCategory(id);
    const body = parse(taxCategoryBody, raw);
    const cat = compact({ ...existing, versionId: randomUUID(), version: (existing.version ?? 1) + 1, name: body.name, description: body.description }) as TaxCategory;
    this.s.taxCategories[id] = cat;
    for (const g of Object.values(this.s.lineItemGroups)) if (g.taxCategory?.id === id) g.taxCategory = { id, name: cat.name };
    this.changed();
    return cat;
  }

  deleteTaxCategory(id: string): TaxCategory {
    const cat = this.taxCategory(id);
    if (Object.values(this.s.products).some((p) => p.taxCategoryId === id)) throw badRequest('Tax category is in use by a product');
    delete this.s.taxCategories[id];
    this.changed();
    return cat;
  }

  // -- invoices -------------------------------------------------------------------------------

  invoice(id: string): Invoice {
    const inv = this.s.invoices[id];
    if (!inv) throw notFound('Invoice', id);
    return inv;
  }

  private editable(inv: Invoice): void {
    if (inv.status !== 'DRAFT') throw badRequest(`Invoice ${inv.id} is ${inv.status}; only DRAFT invoices can be edited`, 'invalidInvoiceStatus');
  }

  private customerTaxId(customerId: string): string | undefined {
    return Object.values(this.s.taxRegistrations).find((r) => r.customerId === customerId)?.taxIdentifier;
  }

  private billingEmails(customer: Customer): string[] {
    return customer.contacts.filter((c) => !c.archivedAt && c.billingPreference !== 'NONE').map((c) => c.email);
  }

  createInvoice(raw: unknown, opts: { silent?: boolean } = {}): Invoice {
    const body = parse(invoiceCreateBody, raw);
    const customer = this.s.customers[body.customerId];
    if (!customer) throw validationError([{ key: 'customerId', message: `Customer ${body.customerId} does not exist` }]);
    const now = this.iso();
    const id = randomUUID();
    const zero = sumDecimals([], body.currency);
    const invoice = compact({
      id,
      sequenceAccountId: this.s.account.id,
      billingScheduleId: body.billingScheduleId,
      status: 'DRAFT',
      currency: body.currency,
      dueDate: body.dueDate ?? new Date(this.now() + 30 * 86_400_000).toISOString().slice(0, 10),
      purchaseOrderNumber: body.purchaseOrderNumber,
      reference: body.reference,
      customerEmails: body.customerEmails ?? this.billingEmails(customer),
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
      customerTaxId: this.customerTaxId(customer.id),
      customerTaxStatus: customer.taxStatus,
      paymentStatus: 'UNPAID',
      createdAt: now,
      updatedAt: now,
      creditNoteIds: [],
      linkedServices: [],
      merchantDetails: structuredClone(this.s.merchantDetails),
      dunningStatus: 'NOT_REQUIRED',
      accountingDate: body.accountingDate ?? this.today(),
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
    this.s.invoices[id] = invoice;
    if (!opts.silent) this.fire('INVOICE_CREATED', 'Invoice', invoice);
    else this.changed();
    return invoice;
  }

  updateInvoice(id: string, raw: unknown, partial: boolean): Invoice {
    const inv = this.invoice(id);
    this.editable(inv);
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
    inv.updatedAt = this.iso();
    this.fire('INVOICE_UPDATED', 'Invoice', inv);
    return inv;
  }

  deleteInvoice(id: string): { id: string; success: boolean } {
    const inv = this.invoice(id);
    if (inv.status !== 'DRAFT' && inv.status !== 'IN_PROGRESS') throw badRequest(`Invoice ${id} is ${inv.status}; only DRAFT or IN_PROGRESS invoices can be deleted`, 'invalidInvoiceStatus');
    delete this.s.invoices[id];
    for (const [lid, l] of Object.entries(this.s.lineItems)) if (l.invoiceId === id) delete this.s.lineItems[lid];
    for (const [gid, g] of Object.entries(this.s.lineItemGroups)) if (g.invoiceId === id) delete this.s.lineItemGroups[gid];
    this.changed();
    return { id, success: true };
  }

  /** Customer changes flow into DRAFT invoices (tax status, tax id), as a recalculation would. */
  private refreshDraftInvoicesFor(customerId: string): void {
    const customer = this.s.customers[customerId];
    if (!customer) return;
    for (const inv of Object.values(this.s.invoices)) {
      if (inv.customerId !== customerId || inv.status !== 'DRAFT') continue;
      inv.customerTaxStatus = customer.taxStatus;
      const taxId = this.customerTaxId(customerId);
      if (taxId) inv.customerTaxId = taxId;
      else delete (inv as Record<string, unknown>).customerTaxId;
    }
  }

  invoiceLines(invoiceId: string): LineItem[] {
    return Object.values(this.s.lineItems)
      .filter((l) => l.invoiceId === invoiceId)
      .sort((a, b) => a.index - b.index);
  }

  invoiceGroups(invoiceId: string): LineItemGroup[] {
    return Object.values(this.s.lineItemGroups)
      .filter((g) => g.invoiceId === invoiceId)
      .sort((a, b) => a.index - b.index);
  }

  /** Line totals, group totals and invoice totals with the one rounding rule. */
  private recalculate(inv: Invoice): void {
    const cur = inv.currency as CurrencyCode;
    const lines = this.invoiceLines(inv.id);
    for (const l of lines) {
      l.netTotal = sequenceLineNetTotal(l.quantity, l.rate, cur);
      l.totalTax = this.lineTax(l.netTotal, l.taxRate, cur);
      l.grossTotal = sequenceLineGross(l.netTotal, l.totalTax, cur);
    }
    for (const g of this.invoiceGroups(inv.id)) {
      const mine = lines.filter((l) => l.groupId === g.id);
      g.netTotal = sumDecimals(mine.map((l) => l.netTotal), cur);
      g.totalTax = sumDecimals(mine.map((l) => l.totalTax), cur);
      g.grossTotal = sumDecimals(mine.map((l) => l.grossTotal), cur);
    }
    inv.netTotal = sumDecimals(lines.map((l) => l.netTotal), cur);
    inv.totalTax = sumDecimals(lines.map((l) => l.totalTax), cur);
    inv.grossTotal = sumDecimals(lines.map((l) => l.grossTotal), cur);
    inv.balance = inv.grossTotal;
    inv.balanceVersion = (inv.balanceVersion ?? 0) + 1;
    inv.calculatedAt = this.iso();
  }

  private lineFromBody(inv: Invoice, body: z.infer<typeof lineItemBody>, id: string, index: number): LineItem {
    if (body.groupId !== undefined) {
      const g = this.s.lineItemGroups[body.groupId];
      if (!g || g.invoiceId !== inv.id) throw validationError([{ key: 'groupId', message: `Line item group ${body.groupId} does not exist on invoice ${inv.id}` }]);
    }
    let productId: string | undefined;
    if (body.priceId !== undefined) {
      const price = this.s.prices[body.priceId];
      if (!price) throw validationError([{ key: 'priceId', message: `Price ${body.priceId} does not exist` }]);
      productId = price.productId;
    }
    const cur = inv.currency as CurrencyCode;
    const netTotal = sequenceLineNetTotal(body.quantity, body.rate, cur);
    const totalTax = this.lineTax(netTotal, body.taxRate, cur);
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

  lineItem(invoiceId: string, id: string): LineItem {
    this.invoice(invoiceId);
    const l = this.s.lineItems[id];
    if (!l || l.invoiceId !== invoiceId) throw notFound('LineItem', id);
    return l;
  }

  createLineItem(invoiceId: string, raw: unknown, opts: { silent?: boolean } = {}): LineItem {
    const inv = this.invoice(invoiceId);
    this.editable(inv);
    const body = parse(lineItemBody, raw);
    const lines = this.invoiceLines(invoiceId);
    const index = lines.length === 0 ? 0 : Math.max(...lines.map((l) => l.index)) + 1;
    const line = this.lineFromBody(inv, body, randomUUID(), index);
    this.s.lineItems[line.id] = line;
    this.touchInvoice(inv, opts.silent);
    return line;
  }

  updateLineItem(invoiceId: string, id: string, raw: unknown): LineItem {
    const existing = this.lineItem(invoiceId, id);
    const inv = this.invoice(invoiceId);
    this.editable(inv);
    const body = parse(lineItemBody, raw);
    const line = this.lineFromBody(inv, body, id, existing.index);
    if (!line.productId && existing.productId && body.priceId === undefined) line.productId = existing.productId;
    this.s.lineItems[id] = line;
    this.touchInvoice(inv);
    return line;
  }

  deleteLineItem(invoiceId: string, id: string): LineItem {
    const line = this.lineItem(invoiceId, id);
    const inv = this.invoice(invoiceId);
    this.editable(inv);
    delete this.s.lineItems[id];
    this.touchInvoice(inv);
    return line;
  }

  private touchInvoice(inv: Invoice, silent = false): void {
    this.recalculate(inv);
    inv.updatedAt = this.iso();
    if (silent) this.changed();
    else this.fire('INVOICE_UPDATED', 'Invoice', inv);
  }

  lineItemGroup(invoiceId: string, id: string): LineItemGroup {
    this.invoice(invoiceId);
    const g = this.s.lineItemGroups[id];
    if (!g || g.invoiceId !== invoiceId) throw notFound('LineItemGroup', id);
    return g;
  }

  createLineItemGroup(invoiceId: string, raw: unknown, opts: { silent?: boolean } = {}): LineItemGroup {
    const inv = this.invoice(invoiceId);
    this.editable(inv);
    const body = parse(lineItemGroupBody, raw);
    const cat = this.checkTaxCategory(body.taxCategoryId);
    const groups = this.invoiceGroups(invoiceId);
    const zero = sumDecimals([], inv.currency as CurrencyCode);
    const group = compact({
      id: randomUUID(),
      invoiceId,
      title: body.title,
      description: body.description,
      index: body.index ?? (groups.length === 0 ? 0 : Math.max(...groups.map((g) => g.index)) + 1),
      netTotal: zero,
      totalTax: zero,
      grossTotal: zero,
      taxCategory: cat ? { id: cat.id, name: cat.name } : undefined,
    }) as LineItemGroup;
    this.s.lineItemGroups[group.id] = group;
    this.touchInvoice(inv, opts.silent);
    return group;
  }

  updateLineItemGroup(invoiceId: string, id: string, raw: unknown): LineItemGroup {
    const existing = this.lineItemGroup(invoiceId, id);
    const inv = this.invoice(invoiceId);
    this.editable(inv);
    const body = parse(lineItemGroupBody, raw);
    const cat = this.checkTaxCategory(body.taxCategoryId);
    const group = compact({
      ...existing,
      title: body.title,
      description: body.description,
      index: body.index ?? existing.index,
      taxCategory: cat ? { id: cat.id, name: cat.name } : undefined,
    }) as LineItemGroup;
    this.s.lineItemGroups[id] = group;
    this.touchInvoice(inv);
    return group;
  }

  deleteLineItemGroup(invoiceId: string, id: string): LineItemGroup {
    const group = this.lineItemGroup(invoiceId, id);
    const inv = this.invoice(invoiceId);
    this.editable(inv);
    for (const [lid, l] of Object.entries(this.s.lineItems)) if (l.groupId === id) delete this.s.lineItems[lid];
    delete this.s.lineItemGroups[id];
    this.touchInvoice(inv);
    return group;
  }

  private nextInvoiceNumber(): string {
    this.s.counters.invoiceNumber += 1;
    return `SEQ${String(this.s.counters.invoiceNumber).padStart(5, '0')}`;
  }

  finalizeInvoice(id: string, opts: { silent?: boolean } = {}): Invoice {
    const inv = this.invoice(id);
    if (inv.status !== 'DRAFT') throw badRequest(`Invoice ${id} is ${inv.status}; only DRAFT invoices can be finalized`, 'invalidInvoiceStatus');
    this.recalculate(inv);
    inv.status = 'FINAL';
    inv.invoiceNumber = inv.invoiceNumber ?? this.nextInvoiceNumber();
    inv.issueDate = this.today();
    inv.updatedAt = this.iso();
    if (opts.silent) this.changed();
    else this.fire('INVOICE_UPDATED', 'Invoice', inv);
    return inv;
  }

  sendInvoice(id: string, opts: { silent?: boolean } = {}): Invoice {
    const inv = this.invoice(id);
    if (inv.status !== 'FINAL') throw badRequest(`Invoice ${id} is ${inv.status}; only FINAL invoices can be sent`, 'invalidInvoiceStatus');
    inv.status = 'SENT';
    inv.dunningStatus = 'SCHEDULED';
    inv.updatedAt = this.iso();
    if (opts.silent) {
      this.changed();
    } else {
      this.fire('INVOICE_UPDATED', 'Invoice', inv);
      this.fire('INVOICE_ISSUED', 'Invoice', inv);
    }
    return inv;
  }

  finalizeAndSendInvoice(id: string): Invoice {
    const inv = this.invoice(id);
    if (inv.status === 'DRAFT') this.finalizeInvoice(id, { silent: true });
    return this.sendInvoice(id);
  }

  /**
   * mark-as-sent: finalized if needed, then SENT, and "Emails or notifications are not sent.
   * Integration syncs do not happen." (the 2024-07-30 reference), so no webhook; `notify` (the
   * `markAsSentNotifies` fault) plays a Sequence that sends them anyway.
   */
  markInvoiceAsSent(id: string, notify = false): Invoice {
    const inv = this.invoice(id);
    if (inv.status === 'DRAFT') this.finalizeInvoice(id, { silent: true });
    return this.sendInvoice(id, { silent: !notify });
  }

  voidInvoice(id: string, opts: { silent?: boolean } = {}): Invoice {
    const inv = this.invoice(id);
    if (inv.status === 'VOIDED' || inv.status === 'IN_PROGRESS') throw badRequest(`Invoice ${id} is ${inv.status} and cannot be voided`, 'invalidInvoiceStatus');
    if (inv.status === 'SENT' && inv.paymentStatus !== 'UNPAID' && inv.paymentStatus !== 'UNCOLLECTIBLE') {
      throw badRequest(`Invoice ${id} is ${inv.paymentStatus}; issue a credit note instead`, 'invalidInvoiceStatus');
    }
    inv.status = 'VOIDED';
    inv.invoiceNumber = inv.invoiceNumber ?? this.nextInvoiceNumber();
    inv.updatedAt = this.iso();
    if (opts.silent) this.changed();
    else this.fire('INVOICE_UPDATED', 'Invoice', inv);
    return inv;
  }

  listInvoices(query: URLSearchParams): Invoice[] {
    const status = query.get('invoiceStatus');
    const customerId = query.get('customerId');
    const statuses = status ? status.split(',') : undefined;
    return Object.values(this.s.invoices).filter((i) => (!statuses || statuses.includes(i.status)) && (!customerId || i.customerId === customerId));
  }

  // -- credit notes ---------------------------------------------------------------------------

  creditNote(id: string): CreditNote {
    const cn = this.s.creditNotes[id];
    if (!cn) throw notFound('CreditNote', id);
    return cn;
  }

  createCreditNote(raw: unknown): CreditNote {
    const body = parse(creditNoteBody, raw);
    const customer = this.s.customers[body.customerId];
    if (!customer) throw validationError([{ key: 'customerId', message: `Customer ${body.customerId} does not exist` }]);
    const invoice = body.invoiceId !== undefined ? this.s.invoices[body.invoiceId] : undefined;
    if (body.invoiceId !== undefined && !invoice) throw validationError([{ key: 'invoiceId', message: `Invoice ${body.invoiceId} does not exist` }]);
    const zero = sumDecimals([], body.currency);
    const id = randomUUID();
    const cn = compact({
      id,
      sequenceAccountId: this.s.account.id,
      status: 'DRAFT',
      invoiceId: invoice?.id,
      invoiceNumber: invoice?.invoiceNumber ?? undefined,
      currency: body.currency,
      billingPeriodStart: body.billingPeriodStart,
      billingPeriodEnd: body.billingPeriodEnd,
      purchaseOrderNumber: body.purchaseOrderNumber,
      customerId: customer.id,
      customerEmails: body.customerEmails ?? this.billingEmails(customer),
      customerLegalCompanyName: body.customerLegalCompanyName ?? customer.legalName,
      customerBillingAddress: compact({ ...(body.customerBillingAddress ?? invoice?.customerBillingAddress ?? customer.address) }),
      customerShippingAddress: compact({ ...(body.customerShippingAddress ?? invoice?.customerShippingAddress ?? customer.address) }),
      memo: body.memo,
      totalTax: zero,
      netTotal: zero,
      grossTotal: zero,
      metadata: body.metadata ?? [],
      customerTaxId: body.customerTaxId ?? this.customerTaxId(customer.id),
      linkedServices: [],
      applicationStatus: 'UNAPPLIED',
      balance: zero,
      balanceVersion: 0,
      applications: [],
      merchantDetails: structuredClone(this.s.merchantDetails),
      settings: { generateCashCreditGrant: 'DISABLED' },
      accountingDate: body.accountingDate ?? this.today(),
    }) as CreditNote;
    this.s.creditNotes[id] = cn;
    if (invoice) {
      invoice.creditNoteIds = [...invoice.creditNoteIds, id];
      invoice.updatedAt = this.iso();
    }
    this.fire('CREDIT_NOTE_CREATED', 'CreditNote', cn);
    return cn;
  }

  listCreditNotes(query: URLSearchParams): CreditNote[] {
    const customerId = query.get('customerId');
    const invoiceId = query.get('invoiceId');
    return Object.values(this.s.creditNotes).filter((c) => (!customerId || c.customerId === customerId) && (!invoiceId || c.invoiceId === invoiceId));
  }

  creditNoteLines(creditNoteId: string): CreditNoteLineItem[] {
    return Object.values(this.s.creditNoteLineItems)
      .filter((l) => l.creditNoteId === creditNoteId)
      .sort((a, b) => a.index - b.index);
  }

  createCreditNoteLineItem(creditNoteId: string, raw: unknown): CreditNoteLineItem {
    const cn = this.creditNote(creditNoteId);
    if (cn.status !== 'DRAFT') throw badRequest(`Credit note ${creditNoteId} is ${cn.status}; only DRAFT credit notes can be edited`, 'invalidCreditNoteStatus');
    const body = parse(creditNoteLineBody, { creditNoteId, ...(raw as object) });
    if (body.creditNoteId !== creditNoteId) throw validationError([{ key: 'creditNoteId', message: 'creditNoteId does not match the path' }]);
    const cur = cn.currency as CurrencyCode;
    const lines = this.creditNoteLines(creditNoteId);
    const netTotal = sequenceLineNetTotal(body.quantity, body.rate, cur);
    const totalTax = this.lineTax(netTotal, body.taxRate, cur);
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
      index: lines.length === 0 ? 0 : Math.max(...lines.map((l) => l.index)) + 1,
      netTotal,
      totalTax,
      grossTotal: sequenceLineGross(netTotal, totalTax, cur),
      rateDisplay: body.rateDisplay ?? 'ABSOLUTE',
      externalIds: body.externalIds,
      productId: body.productId ?? (body.lineItemId ? (this.s.lineItems[body.lineItemId]?.productId ?? undefined) : undefined),
    }) as CreditNoteLineItem;
    this.s.creditNoteLineItems[line.id] = line;
    const all = [...lines, line];
    cn.netTotal = sumDecimals(all.map((l) => l.netTotal), cur);
    cn.totalTax = sumDecimals(all.map((l) => l.totalTax), cur);
    cn.grossTotal = sumDecimals(all.map((l) => l.grossTotal), cur);
    cn.balance = cn.grossTotal;
    this.fire('CREDIT_NOTE_UPDATED', 'CreditNote', cn);
    return line;
  }

  finalizeCreditNote(id: string, silent = false): CreditNote {
    const cn = this.creditNote(id);
    if (cn.status !== 'DRAFT') throw badRequest(`Credit note ${id} is ${cn.status}; only DRAFT credit notes can be finalized`, 'invalidCreditNoteStatus');
    cn.status = 'FINAL';
    this.s.counters.creditNoteNumber += 1;
    cn.creditNoteNumber = `SCN${String(this.s.counters.creditNoteNumber).padStart(5, '0')}`;
    cn.issueDate = this.today();
    if (silent) this.changed();
    else this.fire('CREDIT_NOTE_UPDATED', 'CreditNote', cn);
    return cn;
  }

  /** send / finalize-and-send / mark-as-sent: the credit note is issued; mark-as-sent notifies no one (`silent`), as for invoices. */
  issueCreditNote(id: string, opts: { silent?: boolean } = {}): CreditNote {
    const cn = this.creditNote(id);
    if (cn.status === 'DRAFT') this.finalizeCreditNote(id, true);
    if (cn.status !== 'FINAL') throw badRequest(`Credit note ${id} is ${cn.status}; only FINAL credit notes can be sent`, 'invalidCreditNoteStatus');
    cn.status = 'SENT';
    if (opts.silent) {
      this.changed();
    } else {
      this.fire('CREDIT_NOTE_UPDATED', 'CreditNote', cn);
      this.fire('CREDIT_NOTE_ISSUED', 'CreditNote', cn);
    }
    return cn;
  }

  voidCreditNote(id: string): CreditNote {
    const cn = this.creditNote(id);
    if (cn.status === 'VOIDED') throw badRequest(`Credit note ${id} is already VOIDED`, 'invalidCreditNoteStatus');
    cn.status = 'VOIDED';
    this.fire('CREDIT_NOTE_UPDATED', 'CreditNote', cn);
    return cn;
  }

  // -- tax registrations ----------------------------------------------------------------------

  taxRegistration(id: string): TaxRegistration {
    const r = this.s.taxRegistrations[id];
    if (!r) throw notFound('TaxRegistration', id);
    return r;
  }

  private registrationFromBody(raw: unknown, id: string): TaxRegistration {
    const body = parse(taxRegistrationBody, raw);
    const errors: FieldError[] = [];
    if (!body.customerId && !body.merchantId) errors.push({ key: 'customerId', message: 'one of customerId or merchantId is required' });
    if (body.customerId && !this.s.customers[body.customerId]) errors.push({ key: 'customerId', message: `Customer ${body.customerId} does not exist` });
    if (errors.length) throw validationError(errors);
    return {
      id,
      sequenceAccountId: this.s.account.id,
      taxIdentifier: body.taxIdentifier,
      customerId: body.customerId ?? null,
      merchantId: body.merchantId ?? null,
      country: body.country,
      state: body.state ?? null,
    };
  }

  createTaxRegistration(raw: unknown): TaxRegistration {
    const reg = this.registrationFromBody(raw, randomUUID());
    this.s.taxRegistrations[reg.id] = reg;
    if (reg.customerId) this.refreshDraftInvoicesFor(reg.customerId);
    this.changed();
    return reg;
  }

  updateTaxRegistration(id: string, raw: unknown): TaxRegistration {
    const before = this.taxRegistration(id);
    const reg = this.registrationFromBody(raw, id);
    this.s.taxRegistrations[id] = reg;
    for (const c of new Set([before.customerId, reg.customerId])) if (c) this.refreshDraftInvoicesFor(c);
    this.changed();
    return reg;
  }

  deleteTaxRegistration(id: string): TaxRegistration {
    const reg = this.taxRegistration(id);
    delete this.s.taxRegistrations[id];
    if (reg.customerId) this.refreshDraftInvoicesFor(reg.customerId);
    this.changed();
    return reg;
  }

  taxRegistrationsForCustomer(customerId: string): TaxRegistration[] {
    this.customer(customerId);
    return Object.values(this.s.taxRegistrations).filter((r) => r.customerId === customerId);
  }

  // -- notification policies ------------------------------------------------------------------

  policy(id: string): NotificationPolicy {
    const p = this.s.policies[id];
    if (!p) throw notFound('NotificationPolicy', id);
    return p;
  }

  createPolicy(raw: unknown): NotificationPolicy {
    const body = parse(policyBody, raw);
    const unknownTypes = (body.notificationTypes ?? []).filter((t) => !(NOTIFICATION_TYPES as readonly string[]).includes(t));
    if (unknownTypes.length) throw databaseError('notificationTypes', `Invalid notification types: [${unknownTypes.join(', ')}]`);
    if (body.channel === 'WEBHOOK') {
      const bad = body.recipients.filter((r) => {
        try {
          const u = new URL(r);
          return u.protocol !== 'http:' && u.protocol !== 'https:';
        } catch {
          return true;
        }
      });
      if (bad.length) throw databaseError('recipients', `Invalid webhook URLs: [${bad.join(', ')}]`);
    }
    const id = randomUUID();
    const policy = compact({
      id,
      createdAt: this.iso(),
      sequenceAccountId: this.s.account.id,
      name: body.name,
      notificationTypes: body.notificationTypes ?? [...NOTIFICATION_TYPES],
      recipients: body.recipients,
      channel: body.channel,
      webhookSecret: body.channel === 'WEBHOOK' ? (body.webhookSecret ?? `whsec_${randomBytes(24).toString('base64url')}`) : undefined,
    }) as NotificationPolicy;
    this.s.policies[id] = policy;
    this.changed();
    return policy;
  }

  deletePolicy(id: string): NotificationPolicy {
    const p = this.policy(id);
    delete this.s.policies[id];
    this.changed();
    return p;
  }

  listPolicies(query: URLSearchParams): NotificationPolicy[] {
    const type = query.get('notificationType');
    return Object.values(this.s.policies).filter((p) => !type || (p.notificationTypes ?? []).includes(type));
  }
}

