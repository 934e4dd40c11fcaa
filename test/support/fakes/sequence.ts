/**
 * An in-process Sequence for the flows' fast tests: the Sequence simulator's own resource model
 * (local/sequence-sim/resources.ts: line, group and invoice totals with Sequence's rounding rule,
 * DRAFT-only edits, FINAL on finalize) behind the SequenceClient methods the flows call, with no
 * HTTP in between. Answers are parsed with the client's schemas and errors mapped as the client maps
 * them (404 → SequenceNotFoundError), so a flow sees what it would see from the real client.
 * `calls` lists every call ("PUT /invoices/{id}/line-items/{lineId}") for asserting what was written.
 */
import type * as z from 'zod';
import { type SimEvent, SequenceResources } from '../../../local/sequence-sim/resources';
import { SimHttpError } from '../../../local/sequence-sim/errors';
import { type SimState, initialState } from '../../../local/sequence-sim/store';
import { type HttpMethod } from '../../../shared/http/upstream-http';
import {
  type CreditNote,
  type CreditNoteLineItem,
  type Customer,
  type CustomerRequest,
  type Invoice,
  type LineItem,
  type LineItemGroup,
  type LineItemRequest,
  type ListInvoicesQuery,
  type Product,
  type SequencePage,
  type TaxRegistration,
  CreditNoteLineItemSchema,
  CreditNoteSchema,
  CustomerSchema,
  InvoiceSchema,
  LineItemGroupSchema,
  LineItemSchema,
  ProductSchema,
  TaxRegistrationSchema,
  mapSequenceError,
} from '../../../shared/sequence';
import { type TaxSequencePort } from '../../../shared/tax/context';

export class FakeSequence implements TaxSequencePort {
  readonly state: SimState = initialState(new Date().toISOString());
  /** Webhook events Sequence would send (INVOICE_UPDATED after a line PUT, …). */
  readonly events: SimEvent[] = [];
  readonly calls: string[] = [];
  /** Seed and inspect data through the simulator's own model. */
  readonly resources = new SequenceResources(
    () => this.state,
    () => Date.now(),
    (event) => this.events.push(event),
    () => undefined,
  );

  private answer<T>(method: HttpMethod, path: string, schema: z.ZodType<T>, work: () => unknown): Promise<T> {
    this.calls.push(`${method} ${path}`);
    try {
      // A copy, as over the wire: the caller never holds the stored record.
      return Promise.resolve(schema.parse(structuredClone(work())));
    } catch (error) {
      if (error instanceof SimHttpError) return Promise.reject(mapSequenceError({ status: error.status, method, path, headers: new Headers(), body: error.body }));
      return Promise.reject(error);
    }
  }

  /**
   * Hold line-item reads until `release()` (or `fallbackMs`, so a flow that waits for its lines before
   * asking for anything else still finishes): what a flow asks for while they are held, it asked for
   * beside them, not after them. `answered` says whether a held read has answered yet.
   */
  holdLineReads(fallbackMs = 2_000): { readonly answered: boolean; release(): void } {
    const read = this.listLineItems.bind(this);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const hold = { answered: false, release: () => release() };
    this.listLineItems = async (invoiceId) => {
      const fallback = setTimeout(release, fallbackMs);
      await held;
      clearTimeout(fallback);
      const lines = await read(invoiceId);
      hold.answered = true;
      return lines;
    };
    return hold;
  }

  /** Calls whose "METHOD path" starts with `prefix`. */
  callsTo(prefix: string): string[] {
    return this.calls.filter((c) => c.startsWith(prefix));
  }

  getInvoice(id: string): Promise<Invoice> {
    return this.answer('GET', `/invoices/${id}`, InvoiceSchema, () => this.resources.invoices.get(id));
  }

  listLineItems(invoiceId: string): Promise<LineItem[]> {
    return this.answer('GET', `/invoices/${invoiceId}/line-items`, LineItemSchema.array(), () => (this.resources.invoices.get(invoiceId), this.resources.invoices.lines(invoiceId)));
  }

  listLineItemGroups(invoiceId: string): Promise<LineItemGroup[]> {
    return this.answer('GET', `/invoices/${invoiceId}/line-item-groups`, LineItemGroupSchema.array(), () => (this.resources.invoices.get(invoiceId), this.resources.invoices.groups(invoiceId)));
  }

  updateLineItem(invoiceId: string, lineItemId: string, body: LineItemRequest): Promise<LineItem> {
    return this.answer('PUT', `/invoices/${invoiceId}/line-items/${lineItemId}`, LineItemSchema, () => this.resources.invoices.updateLine(invoiceId, lineItemId, body));
  }

  /** The raw call the flows make: PATCH /invoices/{id} (the calculation id in the metadata). */
  request<T>(method: HttpMethod, path: string, schema: z.ZodType<T>, options: { body?: unknown } = {}): Promise<T> {
    const invoicePatch = /^\/invoices\/([^/]+)$/.exec(path);
    if (method === 'PATCH' && invoicePatch) return this.answer(method, path, schema, () => this.resources.invoices.update(decodeURIComponent(invoicePatch[1]!), options.body, true));
    return Promise.reject(new Error(`FakeSequence does not serve ${method} ${path}; add it when a flow needs it`));
  }

  finalizeInvoice(id: string): Promise<Invoice> {
    return this.answer('POST', `/invoices/${id}/finalize`, InvoiceSchema, () => this.resources.invoices.finalize(id));
  }

  async *listInvoices(query: ListInvoicesQuery = {}): AsyncGenerator<Invoice> {
    const params = new URLSearchParams();
    if (query.status) params.set('invoiceStatus', query.status);
    if (query.customerId) params.set('customerId', query.customerId);
    yield* await this.answer('GET', `/invoices?${params.toString()}`, InvoiceSchema.array(), () => this.resources.invoices.list(params));
  }

  /** The listing above as one page (a fake world holds a few invoices), for the reconcile's invoice sweep. */
  async *invoicePages(query: ListInvoicesQuery = {}): AsyncGenerator<SequencePage<Invoice>> {
    const items: Invoice[] = [];
    for await (const invoice of this.listInvoices(query)) items.push(invoice);
    yield { items, pagination: { totalResultSize: items.length } };
  }

  getCreditNote(id: string): Promise<CreditNote> {
    return this.answer('GET', `/credit-notes/${id}`, CreditNoteSchema, () => this.resources.creditNotes.get(id));
  }

  listCreditNoteLineItems(creditNoteId: string): Promise<CreditNoteLineItem[]> {
    return this.answer('GET', `/credit-notes/${creditNoteId}/line-items`, CreditNoteLineItemSchema.array(), () => (this.resources.creditNotes.get(creditNoteId), this.resources.creditNotes.lines(creditNoteId)));
  }

  getCustomer(id: string): Promise<Customer> {
    return this.answer('GET', `/customers/${id}`, CustomerSchema, () => this.resources.customers.get(id));
  }

  updateCustomer(id: string, body: CustomerRequest): Promise<Customer> {
    return this.answer('PUT', `/customers/${id}`, CustomerSchema, () => this.resources.customers.update(id, body));
  }

  listTaxRegistrationsForCustomer(customerId: string): Promise<TaxRegistration[]> {
    return this.answer('GET', `/tax-registrations/for-customer/${customerId}`, TaxRegistrationSchema.array(), () => this.resources.taxRegistrations.forCustomer(customerId));
  }

  getProduct(id: string): Promise<Product> {
    return this.answer('GET', `/products/${id}`, ProductSchema, () => this.resources.products.get(id));
  }
}
