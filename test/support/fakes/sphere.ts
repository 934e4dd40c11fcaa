/**
 * An in-process Sphere for the flows' fast tests: the Sphere simulator's own tax engine
 * (local/sphere-sim/tax-engine.ts: rate table, exemptions, reverse charge, per-entry rounding in
 * minor units) behind the SphereClient methods the flows call. Requests are encoded with the
 * client's codecs and answers decoded with its schemas, so a flow gets exactly the amounts the real
 * client would hand it; failures come back mapped as the client maps them (mapSphereError).
 * `calls` lists every call ("POST /calculate_tax", "POST /v1/products") for asserting what was written.
 */
import { randomUUID } from 'node:crypto';
import { type EngineContext, DEFAULT_ESTABLISHMENT, DEFAULT_REGISTRATIONS, calculate, defaultTaxCodes } from '../../../local/sphere-sim/tax-engine';
import { decimalToMinorUnits } from '../../../shared/domain/money';
import { parseCurrency } from '../../../shared/domain/currency';
import { type HttpMethod } from '../../../shared/http/upstream-http';
import {
  type CalculateTaxInput,
  type SphereCustomer,
  type SphereCustomerInput,
  type SphereProduct,
  type SphereProductInput,
  type SphereTaxCalculation,
  type SphereTransaction,
  type SphereTransactionInput,
  encodeCalculateTaxRequest,
  encodeCustomer,
  mapSphereError,
  v1Money,
} from '../../../shared/sphere';
import { encodeAddress } from '../../../shared/sphere/codecs';
import { CalculateTaxResponseSchema } from '../../../shared/sphere/schemas';
import { CUSTOMER_FIELDS as C, TAX_ID_FIELDS as T } from '../../../shared/sphere/field-names';
import { type TaxSpherePort } from '../../../shared/tax/context';

export class FakeSphere implements TaxSpherePort {
  readonly customers = new Map<string, SphereCustomer>();
  readonly products = new Map<string, SphereProduct>();
  readonly transactions = new Map<string, { request: SphereTransactionInput; transaction: SphereTransaction }>();
  readonly calls: string[] = [];
  /** Every calculation answered, in order: what the flows were told. */
  readonly calculations: SphereTaxCalculation[] = [];
  /** Jurisdictions the merchant collects in (the simulator's defaults). */
  registrations = new Set(DEFAULT_REGISTRATIONS);

  private refuse(method: HttpMethod, path: string, status: number, body: unknown): Error {
    return mapSphereError({ status, method, path, headers: new Headers(), body });
  }

  private engine(): EngineContext {
    return {
      product: (id) => this.products.get(id),
      customer: (id) => {
        const found = this.customers.get(id);
        if (!found) return undefined;
        const wire = encodeCustomer(found);
        return { exemption: wire[C.exemptionStatus] ?? null, taxIds: (wire[C.taxIds] ?? []).map((t) => t[T.value]) };
      },
      registrations: this.registrations,
      taxCodes: defaultTaxCodes(),
      establishment: DEFAULT_ESTABLISHMENT,
    };
  }

  callsTo(prefix: string): string[] {
    return this.calls.filter((c) => c.startsWith(prefix));
  }

  async calculateTax(input: CalculateTaxInput): Promise<SphereTaxCalculation> {
    this.calls.push('POST /calculate_tax');
    const result = calculate(encodeCalculateTaxRequest(input), this.engine());
    if (!result.ok) throw this.refuse('POST', '/calculate_tax', 400, { code: result.error.code, message: result.error.message });
    const calculation = CalculateTaxResponseSchema.parse({ message: 'Tax calculated successfully', data: { lines: result.lines, sphere_tax_calculation_id: randomUUID() } });
    this.calculations.push(structuredClone(calculation));
    return calculation;
  }

  async upsertCustomer(customer: SphereCustomerInput): Promise<SphereCustomer> {
    this.calls.push('POST /v1/customers');
    const stored = { ...structuredClone(customer), updatedAt: new Date().toISOString() };
    this.customers.set(customer.externalId, stored);
    return structuredClone(stored);
  }

  async upsertProduct(product: SphereProductInput): Promise<SphereProduct> {
    this.calls.push('POST /v1/products');
    const stored = { ...structuredClone(product), updatedAt: new Date().toISOString() };
    this.products.set(product.externalId, stored);
    return structuredClone(stored);
  }

  async getProduct(externalId: string): Promise<SphereProduct | null> {
    this.calls.push(`GET /v1/products/${externalId}`);
    const found = this.products.get(externalId);
    return found ? structuredClone(found) : null;
  }

  /** Upsert by external id; a finalized transaction takes only an identical retry (as the simulator). */
  async createTransaction(input: SphereTransactionInput): Promise<SphereTransaction> {
    const path = '/v1/transactions';
    this.calls.push(`POST ${path}`);
    const existing = this.transactions.get(input.externalId);
    if (existing) {
      if (JSON.stringify(existing.request) === JSON.stringify(input)) return structuredClone(existing.transaction);
      throw this.refuse('POST', path, 400, { status: [`Transaction '${input.externalId}' is ${existing.transaction.status} and cannot be modified.`] });
    }
    if (!this.customers.has(input.customerId)) throw this.refuse('POST', path, 400, { customer_id: [`No customer with external_id '${input.customerId}'.`] });
    const missing = input.lineItems.find((l) => !this.products.has(l.productId));
    if (missing) throw this.refuse('POST', path, 400, { line_items: [`No product with external_id '${missing.productId}'.`] });
    const currency = parseCurrency(input.currency);
    const amounts = input.lineItems.map((l) => decimalToMinorUnits(l.amount, currency) - (l.discountAmount ? decimalToMinorUnits(l.discountAmount, currency) : 0));
    let lineTax: number[] | undefined;
    if (input.status === 'finalized') {
      const result = calculate(
        {
          currency: currency.toLowerCase(),
          customer_id: input.customerId,
          customer_address: encodeAddress(input.customerAddress ?? {}),
          line_items: input.lineItems.map((l, i) => ({ id: l.id ?? `line_${i}`, product_id: l.productId, amount: amounts[i]! })),
        },
        this.engine(),
      );
      if (!result.ok) throw this.refuse('POST', path, 400, { line_items: [result.error.message] });
      lineTax = result.lines.map((l) => l.tax_amounts.reduce((s, e) => s + e.amount, 0));
    }
    const subtotal = amounts.reduce((s, a) => s + a, 0);
    const tax = lineTax?.reduce((s, v) => s + v, 0);
    const transaction: SphereTransaction = {
      externalId: input.externalId,
      type: input.type,
      status: input.status,
      customerId: input.customerId,
      ...(input.originalTransactionId ? { originalTransactionId: input.originalTransactionId } : {}),
      currency,
      ...(input.transactionDate ? { transactionDate: input.transactionDate } : {}),
      lineItems: input.lineItems.map((l, i) => ({ ...l, ...(lineTax ? { tax: v1Money.fromMinorUnits(lineTax[i]!, currency) } : {}) })),
      subtotal: v1Money.fromMinorUnits(subtotal, currency),
      ...(tax === undefined ? {} : { tax: v1Money.fromMinorUnits(tax, currency), total: v1Money.fromMinorUnits(subtotal + tax, currency) }),
    };
    this.transactions.set(input.externalId, { request: structuredClone(input), transaction });
    return structuredClone(transaction);
  }

  async cancelTransaction(externalId: string): Promise<SphereTransaction> {
    const path = `/v1/transactions/${externalId}/cancel`;
    this.calls.push(`POST ${path}`);
    const found = this.transactions.get(externalId);
    if (!found) throw this.refuse('POST', path, 404, { detail: 'Not found.' });
    found.transaction = { ...found.transaction, status: 'cancelled', cancelledAt: new Date().toISOString() };
    return structuredClone(found.transaction);
  }
}
