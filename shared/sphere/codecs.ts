/**
 * The two Sphere money codecs and the body codecs (camelCase model ↔ wire).
 *
 * - calculate_tax money: integer minor units (10000 = $100.00) [C].
 * - v1 money: major-unit decimal strings (`"100.00"`); responses use two decimals [C].
 * Both are thin, exact wrappers over shared/domain/money.ts: nothing here rounds silently.
 */
import { type CurrencyCode, parseCurrency } from '../domain/currency';
import { type MinorUnits, decimalToMinorUnits, minorUnitsToDecimal } from '../domain/money';
import {
  ADDRESS_FIELDS as A,
  CUSTOMER_FIELDS as C,
  EXEMPTION_STATUS_VALUES,
  PRODUCT_FIELDS as P,
  TAX_ID_FIELDS as T,
  TRANSACTION_FIELDS as X,
  TRANSACTION_LINE_FIELDS as L,
} from './field-names';
import {
  type AddressWire,
  type CalculateTaxRequestWire,
  type CustomerRequestWire,
  type CustomerResponseWire,
  type ProductRequestWire,
  type ProductResponseWire,
  type TransactionRequestWire,
  type TransactionResponseWire,
} from './schemas';
import {
  type CalculateTaxInput,
  type SphereAddress,
  type SphereCustomer,
  type SphereCustomerInput,
  type SphereExemptionStatus,
  type SphereProduct,
  type SphereProductInput,
  type SphereTransaction,
  type SphereTransactionInput,
} from './types';

function currencyOf(currency: CurrencyCode | string): CurrencyCode {
  return parseCurrency(currency);
}

/** calculate_tax money: integer minor units. */
export const calculateTaxMoney = {
  /** `"51.20"` USD → 5120. Throws when the amount has more decimals than the currency. */
  encode(amount: string, currency: CurrencyCode | string): MinorUnits {
    return decimalToMinorUnits(amount, currencyOf(currency));
  },
  /** 5120 USD → `"51.20"`. */
  decode(minor: MinorUnits, currency: CurrencyCode | string): string {
    return minorUnitsToDecimal(minor, currencyOf(currency));
  },
} as const;

/** v1 money: major-unit decimal strings with exactly the currency's decimals. */
export const v1Money = {
  /** `"51.2"` USD → `"51.20"`; exact (throws on `"1.005"` USD). */
  encode(amount: string, currency: CurrencyCode | string): string {
    const c = currencyOf(currency);
    return minorUnitsToDecimal(decimalToMinorUnits(amount, c), c);
  },
  fromMinorUnits(minor: MinorUnits, currency: CurrencyCode | string): string {
    return minorUnitsToDecimal(minor, currencyOf(currency));
  },
  /** `"51.20"` USD → 5120 (accepts `"100.00"` for JPY: Sphere writes two decimals). */
  toMinorUnits(amount: string, currency: CurrencyCode | string): MinorUnits {
    return decimalToMinorUnits(amount, currencyOf(currency));
  },
} as const;

// ---- addresses -----------------------------------------------------------------------------

function defined<T extends Record<string, unknown>>(obj: T): T {
  for (const k of Object.keys(obj)) if (obj[k] === undefined) delete obj[k];
  return obj;
}

export function encodeAddress(a: SphereAddress): AddressWire {
  return defined({
    [A.line1]: a.line1,
    [A.line2]: a.line2,
    [A.city]: a.city,
    [A.state]: a.state,
    [A.postalCode]: a.postalCode,
    [A.country]: a.country,
  });
}

export function decodeAddress(w: AddressWire | null | undefined): SphereAddress | undefined {
  if (!w) return undefined;
  return defined({
    line1: w[A.line1] ?? undefined,
    line2: w[A.line2] ?? undefined,
    city: w[A.city] ?? undefined,
    state: w[A.state] ?? undefined,
    postalCode: w[A.postalCode] ?? undefined,
    country: w[A.country] ?? undefined,
  });
}

// ---- calculate_tax -------------------------------------------------------------------------

export function encodeCalculateTaxRequest(input: CalculateTaxInput): CalculateTaxRequestWire {
  return defined({
    currency: currencyOf(input.currency).toLowerCase(),
    line_items: input.lineItems.map((l) =>
      defined({
        id: l.id,
        amount: l.amount,
        product_id: l.productId,
        discount_amount: l.discountAmount,
        tax_inclusive: l.taxInclusive,
        ship_to: l.shipTo ? encodeAddress(l.shipTo) : undefined,
        ship_from: l.shipFrom ? encodeAddress(l.shipFrom) : undefined,
      }),
    ),
    customer_address: encodeAddress(input.customerAddress),
    customer_id: input.customerId,
    tax_id: input.taxId,
    tax_exempt: input.taxExempt,
    include_taxability_reason: input.includeTaxabilityReason ?? true,
    ship_from: input.shipFrom ? encodeAddress(input.shipFrom) : undefined,
  });
}

// ---- customers -----------------------------------------------------------------------------

const EXEMPTION_TO_WIRE: Record<SphereExemptionStatus, (typeof EXEMPTION_STATUS_VALUES)[keyof typeof EXEMPTION_STATUS_VALUES]> = {
  taxable: EXEMPTION_STATUS_VALUES.taxable,
  exempt: EXEMPTION_STATUS_VALUES.exempt,
  reverse_charge: EXEMPTION_STATUS_VALUES.reverseCharge,
};

export function exemptionFromWire(value: string | null | undefined): SphereExemptionStatus | undefined {
  for (const [k, v] of Object.entries(EXEMPTION_TO_WIRE)) if (v === value) return k as SphereExemptionStatus;
  return undefined;
}

export function encodeCustomer(c: SphereCustomerInput): CustomerRequestWire {
  return defined({
    [C.externalId]: c.externalId,
    [C.name]: c.name,
    [C.email]: c.email,
    [C.billingAddress]: c.billingAddress ? encodeAddress(c.billingAddress) : undefined,
    [C.shippingAddress]: c.shippingAddress ? encodeAddress(c.shippingAddress) : undefined,
    [C.taxIds]: c.taxIds?.map((t) => ({ [T.type]: t.type, [T.value]: t.value })),
    [C.exemptionStatus]: c.exemptionStatus ? EXEMPTION_TO_WIRE[c.exemptionStatus] : undefined,
  });
}

export function decodeCustomer(w: CustomerResponseWire): SphereCustomer {
  const echoed = w[C.exemptionStatus];
  const raw = echoed === null || echoed === undefined ? undefined : String(echoed);
  return defined({
    externalId: w[C.externalId],
    name: w[C.name] ?? undefined,
    email: w[C.email] ?? undefined,
    billingAddress: decodeAddress(w[C.billingAddress]),
    shippingAddress: decodeAddress(w[C.shippingAddress]),
    taxIds: w[C.taxIds]?.flatMap((t) => {
      const type = t[T.type];
      const value = t[T.value];
      return type && value ? [{ type, value }] : [];
    }),
    exemptionStatus: exemptionFromWire(raw),
    rawExemptionStatus: raw,
    createdAt: w[C.createdAt] ?? undefined,
    updatedAt: w[C.updatedAt] ?? undefined,
  });
}

// ---- products ------------------------------------------------------------------------------

export function encodeProduct(p: SphereProductInput): ProductRequestWire {
  return defined({ [P.externalId]: p.externalId, [P.name]: p.name, [P.description]: p.description, [P.taxCode]: p.taxCode });
}

export function decodeProduct(w: ProductResponseWire): SphereProduct {
  return defined({
    externalId: w[P.externalId],
    name: w[P.name] ?? undefined,
    description: w[P.description] ?? undefined,
    taxCode: w[P.taxCode] ?? undefined,
    createdAt: w[P.createdAt] ?? undefined,
    updatedAt: w[P.updatedAt] ?? undefined,
  });
}

// ---- transactions --------------------------------------------------------------------------

export function encodeTransaction(t: SphereTransactionInput): TransactionRequestWire {
  const currency = currencyOf(t.currency);
  return defined({
    [X.externalId]: t.externalId,
    [X.type]: t.type,
    [X.status]: t.status,
    [X.customerId]: t.customerId,
    [X.originalTransactionId]: t.originalTransactionId,
    [X.currency]: currency.toLowerCase(),
    [X.transactionDate]: t.transactionDate,
    [X.customerAddress]: t.customerAddress ? encodeAddress(t.customerAddress) : undefined,
    [X.lineItems]: t.lineItems.map((l) =>
      defined({
        [L.id]: l.id,
        [L.productId]: l.productId,
        [L.amount]: v1Money.encode(l.amount, currency),
        [L.discountAmount]: l.discountAmount === undefined ? undefined : v1Money.encode(l.discountAmount, currency),
        [L.quantity]: l.quantity,
        [L.description]: l.description,
      }),
    ),
  });
}

export function decodeTransaction(w: TransactionResponseWire): SphereTransaction {
  return defined({
    externalId: w[X.externalId],
    type: w[X.type],
    status: w[X.status],
    customerId: w[X.customerId] ?? undefined,
    originalTransactionId: w[X.originalTransactionId] ?? undefined,
    currency: w[X.currency].toLowerCase(),
    transactionDate: w[X.transactionDate] ?? undefined,
    lineItems: w[X.lineItems].map((l) =>
      defined({
        id: l[L.id] ?? undefined,
        productId: l[L.productId],
        amount: l[L.amount],
        discountAmount: l[L.discountAmount] ?? undefined,
        quantity: l[L.quantity] ?? undefined,
        description: l[L.description] ?? undefined,
        tax: l[L.tax] ?? undefined,
      }),
    ),
    subtotal: w[X.subtotal] ?? undefined,
    tax: w[X.tax] ?? undefined,
    total: w[X.total] ?? undefined,
    createdAt: w[X.createdAt] ?? undefined,
    finalizedAt: w[X.finalizedAt] ?? undefined,
    cancelledAt: w[X.cancelledAt] ?? undefined,
  });
}
