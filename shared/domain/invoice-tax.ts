/**
 * The invoice-tax rules, pure (no I/O): which Sphere product each Sequence line is taxed as, the
 * calculate_tax request for an invoice, the input hash that makes a repeated calculation a no-op, and
 * the mapping of Sphere's answer to the tax record of §5.1 plus the `taxRate` to write on each line.
 *
 * Line → Sphere product (the product decides the tax code):
 *  1. the line's product has its own tax category → that product (synced to Sphere by external id);
 *  2. else the line's group has a tax category → the per-category stand-in product
 *     `taxCategoryProductId(category)` (tax code from the connection's mapping);
 *  3. else the line's product, if any (synced with the connection's default code);
 *  4. else the stand-in for "no category" (`taxCategoryProductId('none')`, default code).
 * A TAXED customer's line without any tax category (cases 3 and 4) is a user error
 * `product_missing_tax_category`: Sequence (like Sphere's own integration) needs a category on every
 * product unless the customer is exempt. TAX_EXEMPT and REVERSE_CHARGED customers need none.
 */
import { type SequenceAddressLike, type SequenceTaxStatus, type SphereAddressLike, contentHash } from './canonical';
import { type TaxCodeMapping } from './connection';
import { type CurrencyCode } from './currency';
import { Decimal, isDecimalString } from './decimal';
import { ConnectorBugError, UserActionRequiredError } from './errors';
import { type MinorUnits, decimalToMinorUnits, minorUnitsToDecimal, sumMinorUnits } from './money';
import { sphereTaxCodeFor, taxCategoryProductId } from './tax-codes';
import { chooseTaxRate, niceRate, rateReproduces } from './tax-rate';

// ---------------------------------------------------------------------------------------------
// Inputs (structural: the Sequence and Sphere client types satisfy them)
// ---------------------------------------------------------------------------------------------

export type TaxStatus = SequenceTaxStatus;
export type { SequenceAddressLike };

export interface InvoiceLike {
  id: string;
  currency: CurrencyCode;
  customerId: string;
  status: string;
  customerBillingAddress?: SequenceAddressLike | null;
  customerTaxId?: string | null;
  customerTaxStatus?: TaxStatus | null;
  merchantDetails?: { address: SequenceAddressLike } | null;
}

export interface LineLike {
  id: string;
  title: string;
  quantity: string;
  rate: string;
  taxRate: string;
  netTotal: string;
  /** The tax Sequence shows on the line now; a line showing other than Sphere's amount is written again. */
  totalTax?: string;
  groupId?: string | null;
  productId?: string | null;
}

export interface GroupLike {
  id: string;
  taxCategory?: { id: string; name?: string } | null;
}

export interface CustomerLike {
  id: string;
  taxStatus: TaxStatus;
  address: SequenceAddressLike;
}

export interface ProductLike {
  id: string;
  name: string;
  taxCategoryId?: string | null;
}

/** Sequence address → Sphere address (town → city, postcode → postal code). */
export function toSphereAddress(a: SequenceAddressLike): SphereAddressLike {
  const out: SphereAddressLike = { line1: a.line1, city: a.town, postalCode: a.postcode, country: a.country };
  if (a.line2) out.line2 = a.line2;
  if (a.state) out.state = a.state;
  return out;
}

/** Where the tax is due: the invoice's billing address, else the customer's address. */
export function shipToAddress(invoice: InvoiceLike, customer: CustomerLike): SequenceAddressLike {
  return invoice.customerBillingAddress ?? customer.address;
}

// ---------------------------------------------------------------------------------------------
// Line → Sphere product
// ---------------------------------------------------------------------------------------------

export const NO_CATEGORY = 'none';

export interface LineProductPlan {
  lineItemId: string;
  /** Effective Sequence tax category (product's own, else the group's); undefined = none. */
  taxCategoryId?: string;
  /** The Sequence product whose Sphere twin is used, when case 1 or 3 applies. */
  productId?: string;
  /** The per-category stand-in product's category, when case 2 or 4 applies. */
  standInCategory?: string;
  /** Sphere product tax code the line will be taxed with (mapping or default). */
  taxCode: string;
}

export function planLineProducts(input: {
  lines: readonly LineLike[];
  groups: readonly GroupLike[];
  products: ReadonlyMap<string, ProductLike>;
  /** True for a TAXED customer's calculation; false for exempt/reverse-charged customers and transaction records. */
  requireTaxCategory: boolean;
  taxCodes: TaxCodeMapping;
}): LineProductPlan[] {
  const groups = new Map(input.groups.map((g) => [g.id, g]));
  const missing: string[] = [];
  const plans = input.lines.map((line): LineProductPlan => {
    const product = line.productId ? input.products.get(line.productId) : undefined;
    if (line.productId && !product) throw new ConnectorBugError('product_not_loaded', `Product ${line.productId} of line ${line.id} was not loaded`);
    const groupCategory = line.groupId ? (groups.get(line.groupId)?.taxCategory?.id ?? undefined) : undefined;
    const ownCategory = product?.taxCategoryId ?? undefined;
    const category = ownCategory ?? groupCategory;
    if (!category && input.requireTaxCategory) missing.push(product ? product.name : `line "${line.title}" (no product)`);
    const taxCode = sphereTaxCodeFor(input.taxCodes, category);
    if (product && ownCategory) return { lineItemId: line.id, taxCategoryId: ownCategory, productId: product.id, taxCode };
    if (groupCategory) return { lineItemId: line.id, taxCategoryId: groupCategory, standInCategory: groupCategory, taxCode };
    if (product) return { lineItemId: line.id, productId: product.id, taxCode };
    return { lineItemId: line.id, standInCategory: NO_CATEGORY, taxCode };
  });
  if (missing.length > 0) {
    const names = [...new Set(missing)];
    throw new UserActionRequiredError(
      'product_missing_tax_category',
      `Tax cannot be determined: ${names.join(', ')} ${names.length === 1 ? 'has' : 'have'} no tax category and the customer is taxed`,
      { fix: names.map((n) => `Assign a tax category to ${n} in Sequence (Settings > Products)`).join('; ') },
    );
  }
  return plans;
}

/** External id of the Sphere product a planned line uses, given the synced products. */
export function sphereProductIdFor(plan: LineProductPlan, synced: ReadonlyMap<string, { sphereProductId: string }>): string {
  if (plan.productId) {
    const p = synced.get(plan.productId);
    if (!p) throw new ConnectorBugError('product_not_synced', `Product ${plan.productId} was not synced to Sphere`);
    return p.sphereProductId;
  }
  return taxCategoryProductId(plan.standInCategory ?? NO_CATEGORY);
}

// ---------------------------------------------------------------------------------------------
// The calculate_tax request
// ---------------------------------------------------------------------------------------------

export interface CalculateTaxRequestOut {
  currency: string;
  lineItems: { id: string; amount: MinorUnits; productId: string }[];
  customerAddress: SphereAddressLike;
  customerId: string;
  taxId?: string;
  taxExempt?: boolean;
  includeTaxabilityReason: true;
  shipFrom?: SphereAddressLike;
}

/** The tax id to send: only for reverse-charged customers (invoice's customerTaxId, else a registration). */
export function taxIdFor(taxStatus: TaxStatus, invoice: InvoiceLike, registrations: readonly { taxIdentifier: string }[]): string | undefined {
  if (taxStatus !== 'REVERSE_CHARGED') return undefined;
  return invoice.customerTaxId ?? registrations[0]?.taxIdentifier ?? undefined;
}

export function buildCalculateTaxRequest(input: {
  invoice: InvoiceLike;
  lines: readonly LineLike[];
  customer: CustomerLike;
  registrations: readonly { taxIdentifier: string }[];
  sphereCustomerId: string;
  /** lineItemId → Sphere product external id. */
  lineProducts: ReadonlyMap<string, string>;
}): CalculateTaxRequestOut {
  const { invoice, customer } = input;
  const currency = invoice.currency;
  const taxStatus = customer.taxStatus;
  const taxId = taxIdFor(taxStatus, invoice, input.registrations);
  const shipFrom = invoice.merchantDetails?.address;
  return {
    currency: currency.toLowerCase(),
    lineItems: input.lines.map((line) => {
      const productId = input.lineProducts.get(line.id);
      if (!productId) throw new ConnectorBugError('line_without_sphere_product', `Line ${line.id} has no Sphere product`);
      return { id: line.id, amount: decimalToMinorUnits(line.netTotal, currency), productId };
    }),
    customerAddress: toSphereAddress(shipToAddress(invoice, customer)),
    customerId: input.sphereCustomerId,
    ...(taxId ? { taxId } : {}),
    ...(taxStatus === 'TAX_EXEMPT' ? { taxExempt: true } : {}),
    includeTaxabilityReason: true,
    ...(shipFrom ? { shipFrom: toSphereAddress(shipFrom) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Input hash
// ---------------------------------------------------------------------------------------------

function normAmount(value: string): string {
  return new Decimal(value).toFixed();
}

function normAddress(a: SequenceAddressLike | null | undefined): unknown {
  if (!a) return null;
  return { line1: a.line1, line2: a.line2 ?? null, town: a.town, state: a.state ?? null, postcode: a.postcode, country: a.country };
}

/**
 * Everything that can change the tax of an invoice, and nothing the connector writes itself (line
 * `taxRate`, invoice metadata): line ids, amounts, quantities, unit rates, product ids, effective tax
 * categories and codes, the customer's tax status, tax ids and address, ship-from, currency.
 */
export function taxInputHash(input: {
  invoice: InvoiceLike;
  lines: readonly LineLike[];
  plans: readonly LineProductPlan[];
  customer: CustomerLike;
  registrations: readonly { taxIdentifier: string; country?: string; state?: string | null }[];
}): string {
  const plans = new Map(input.plans.map((p) => [p.lineItemId, p]));
  const material = {
    v: 1,
    currency: input.invoice.currency,
    customer: {
      id: input.customer.id,
      taxStatus: input.customer.taxStatus,
      taxIds: [...input.registrations.map((r) => `${r.country ?? ''}:${r.state ?? ''}:${r.taxIdentifier}`), `invoice:${input.invoice.customerTaxId ?? ''}`].sort(),
    },
    shipTo: normAddress(shipToAddress(input.invoice, input.customer)),
    shipFrom: normAddress(input.invoice.merchantDetails?.address),
    lines: input.lines.map((l) => {
      const plan = plans.get(l.id);
      return {
        id: l.id,
        netTotal: normAmount(l.netTotal),
        quantity: normAmount(l.quantity),
        rate: normAmount(l.rate),
        productId: l.productId ?? null,
        taxCategoryId: plan?.taxCategoryId ?? null,
        taxCode: plan?.taxCode ?? null,
      };
    }),
  };
  return contentHash(material);
}

// ---------------------------------------------------------------------------------------------
// The tax record (§5.1) and the write-back plan
// ---------------------------------------------------------------------------------------------

export type TaxRecordStatus = 'CALCULATED' | 'FAILED' | 'PENDING';

export interface TaxJurisdiction {
  name: string;
  /** The jurisdiction's rate as a fraction ("0.0625" = 6.25%), like a line's taxRate. */
  rate: string;
  /** The same rate as Sphere's percentage ("6.25"). */
  percentage: string;
  /** Tax for this jurisdiction, decimal string in the invoice currency. */
  amount: string;
  taxType: string;
  displayName?: string;
}

export interface TaxRecordLine {
  lineItemId: string;
  /** Net amount taxed (decimal string). */
  amount: string;
  /** Sphere's tax for the line = what Sequence shows (decimal string). */
  taxAmount: string;
  /** The taxRate on the Sequence line after the write-back. */
  taxRate: string;
  jurisdictions: TaxJurisdiction[];
  taxabilityReason?: string;
  /** The Sphere product the line was taxed as. */
  sphereProductId: string;
}

export interface TaxRecord {
  invoiceId: string;
  status: TaxRecordStatus;
  calculationId: string | null;
  currency: string;
  customerId: string;
  taxStatus?: TaxStatus;
  lines: TaxRecordLine[];
  totalTax: string;
  /** Why tax is zero (Sphere's taxability reason), or why the calculation failed. */
  reason?: string;
  errorCode?: string;
  /** FAILED records: whether trying again unchanged can succeed (an outage, not the merchant's data). */
  retryable?: boolean;
  /** Present only on CALCULATED records: the hash of the inputs that produced it. */
  inputHash?: string;
  /**
   * CALCULATED records: the customer's tax registrations the calculation used, hashed like the
   * customer link's `registrationsHash` (shared/domain/customer-mapping.ts), so the reconcile can
   * tell a draft taxed for registrations the customer no longer has.
   */
  registrationsHash?: string;
  /**
   * The Sequence products the invoice's lines used when it was last calculated: the next calculation
   * reads them (and the customer) beside the invoice instead of after it (shared/tax/calculate.ts).
   */
  sequenceProductIds?: string[];
  calculatedAt?: string;
  updatedAt: string;
}

export interface SphereLineResult {
  id: string;
  taxAmounts: readonly { amount: MinorUnits; percentage: string; jurisdiction: string; displayName?: string; taxType: string }[];
  taxabilityReason?: string;
}

export interface LineWrite {
  lineItemId: string;
  taxRate: string;
}

export interface TaxApplication {
  lines: TaxRecordLine[];
  /** Lines whose current taxRate does not reproduce Sphere's tax, with the rate to PUT. */
  writes: LineWrite[];
  totalTax: string;
  totalTaxMinor: MinorUnits;
  /** A common zero-tax reason (all lines untaxed for the same reason), for the record. */
  reason?: string;
}

function showsMinorUnits(amount: string, target: MinorUnits, currency: CurrencyCode): boolean {
  return isDecimalString(amount) && new Decimal(amount).equals(new Decimal(minorUnitsToDecimal(target, currency)));
}

/**
 * Map Sphere's result onto the lines: per line the summed minor units, the rate Sequence needs, and
 * the jurisdiction breakdown. A line whose current rate already yields Sphere's amount is left alone.
 */
export function applySphereResult(input: {
  currency: CurrencyCode;
  lines: readonly LineLike[];
  results: readonly SphereLineResult[];
  lineProducts: ReadonlyMap<string, string>;
}): TaxApplication {
  const { currency } = input;
  const byId = new Map(input.results.map((r) => [r.id, r]));
  const writes: LineWrite[] = [];
  const lines = input.lines.map((line): TaxRecordLine => {
    const result = byId.get(line.id);
    if (!result) throw new ConnectorBugError('upstream_malformed_response', `Sphere returned no result for line ${line.id}`);
    const target = sumMinorUnits(result.taxAmounts.map((t) => t.amount));
    let taxRate = line.taxRate;
    if (!rateReproduces(line.netTotal, line.taxRate, target, currency)) {
      const choice = chooseTaxRate({ netTotal: line.netTotal, targetTax: target, currency, percentages: result.taxAmounts.map((t) => t.percentage) });
      if (!choice.ok) throw new ConnectorBugError('tax_not_representable', `Line ${line.id}: ${choice.message}`);
      taxRate = choice.taxRate;
      writes.push({ lineItemId: line.id, taxRate });
    } else if (line.totalTax !== undefined && !showsMinorUnits(line.totalTax, target, currency)) {
      // The rate is right by our rule but Sequence shows another amount (e.g. computed when its
      // arithmetic differed): write it again, so the PUT's response is checked.
      writes.push({ lineItemId: line.id, taxRate });
    }
    return {
      lineItemId: line.id,
      amount: minorUnitsToDecimal(decimalToMinorUnits(line.netTotal, currency), currency),
      taxAmount: minorUnitsToDecimal(target, currency),
      taxRate,
      jurisdictions: result.taxAmounts.map((t) => ({
        name: t.jurisdiction,
        rate: niceRate([t.percentage]),
        percentage: new Decimal(t.percentage).toFixed(),
        amount: minorUnitsToDecimal(t.amount, currency),
        taxType: t.taxType,
        ...(t.displayName ? { displayName: t.displayName } : {}),
      })),
      ...(result.taxabilityReason ? { taxabilityReason: result.taxabilityReason } : {}),
      sphereProductId: input.lineProducts.get(line.id) ?? '',
    };
  });
  const totalTaxMinor = sumMinorUnits(lines.map((l) => decimalToMinorUnits(l.taxAmount, currency)));
  const untaxedReasons = new Set(lines.filter((l) => l.jurisdictions.length === 0).map((l) => l.taxabilityReason ?? 'no_tax_due'));
  const allUntaxed = lines.length > 0 && lines.every((l) => l.jurisdictions.length === 0);
  const reason = allUntaxed && untaxedReasons.size === 1 ? [...untaxedReasons][0] : undefined;
  return { lines, writes, totalTax: minorUnitsToDecimal(totalTaxMinor, currency), totalTaxMinor, ...(reason ? { reason } : {}) };
}

/**
 * The loop guard: nothing to do when the inputs hash to the stored hash and every line still carries
 * the rate the stored record chose (our own PUT → INVOICE_UPDATED → this check → no-op).
 */
export function isUnchanged(record: Pick<TaxRecord, 'status' | 'inputHash' | 'lines'> | undefined, inputHash: string, lines: readonly LineLike[]): boolean {
  if (!record || record.status !== 'CALCULATED' || record.inputHash !== inputHash) return false;
  const stored = new Map(record.lines.map((l) => [l.lineItemId, l.taxRate]));
  if (stored.size !== lines.length) return false;
  return lines.every((l) => {
    const rate = stored.get(l.id);
    return rate !== undefined && new Decimal(rate).equals(new Decimal(l.taxRate));
  });
}

/**
 * The reconcile's drift check: a CALCULATED record taxed for a customer treatment that is no longer
 * the customer's (its invoice moved to another customer, or the tax status or registrations the
 * connector last synced differ from those the record was computed with). The exemption message
 * that should have re-taxed the draft was lost; re-queueing it puts it right. Only what the record
 * knows is compared: a record from before `registrationsHash` was stored is judged on its tax status.
 */
export function customerTreatmentDrifted(
  record: Pick<TaxRecord, 'status' | 'customerId' | 'taxStatus' | 'registrationsHash'>,
  invoiceCustomerId: string,
  /** The customer as the connector last synced it (its link); undefined when never synced. */
  customer: { taxStatus?: TaxStatus | undefined; registrationsHash?: string | undefined } | undefined,
): boolean {
  if (record.status !== 'CALCULATED') return false;
  if (record.customerId !== invoiceCustomerId) return true;
  if (record.taxStatus !== undefined && customer?.taxStatus !== undefined && record.taxStatus !== customer.taxStatus) return true;
  return record.registrationsHash !== undefined && customer?.registrationsHash !== undefined && record.registrationsHash !== customer.registrationsHash;
}
