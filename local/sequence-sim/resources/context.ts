/**
 * What every simulated Sequence resource works over: the state, the clock, webhook events and the
 * few rules resources share (lookups that answer Sequence's 404, totals with the one rounding rule,
 * customer details invoices copy). Money is computed with shared/domain/sequence-tax-rule.ts.
 */
import { z } from 'zod';
import { type CurrencyCode, currencyExponent } from '../../../shared/domain/currency';
import { Decimal } from '../../../shared/domain/decimal';
import { sequenceLineTax, sumDecimals } from '../../../shared/domain/sequence-tax-rule';
import { type Customer, type TaxCategory } from '../../../shared/sequence/schemas';
import { notFound, validationError, zodValidationError } from '../errors';
import { type SimState } from '../store';

/**
 * How the simulated Sequence computes a line's totalTax from its taxRate (the `lineTaxRule` fault):
 * `fraction_half_up` is the rule the connector assumes (shared/domain/sequence-tax-rule.ts);
 * `fraction_round_down` truncates instead; `percent` reads taxRate as a percentage ("20" = 20%).
 */
export type LineTaxRule = 'fraction_half_up' | 'fraction_round_down' | 'percent';

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

export function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw zodValidationError(result.error);
  return result.data;
}

/** Drop undefined keys so optional fields are absent, never `null` (the spec rarely allows null). */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The index after the last of `items` (0 for none): where a new line or group goes. */
export function nextIndex(items: readonly { index: number }[]): number {
  return items.length === 0 ? 0 : Math.max(...items.map((i) => i.index)) + 1;
}

/** The three totals of a document or group: the sums of its lines', with the one rounding rule. */
export function totalsOf(lines: readonly { netTotal: string; totalTax: string; grossTotal: string }[], currency: CurrencyCode): { netTotal: string; totalTax: string; grossTotal: string } {
  return {
    netTotal: sumDecimals(lines.map((l) => l.netTotal), currency),
    totalTax: sumDecimals(lines.map((l) => l.totalTax), currency),
    grossTotal: sumDecimals(lines.map((l) => l.grossTotal), currency),
  };
}

export type Tables = { [K in keyof SimState as SimState[K] extends Record<string, { id: string }> ? K : never]: SimState[K] };

export class SimContext {
  constructor(
    readonly state: () => SimState,
    readonly now: () => number,
    private readonly emit: (event: SimEvent) => void,
    /** Persist the state (no webhook). */
    readonly changed: () => void,
    /** The `lineTaxRule` fault: how this simulated Sequence turns a line's taxRate into totalTax. */
    private readonly lineTaxRule: () => LineTaxRule = () => 'fraction_half_up',
  ) {}

  get s(): SimState {
    return this.state();
  }

  iso(): string {
    return new Date(this.now()).toISOString();
  }

  today(): string {
    return this.iso().slice(0, 10);
  }

  /** Persist, and send the webhook unless `silent`. */
  fire(notificationType: SimEventType, resourceType: SimEvent['resourceType'], resource: { id: string }, silent = false): void {
    this.changed();
    if (!silent) this.emit({ notificationType, resourceType, resource });
  }

  /** The record `id` of a table, or Sequence's 404 naming `what`. */
  find<K extends keyof Tables>(table: K, id: string, what: string): Tables[K][string] {
    const found = (this.s[table] as Record<string, Tables[K][string]>)[id];
    if (!found) throw notFound(what, id);
    return found;
  }

  /** A line's totalTax: the connector's assumed rule, unless a fault plays a Sequence that computes differently. */
  lineTax(netTotal: string, taxRate: string, currency: CurrencyCode): string {
    switch (this.lineTaxRule()) {
      case 'fraction_round_down':
        return new Decimal(netTotal).times(taxRate).toDecimalPlaces(currencyExponent(currency), Decimal.ROUND_DOWN).toFixed(currencyExponent(currency));
      case 'percent':
        return sequenceLineTax(netTotal, new Decimal(taxRate).dividedBy(100).toFixed(), currency);
      default:
        return sequenceLineTax(netTotal, taxRate, currency);
    }
  }

  /** A body's tax category, or Sequence's validation error on `key`. */
  checkTaxCategory(id: string | undefined, key = 'taxCategoryId'): TaxCategory | undefined {
    if (id === undefined) return undefined;
    const cat = this.s.taxCategories[id];
    if (!cat) throw validationError([{ key, message: 'Tax category invalid' }]);
    return cat;
  }

  /** The customer a body names, or Sequence's validation error on `customerId`. */
  existingCustomer(customerId: string): Customer {
    const customer = this.s.customers[customerId];
    if (!customer) throw validationError([{ key: 'customerId', message: `Customer ${customerId} does not exist` }]);
    return customer;
  }

  customerTaxId(customerId: string): string | undefined {
    return Object.values(this.s.taxRegistrations).find((r) => r.customerId === customerId)?.taxIdentifier;
  }

  billingEmails(customer: Customer): string[] {
    return customer.contacts.filter((c) => !c.archivedAt && c.billingPreference !== 'NONE').map((c) => c.email);
  }

  /** Customer changes flow into DRAFT invoices (tax status, tax id), as a recalculation would. */
  refreshDraftInvoicesFor(customerId: string): void {
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
}

/**
 * One table of the state, as a resource: the lookup that answers Sequence's 404 and the records in
 * creation order. Each resource (./customers.ts, ./invoices.ts, ...) extends it.
 */
export abstract class SimCollection<K extends keyof Tables> {
  constructor(
    protected readonly ctx: SimContext,
    private readonly table: K,
    /** The name Sequence's 404 gives the resource. */
    private readonly what: string,
  ) {}

  get(id: string): Tables[K][string] {
    return this.ctx.find(this.table, id, this.what);
  }

  /** The records, in creation order. */
  protected get records(): Tables[K] {
    return this.ctx.s[this.table] as Tables[K];
  }
}
