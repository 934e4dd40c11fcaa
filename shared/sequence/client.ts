/**
 * The Sequence API client: Basic auth, `Sequence-Version: 2024-07-30` on every call, one token
 * bucket per credential (1,500 requests/minute per API key, Sequence's published limit), retries of
 * 429/5xx/timeouts with jittered backoff (shared/http/upstream-http.ts), typed errors
 * (./errors.ts), zod-validated responses (./schemas.ts) and cursor pagination.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ConnectorBugError } from '../domain/errors';
import { type RateLimit, type SharedRateGateFactory, sharedRateLimiter } from '../http/rate-limiter';
import { pathSegment } from '../http/path-segment';
import { type HttpMethod, UpstreamHttp, type UpstreamTransportOptions } from '../http/upstream-http';
import { type SequenceEnvironment } from '../domain/connection';
import { SequenceNotFoundError, mapSequenceError } from './errors';
import {
  type Customer,
  type CustomerListItem,
  type CustomerRequest,
  type CreditNote,
  type CreditNoteLineItem,
  type Invoice,
  type InvoiceCreateRequest,
  type IntegrationService,
  type InvoiceStatus,
  type LineItem,
  type LineItemGroup,
  type LineItemGroupRequest,
  type LineItemRequest,
  type NotificationPolicy,
  type NotificationPolicyCreate,
  type Page,
  type Pagination,
  type Product,
  type ProductRequest,
  type SequenceAccount,
  type TaxCategory,
  type TaxRegistration,
  type TaxRegistrationRequest,
  INTEGRATION_SERVICES,
  RevenueClassificationSchema,
  RevenueRecognitionMethodSchema,
  CreditNoteLineItemSchema,
  CreditNoteSchema,
  CustomerListItemSchema,
  CustomerRequestSchema,
  CustomerSchema,
  InvoiceCreateRequestSchema,
  InvoiceSchema,
  LineItemGroupRequestSchema,
  LineItemGroupSchema,
  LineItemRequestSchema,
  LineItemSchema,
  NotificationPolicyCreateSchema,
  NotificationPolicySchema,
  PaginationSchema,
  ProductRequestSchema,
  ProductSchema,
  SEQUENCE_API_VERSION,
  SEQUENCE_REQUEST_ID_HEADER,
  SequenceAccountSchema,
  TaxCategorySchema,
  TaxRegistrationRequestSchema,
  TaxRegistrationSchema,
} from './schemas';

export const SEQUENCE_SANDBOX_BASE_URL = 'https://sandbox.sequencehq.com/api';
export const SEQUENCE_PRODUCTION_BASE_URL = 'https://eu.sequencehq.com/api';
/** Sequence's published limit: 1,500 requests per minute per API key. */
export const SEQUENCE_RATE_LIMIT_PER_MINUTE = 1500;
/**
 * The bucket for a per-minute limit: up to one second's worth of calls may go out back to back
 * (a tax calculation is ~10–20 sequential calls; paced at 40 ms each it would take most of a
 * second however fast Sequence answers), refilled at (limit − burst) per minute, so that no
 * 60-second window ever sees more than `limit` calls (burst + refill = limit).
 */
export function sequenceRate(limitPerMinute: number): RateLimit {
  const burst = Math.floor(limitPerMinute / 60);
  return burst >= 2 ? { limit: limitPerMinute - burst, intervalMs: 60_000, burst } : { limit: limitPerMinute, intervalMs: 60_000 };
}

/** The largest page Sequence serves (`limit` 1–100). */
export const SEQUENCE_MAX_PAGE_SIZE = 100;

/** The base URL (ending in `/api`) for an environment; an explicit override wins (local simulator). */
export function sequenceBaseUrlFor(environment: SequenceEnvironment, override?: string): string {
  if (override !== undefined && override.trim() !== '') return override.trim().replace(/\/+$/, '');
  return environment === 'production' ? SEQUENCE_PRODUCTION_BASE_URL : SEQUENCE_SANDBOX_BASE_URL;
}

export interface SequenceClientOptions extends UpstreamTransportOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Requests per minute for this credential (default 1500). */
  rateLimitPerMinute?: number;
  /** The credential's budget across processes (Lambda instances); absent: this process's bucket only. */
  sharedRateGates?: SharedRateGateFactory;
}

export type Query = Record<string, string | number | boolean | undefined>;

/** One page as the page iterator yields it; `nextCursor` is what to save to resume after it. */
export interface SequencePage<T> {
  items: T[];
  pagination: Pagination;
  /** The cursor of the next page; undefined on the last page. */
  nextCursor?: string;
}

export interface PageOptions {
  /** Resume from a saved cursor (the `nextCursor` of the last page done). */
  after?: string;
  /** Page size, 1–100 (default 100). */
  limit?: number;
}

export interface ListInvoicesQuery {
  status?: InvoiceStatus;
  customerId?: string;
}

export interface ListCustomersQuery {
  legalName?: string;
  includeArchived?: boolean;
}

/** A non-reversible fingerprint of a credential: safe as a map key, never logged as the secret. */
export function credentialFingerprint(baseUrl: string, clientId: string, clientSecret: string): string {
  return createHash('sha256').update(`sequence\u0000${baseUrl}\u0000${clientId}\u0000${clientSecret}`).digest('hex');
}

function seg(id: string): string {
  return pathSegment('sequence', id);
}

/** Validate a body before it leaves the process: a wrong body is our bug, not Sequence's. */
function checkBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConnectorBugError('sequence_invalid_request', `Refusing to send an invalid ${what} to Sequence (${issues.join('; ')})`);
  }
  return parsed.data;
}

export class SequenceClient {
  readonly baseUrl: string;
  private readonly http: UpstreamHttp;

  constructor(options: SequenceClientOptions) {
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.baseUrl = baseUrl;
    const fingerprint = credentialFingerprint(baseUrl, options.clientId, options.clientSecret);
    const auth = Buffer.from(`${options.clientId}:${options.clientSecret}`, 'utf8').toString('base64');
    const rate = sequenceRate(options.rateLimitPerMinute ?? SEQUENCE_RATE_LIMIT_PER_MINUTE);
    this.http = new UpstreamHttp({
      service: 'sequence',
      baseUrl,
      headers: { authorization: `Basic ${auth}`, 'Sequence-Version': SEQUENCE_API_VERSION },
      timeoutMs: options.timeoutMs,
      backoff: options.backoff,
      rateLimiter: sharedRateLimiter(`sequence:${fingerprint}`, rate),
      sharedRateGate: options.sharedRateGates?.(`sequence:${fingerprint}`, rate),
      mapError: mapSequenceError,
      fetch: options.fetch,
      sleep: options.sleep,
      random: options.random,
      onCall: options.onCall,
      requestIdHeader: SEQUENCE_REQUEST_ID_HEADER,
    });
  }

  /** Calls are about to follow: reserve their place in the credential's shared pace now (UpstreamHttp.prepare). */
  prepareCalls(): void {
    this.http.prepare();
  }

  /** One call with a validated response. Writes that are not idempotent pass `retry: false`. */
  request<T>(method: HttpMethod, path: string, schema: z.ZodType<T>, options: { query?: Query; body?: unknown; retry?: boolean } = {}): Promise<T> {
    return this.http.request({ method, path, schema, query: options.query, body: options.body, retry: options.retry });
  }

  // ------------------------------------------------------------------------------------------
  // Pagination
  // ------------------------------------------------------------------------------------------

  /**
   * Page by page over a list endpoint: copies `pagination.after` into `?after=` (with `limit`)
   * until `after` is absent. Save `nextCursor` after each page to resume a backfill later with
   * `{ after: savedCursor }`.
   */
  async *pages<T>(path: string, itemSchema: z.ZodType<T>, query: Query = {}, options: PageOptions = {}): AsyncGenerator<SequencePage<T>> {
    const limit = Math.min(SEQUENCE_MAX_PAGE_SIZE, Math.max(1, Math.floor(options.limit ?? SEQUENCE_MAX_PAGE_SIZE)));
    const schema = z.looseObject({ items: z.array(itemSchema), pagination: PaginationSchema }) as unknown as z.ZodType<Page<T>>;
    let after = options.after;
    const seen = new Set<string>();
    for (;;) {
      const page = await this.http.request({ method: 'GET', path, schema, query: { ...query, limit, after } });
      const next = page.pagination.after ?? undefined;
      const nextCursor = next !== undefined && next !== '' ? next : undefined;
      yield { items: page.items, pagination: page.pagination, ...(nextCursor !== undefined ? { nextCursor } : {}) };
      if (nextCursor === undefined) return;
      if (seen.has(nextCursor) || page.items.length === 0) {
        // A cursor that repeats, or an empty page that claims more: stop instead of looping forever.
        throw new ConnectorBugError('upstream_pagination_loop', `Sequence returned a repeating or empty-page cursor for GET ${path}`, {
          upstream: { service: 'sequence', method: 'GET', path },
        });
      }
      seen.add(nextCursor);
      after = nextCursor;
    }
  }

  /** Item by item across all pages. */
  async *paginate<T>(path: string, itemSchema: z.ZodType<T>, query: Query = {}, options: PageOptions = {}): AsyncGenerator<T> {
    for await (const page of this.pages(path, itemSchema, query, options)) {
      yield* page.items;
    }
  }

  /** Every item of a list endpoint, all pages. */
  async listAll<T>(path: string, itemSchema: z.ZodType<T>, query: Query = {}): Promise<T[]> {
    const all: T[] = [];
    for await (const item of this.paginate(path, itemSchema, query)) all.push(item);
    return all;
  }

  // ------------------------------------------------------------------------------------------
  // Customers
  // ------------------------------------------------------------------------------------------

  getCustomer(id: string): Promise<Customer> {
    return this.request('GET', `/customers/${seg(id)}`, CustomerSchema);
  }

  listCustomers(query: ListCustomersQuery = {}, options: PageOptions = {}): AsyncGenerator<CustomerListItem> {
    return this.paginate('/customers', CustomerListItemSchema, { ...query }, options);
  }

  customerPages(query: ListCustomersQuery = {}, options: PageOptions = {}): AsyncGenerator<SequencePage<CustomerListItem>> {
    return this.pages('/customers', CustomerListItemSchema, { ...query }, options);
  }

  async createCustomer(body: CustomerRequest): Promise<Customer> {
    return this.request('POST', '/customers', CustomerSchema, { body: checkBody(CustomerRequestSchema, body, 'customer'), retry: false });
  }

  /** PUT is a full replace: build the body with `customerToRequest` and change what you need. */
  async updateCustomer(id: string, body: CustomerRequest): Promise<Customer> {
    return this.request('PUT', `/customers/${seg(id)}`, CustomerSchema, { body: checkBody(CustomerRequestSchema, body, 'customer') });
  }

  // ------------------------------------------------------------------------------------------
  // Products
  // ------------------------------------------------------------------------------------------

  getProduct(id: string): Promise<Product> {
    return this.request('GET', `/products/${seg(id)}`, ProductSchema);
  }

  listProducts(options: PageOptions = {}): AsyncGenerator<Product> {
    return this.paginate('/products', ProductSchema, {}, options);
  }

  productPages(options: PageOptions = {}): AsyncGenerator<SequencePage<Product>> {
    return this.pages('/products', ProductSchema, {}, options);
  }

  async createProduct(body: ProductRequest): Promise<Product> {
    return this.request('POST', '/products', ProductSchema, { body: checkBody(ProductRequestSchema, body, 'product'), retry: false });
  }

  // ------------------------------------------------------------------------------------------
  // Invoices, line items, groups
  // ------------------------------------------------------------------------------------------

  getInvoice(id: string): Promise<Invoice> {
    return this.request('GET', `/invoices/${seg(id)}`, InvoiceSchema);
  }

  private invoiceQuery(query: ListInvoicesQuery): Query {
    return { invoiceStatus: query.status, customerId: query.customerId };
  }

  listInvoices(query: ListInvoicesQuery = {}, options: PageOptions = {}): AsyncGenerator<Invoice> {
    return this.paginate('/invoices', InvoiceSchema, this.invoiceQuery(query), options);
  }

  invoicePages(query: ListInvoicesQuery = {}, options: PageOptions = {}): AsyncGenerator<SequencePage<Invoice>> {
    return this.pages('/invoices', InvoiceSchema, this.invoiceQuery(query), options);
  }

  async createInvoice(body: InvoiceCreateRequest): Promise<Invoice> {
    return this.request('POST', '/invoices', InvoiceSchema, { body: checkBody(InvoiceCreateRequestSchema, body, 'invoice'), retry: false });
  }

  /** All line items of an invoice, every page, in Sequence's order. */
  listLineItems(invoiceId: string): Promise<LineItem[]> {
    return this.listAll(`/invoices/${seg(invoiceId)}/line-items`, LineItemSchema);
  }

  async createLineItem(invoiceId: string, body: LineItemRequest): Promise<LineItem> {
    return this.request('POST', `/invoices/${seg(invoiceId)}/line-items`, LineItemSchema, {
      body: checkBody(LineItemRequestSchema, body, 'line item'),
      retry: false,
    });
  }

  /** Full replace of one line (DRAFT invoices only). Idempotent, so retried. */
  async updateLineItem(invoiceId: string, lineItemId: string, body: LineItemRequest): Promise<LineItem> {
    return this.request('PUT', `/invoices/${seg(invoiceId)}/line-items/${seg(lineItemId)}`, LineItemSchema, {
      body: checkBody(LineItemRequestSchema, body, 'line item'),
    });
  }

  listLineItemGroups(invoiceId: string): Promise<LineItemGroup[]> {
    return this.listAll(`/invoices/${seg(invoiceId)}/line-item-groups`, LineItemGroupSchema);
  }

  async createLineItemGroup(invoiceId: string, body: LineItemGroupRequest): Promise<LineItemGroup> {
    return this.request('POST', `/invoices/${seg(invoiceId)}/line-item-groups`, LineItemGroupSchema, {
      body: checkBody(LineItemGroupRequestSchema, body, 'line item group'),
      retry: false,
    });
  }

  /** DRAFT → FINAL. Not retried here: a lost response would make a retry fail on a FINAL invoice; re-read instead. */
  finalizeInvoice(id: string): Promise<Invoice> {
    return this.request('POST', `/invoices/${seg(id)}/finalize`, InvoiceSchema, { retry: false });
  }

  /** Finalized if needed, then SENT without emails, notifications or integration syncs (mark-as-sent). Not retried, like finalize. */
  markInvoiceAsSent(id: string): Promise<Invoice> {
    return this.request('POST', `/invoices/${seg(id)}/mark-as-sent`, InvoiceSchema, { retry: false });
  }

  voidInvoice(id: string): Promise<Invoice> {
    return this.request('POST', `/invoices/${seg(id)}/void`, InvoiceSchema, { retry: false });
  }

  // ------------------------------------------------------------------------------------------
  // Credit notes
  // ------------------------------------------------------------------------------------------

  getCreditNote(id: string): Promise<CreditNote> {
    return this.request('GET', `/credit-notes/${seg(id)}`, CreditNoteSchema);
  }

  listCreditNoteLineItems(creditNoteId: string): Promise<CreditNoteLineItem[]> {
    return this.listAll(`/credit-notes/${seg(creditNoteId)}/line-items`, CreditNoteLineItemSchema);
  }

  // ------------------------------------------------------------------------------------------
  // Tax registrations, tax categories
  // ------------------------------------------------------------------------------------------

  /** Every tax registration of the account (customers' and the merchant's), a page at a time: no per-customer filter exists. */
  taxRegistrationPages(options: PageOptions = {}): AsyncGenerator<SequencePage<TaxRegistration>> {
    return this.pages('/tax-registrations', TaxRegistrationSchema, {}, options);
  }

  listTaxRegistrationsForCustomer(customerId: string): Promise<TaxRegistration[]> {
    return this.listAll(`/tax-registrations/for-customer/${seg(customerId)}`, TaxRegistrationSchema);
  }

  async createTaxRegistration(body: TaxRegistrationRequest): Promise<TaxRegistration> {
    return this.request('POST', '/tax-registrations', TaxRegistrationSchema, {
      body: checkBody(TaxRegistrationRequestSchema, body, 'tax registration'),
      retry: false,
    });
  }

  /**
   * The legacy `/tax-categories` endpoint (removed from the public spec in 2024-07; it may still
   * answer). Choice: a 404 means "this API no longer offers the list" and returns `[]`, because
   * the connector can still work from `taxCategoryId`s on products and line item groups plus its
   * per-connection mapping; every other failure propagates. Accepts either the paginated envelope
   * or a bare array.
   */
  async listTaxCategories(): Promise<TaxCategory[]> {
    const schema = z.union([
      z.array(TaxCategorySchema),
      z.looseObject({ items: z.array(TaxCategorySchema), pagination: PaginationSchema.nullish() }),
    ]);
    const all: TaxCategory[] = [];
    let after: string | undefined;
    try {
      for (let guard = 0; guard < 1000; guard++) {
        const body = await this.request('GET', '/tax-categories', schema, { query: { limit: SEQUENCE_MAX_PAGE_SIZE, after } });
        if (Array.isArray(body)) return body;
        all.push(...body.items);
        const next = body.pagination?.after ?? undefined;
        if (next === undefined || next === '' || next === after || body.items.length === 0) return all;
        after = next;
      }
      return all;
    } catch (error) {
      if (error instanceof SequenceNotFoundError) return [];
      throw error;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Notification policies (webhooks)
  // ------------------------------------------------------------------------------------------

  async createNotificationPolicy(body: NotificationPolicyCreate): Promise<NotificationPolicy> {
    return this.request('POST', '/notifications/policies', NotificationPolicySchema, {
      body: checkBody(NotificationPolicyCreateSchema, body, 'notification policy'),
      retry: false,
    });
  }

  getNotificationPolicy(id: string): Promise<NotificationPolicy> {
    return this.request('GET', `/notifications/policies/${seg(id)}`, NotificationPolicySchema);
  }

  listNotificationPolicies(): Promise<NotificationPolicy[]> {
    return this.listAll('/notifications/policies', NotificationPolicySchema);
  }

  deleteNotificationPolicy(id: string): Promise<NotificationPolicy> {
    return this.request('DELETE', `/notifications/policies/${seg(id)}`, NotificationPolicySchema);
  }

  // ------------------------------------------------------------------------------------------
  // Sequence accounts
  // ------------------------------------------------------------------------------------------

  listSequenceAccounts(): Promise<SequenceAccount[]> {
    return this.listAll('/sequence-accounts', SequenceAccountSchema);
  }

  getSequenceAccount(id: string): Promise<SequenceAccount> {
    return this.request('GET', `/sequence-accounts/${seg(id)}`, SequenceAccountSchema);
  }
}

// ---------------------------------------------------------------------------------------------
// Full-replace body builders
// ---------------------------------------------------------------------------------------------

function definedOnly<T extends Record<string, unknown>>(obj: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null) out[k] = v;
  return out as T;
}

function isIntegrationService(s: string): s is IntegrationService {
  return (INTEGRATION_SERVICES as readonly string[]).includes(s);
}

function oneOf<T extends string>(values: readonly T[], v: string | null | undefined): T | undefined {
  return v !== null && v !== undefined && (values as readonly string[]).includes(v) ? (v as T) : undefined;
}

/**
 * The PUT body that leaves a customer exactly as it is (a full replace needs every field):
 * change what you need on the result, e.g. add `{service: 'Sphere', id}` to `integrationIds`.
 * Archived contacts are dropped (sending contacts replaces all of them).
 */
export function customerToRequest(customer: Customer): CustomerRequest {
  const a = customer.address;
  return definedOnly({
    legalName: customer.legalName,
    address: definedOnly({ line1: a.line1, line2: a.line2 ?? undefined, town: a.town, state: a.state ?? undefined, postcode: a.postcode, country: a.country }),
    contacts: customer.contacts
      .filter((c) => !c.archivedAt)
      .map((c) => ({ name: c.name, email: c.email, billingPreference: c.billingPreference })),
    taxStatus: customer.taxStatus,
    url: customer.url ?? undefined,
    label: customer.label ?? undefined,
    integrationIds: customer.integrationIds.flatMap((i) => (isIntegrationService(i.service) ? [{ service: i.service, id: i.id }] : [])),
    status: customer.status,
    customProperties: customer.customProperties,
  });
}

/** The PUT body that rewrites one line unchanged except for the fields in `changes` (e.g. `taxRate`). */
export function lineItemToRequest(line: LineItem, changes: Partial<LineItemRequest> = {}): LineItemRequest {
  const base = definedOnly({
    title: line.title,
    description: line.description ?? undefined,
    quantity: line.quantity,
    rate: line.rate,
    taxRate: line.taxRate,
    servicePeriodStart: line.servicePeriodStart ?? undefined,
    servicePeriodEnd: line.servicePeriodEnd ?? undefined,
    servicePeriod: line.servicePeriod ? { startDate: line.servicePeriod.startDate, endDate: line.servicePeriod.endDate } : undefined,
    groupId: line.groupId ?? undefined,
    priceId: line.priceId ?? undefined,
    rateDisplay: line.rateDisplay,
    externalIds: line.externalIds.flatMap((e) => (isIntegrationService(e.key) ? [{ key: e.key, value: e.value }] : [])),
    revenueClassification: oneOf(RevenueClassificationSchema.options, line.revenueClassification),
    creditGrantId: line.creditGrantId ?? undefined,
    revenueRecognitionMethod: oneOf(RevenueRecognitionMethodSchema.options, line.revenueRecognitionMethod),
  });
  return { ...base, ...changes };
}
