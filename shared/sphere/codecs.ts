/**
 * The two Sphere money codecs and the body codecs (camelCase model ↔ wire).
 *
 * - calculate_tax money: integer minor units (10000 = $100.00) [C].
 * - v1 money: major-unit decimal strings (`"100.00"`); responses use two decimals [C].
 * Both are thin, exact wrappers over shared/domain/money.ts: nothing here rounds silently.
 */
import { type CurrencyCode, parseCurrency } from '../domain/currency';
import { type MinorUnits, decimalToMinorUnits, minorUnitsToDecimal } from '../domain/money';
import * as F from './field-names';
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

const { ADDRESS_FIELDS: A, CUSTOMER_FIELDS: C, EXEMPTION_STATUS_VALUES, PRODUCT_FIELDS: P, TAX_ID_FIELDS: T, TRANSACTION_FIELDS: X, TRANSACTION_LINE_FIELDS: L } = F;

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

// ---- field mapping -------------------------------------------------------------------------

function defined<T extends Record<string, unknown>>(obj: T): T {
  for (const k of Object.keys(obj)) if (obj[k] === undefined) delete obj[k];
  return obj;
}

/**
 * Model → wire: the model's `keys` in this order, each under its wire name in `names` (its value in
 * `computed` when given there); undefined values are left out.
 */
function toWire<M extends object, K extends keyof M & keyof N & string, N extends Record<string, string>>(model: M, names: N, keys: readonly K[], computed: Partial<Record<K, unknown>> = {}): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  for (const k of keys) {
    const value = k in computed ? computed[k] : model[k];
    if (value !== undefined) wire[names[k]] = value;
  }
  return wire;
}

/**
 * Wire → model: the model's `keys` in this order, each read from its wire name in `names` (its value
 * in `computed` when given there); null and missing are both left out.
 */
function fromWire<T, N extends Record<string, string>>(wire: object, names: N, keys: readonly (keyof N & keyof T & string)[], computed: Partial<Record<keyof T, unknown>> = {}): T {
  const model: Record<string, unknown> = {};
  for (const k of keys) {
    const value = k in computed ? computed[k] : (wire as Record<string, unknown>)[names[k]];
    if (value !== undefined && value !== null) model[k] = value;
  }
  return model as T;
}

// ---- addresses -----------------------------------------------------------------------------

const ADDRESS_KEYS = ['line1', 'line2', 'city', 'state', 'postalCode', 'country'] as const;

export function encodeAddress(a: SphereAddress): AddressWire {
  return toWire(a, A, ADDRESS_KEYS) as AddressWire;
}

export function decodeAddress(w: AddressWire | null | undefined): SphereAddress | undefined {
  return w ? fromWire<SphereAddress, typeof A>(w, A, ADDRESS_KEYS) : undefined;
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
  return toWire(c, C, ['externalId', 'name', 'email', 'billingAddress', 'shippingAddress', 'taxIds', 'exemptionStatus'], {
    billingAddress: c.billingAddress ? encodeAddress(c.billingAddress) : undefined,
    shippingAddress: c.shippingAddress ? encodeAddress(c.shippingAddress) : undefined,
    taxIds: c.taxIds?.map((t) => ({ [T.type]: t.type, [T.value]: t.value })),
    exemptionStatus: c.exemptionStatus ? EXEMPTION_TO_WIRE[c.exemptionStatus] : undefined,
  }) as CustomerRequestWire;
}

export function decodeCustomer(w: CustomerResponseWire): SphereCustomer {
  const echoed = w[C.exemptionStatus];
  const raw = echoed === null || echoed === undefined ? undefined : String(echoed);
  return {
    ...fromWire<SphereCustomer, typeof C>(w, C, ['externalId', 'name', 'email', 'billingAddress', 'shippingAddress', 'taxIds'], {
      billingAddress: decodeAddress(w[C.billingAddress]),
      shippingAddress: decodeAddress(w[C.shippingAddress]),
      taxIds: w[C.taxIds]?.flatMap((t) => {
        const type = t[T.type];
        const value = t[T.value];
        return type && value ? [{ type, value }] : [];
      }),
    }),
    ...defined({ exemptionStatus: exemptionFromWire(raw), rawExemptionStatus: raw }),
    ...fromWire<SphereCustomer, typeof C>(w, C, ['createdAt', 'updatedAt']),
  };
}

// ---- products ------------------------------------------------------------------------------

const PRODUCT_KEYS = ['externalId', 'name', 'description', 'taxCode'] as const;

export function encodeProduct(p: SphereProductInput): ProductRequestWire {
  return toWire(p, P, PRODUCT_KEYS) as ProductRequestWire;
}

export function decodeProduct(w: ProductResponseWire): SphereProduct {
  return fromWire<SphereProduct, typeof P>(w, P, [...PRODUCT_KEYS, 'createdAt', 'updatedAt']);
}

// ---- transactions --------------------------------------------------------------------------

export function encodeTransaction(t: SphereTransactionInput): TransactionRequestWire {
  const currency = currencyOf(t.currency);
  return toWire(t, X, ['externalId', 'type', 'status', 'customerId', 'originalTransactionId', 'currency', 'transactionDate', 'customerAddress', 'lineItems'], {
    currency: currency.toLowerCase(),
    customerAddress: t.customerAddress ? encodeAddress(t.customerAddress) : undefined,
    lineItems: t.lineItems.map((l) =>
      toWire(l, L, ['id', 'productId', 'amount', 'discountAmount', 'quantity', 'description'], {
        amount: v1Money.encode(l.amount, currency),
        discountAmount: l.discountAmount === undefined ? undefined : v1Money.encode(l.discountAmount, currency),
      }),
    ),
  }) as TransactionRequestWire;
}

export function decodeTransaction(w: TransactionResponseWire): SphereTransaction {
  return fromWire<SphereTransaction, typeof X>(
    w,
    X,
    ['externalId', 'type', 'status', 'customerId', 'originalTransactionId', 'currency', 'transactionDate', 'lineItems', 'subtotal', 'tax', 'total', 'createdAt', 'finalizedAt', 'cancelledAt'],
    {
      currency: w[X.currency].toLowerCase(),
      lineItems: w[X.lineItems].map((l) => fromWire<SphereTransaction['lineItems'][number], typeof L>(l, L, ['id', 'productId', 'amount', 'discountAmount', 'quantity', 'description', 'tax'])),
    },
  );
}
