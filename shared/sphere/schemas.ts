/**
 * zod 4 schemas of Sphere's wire formats (reference: ../../../shared/reference/sphere-api.md).
 *
 * - calculate_tax: money is integer minor units; `percentage` is a JSON number percent (a rate,
 *   not money) which we carry on as an exact decimal string the moment we parse it.
 * - v1 (customers, products, transactions): money is major-unit decimal strings.
 * Every uncertain v1 name comes from ./field-names.ts.
 */
import * as z from 'zod';
import { DECIMAL_STRING, Decimal } from '../domain/decimal';
import { type MinorUnits } from '../domain/money';
import {
  ADDRESS_FIELDS as A,
  CUSTOMER_FIELDS as C,
  EXEMPTION_STATUS_VALUES,
  PRODUCT_FIELDS as P,
  TAX_ID_FIELDS as T,
  TRANSACTION_FIELDS as X,
  TRANSACTION_LINE_FIELDS as L,
  TRANSACTION_STATUSES,
  TRANSACTION_TYPES,
} from './field-names';

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** Minor units: a safe integer. */
export const MinorUnitsSchema = z.number().int().refine(Number.isSafeInteger, 'must be a safe integer');

/** A major-unit decimal string (`"100.00"`), as v1 writes money. */
export const MoneyStringSchema = z.string().regex(DECIMAL_STRING, 'must be a decimal string like "100.00"');

/** Address keys as calculate_tax (and, assumed, v1) write them. All optional on the wire: Sphere reports incomplete addresses as `customer_tax_location_invalid`, not as a validation error. */
export const AddressWireSchema = z.object({
  [A.line1]: z.string().nullish(),
  [A.line2]: z.string().nullish(),
  [A.city]: z.string().nullish(),
  [A.state]: z.string().nullish(),
  [A.postalCode]: z.string().nullish(),
  [A.country]: z.string().nullish(),
});
export type AddressWire = z.infer<typeof AddressWireSchema>;

/** Known `tax_type` values [C: TC]. Unknown strings are accepted too (the enum may grow). */
export const KNOWN_TAX_TYPES = [
  'sales_tax', 'vat', 'gst', 'hst', 'pst', 'qst', 'jct', 'igst', 'lease_tax', 'amusement_tax',
  'communications_tax', 'retail_delivery_fee', 'rst', 'service_tax',
] as const;
export type KnownTaxType = (typeof KNOWN_TAX_TYPES)[number];
// `string & {}` keeps editor completion for the known values while accepting any string.
export type SphereTaxType = KnownTaxType | (string & {});
export const TaxTypeSchema = z.union([z.enum(KNOWN_TAX_TYPES), z.string().min(1)]);

// ---------------------------------------------------------------------------------------------
// calculate_tax request [C: TC]

export const CalculateTaxLineWireSchema = z.object({
  id: z.string().min(1).optional(),
  amount: MinorUnitsSchema,
  product_id: z.string().min(1),
  discount_amount: MinorUnitsSchema.nonnegative().optional(),
  tax_inclusive: z.boolean().optional(),
  ship_to: AddressWireSchema.optional(),
  ship_from: AddressWireSchema.optional(),
});

export const CalculateTaxRequestWireSchema = z
  .object({
    currency: z.string().regex(/^[a-z]{3}$/, 'must be a lowercase ISO 4217 code like "usd"'),
    line_items: z.array(CalculateTaxLineWireSchema).min(1, 'must contain at least one line item'),
    customer_address: AddressWireSchema.optional(),
    customer_id: z.string().min(1).optional(),
    pull_customer_address: z.boolean().optional(),
    tax_id: z.string().min(1).optional(),
    tax_exempt: z.boolean().optional(),
    include_taxability_reason: z.boolean().optional(),
    ship_from: AddressWireSchema.optional(),
  })
  .refine((b) => b.customer_address !== undefined || b.pull_customer_address === true, {
    message: 'customer_address is required unless pull_customer_address is true',
    path: ['customer_address'],
  });
export type CalculateTaxRequestWire = z.infer<typeof CalculateTaxRequestWireSchema>;

// ---------------------------------------------------------------------------------------------
// calculate_tax response: both documented shapes, normalised into one type

export const TaxRateWireSchema = z.object({
  percentage: z.number().finite(),
  inclusive: z.boolean().optional(),
  display_name: z.string().nullish(),
  jurisdiction: z.string().nullish(),
  country: z.string().nullish(),
  state: z.string().nullish(),
  tax_type: TaxTypeSchema.nullish(), // absent in the older (HOSTED) format
  taxability_reason: z.string().nullish(),
});

export const TaxAmountWireSchema = z.object({
  amount: MinorUnitsSchema,
  taxable_amount: MinorUnitsSchema,
  tax_rate: TaxRateWireSchema,
});

export const CalculateTaxLineResultWireSchema = z.object({
  id: z.string(),
  tax_amounts: z.array(TaxAmountWireSchema).default([]),
  /** Where we assume the reason sits when tax_amounts is empty (see field-names.ts). */
  taxability_reason: z.string().nullish(),
});

const CalculationBodyWireSchema = z.object({
  lines: z.array(CalculateTaxLineResultWireSchema),
  sphere_tax_calculation_id: z.string().nullish(),
});

/** Current shape: `{message, data: {lines, sphere_tax_calculation_id}}` [C: TC]. */
export const CalculateTaxWrappedWireSchema = z.object({ message: z.string().nullish(), data: CalculationBodyWireSchema });
/** Older shape: `{lines, sphere_tax_calculation_id}` at the top level [C: HOSTED]. */
export const CalculateTaxLegacyWireSchema = CalculationBodyWireSchema;

export interface SphereTaxAmount {
  /** Tax for this jurisdiction entry, integer minor units. */
  amount: MinorUnits;
  taxableAmount: MinorUnits;
  /** The rate as an exact decimal percent string: 6.0 → "6", 9.975 → "9.975". */
  percentage: string;
  /** The rate as Sphere sent it (a JSON number). Never use it for money arithmetic. */
  percentageNumber: number;
  jurisdiction: string;
  displayName: string;
  country: string;
  state?: string;
  /** `"unknown"` when Sphere did not send one (older format). */
  taxType: SphereTaxType;
  inclusive: boolean;
  taxabilityReason?: string;
}

export interface SphereTaxLine {
  id: string;
  taxAmounts: SphereTaxAmount[];
  /** The line's reason: the line-level field, else the first entry's `tax_rate.taxability_reason`. */
  taxabilityReason?: string;
}

export interface SphereTaxCalculation {
  /** Absent → nothing to store [C]. */
  calculationId?: string;
  lines: SphereTaxLine[];
}

/** JSON number percent → exact decimal string, via its shortest round-trip text. */
export function percentageToDecimalString(percentage: number): string {
  return new Decimal(String(percentage)).toFixed();
}

type CalculationBodyWire = z.infer<typeof CalculationBodyWireSchema>;

function normaliseCalculation(body: CalculationBodyWire): SphereTaxCalculation {
  const lines = body.lines.map((line): SphereTaxLine => {
    const taxAmounts = line.tax_amounts.map((e): SphereTaxAmount => {
      const r = e.tax_rate;
      return {
        amount: e.amount,
        taxableAmount: e.taxable_amount,
        percentage: percentageToDecimalString(r.percentage),
        percentageNumber: r.percentage,
        jurisdiction: r.jurisdiction ?? '',
        displayName: r.display_name ?? r.jurisdiction ?? '',
        country: r.country ?? '',
        ...(r.state ? { state: r.state } : {}),
        taxType: r.tax_type ?? 'unknown',
        inclusive: r.inclusive ?? false,
        ...(r.taxability_reason ? { taxabilityReason: r.taxability_reason } : {}),
      };
    });
    const reason = line.taxability_reason ?? taxAmounts.find((t) => t.taxabilityReason)?.taxabilityReason;
    return { id: line.id, taxAmounts, ...(reason ? { taxabilityReason: reason } : {}) };
  });
  return { ...(body.sphere_tax_calculation_id ? { calculationId: body.sphere_tax_calculation_id } : {}), lines };
}

/** Accepts both documented response shapes and yields one normalised type. */
export const CalculateTaxResponseSchema = z
  .union([CalculateTaxWrappedWireSchema, CalculateTaxLegacyWireSchema])
  .transform((wire): SphereTaxCalculation => normaliseCalculation('data' in wire ? wire.data : wire));

// ---------------------------------------------------------------------------------------------
// Error bodies

/** calculate_tax (and export auth) errors [C]. */
export const ApiErrorBodySchema = z.object({ type: z.string().optional(), code: z.string(), message: z.string().optional() });
/** v1 400: `{"<field>": ["msg"]}`, nested fields dotted, request-level under `body` [C]. */
export const V1FieldErrorsBodySchema = z.record(z.string(), z.array(z.string()).min(1));
/** v1 403/404/405: DRF style `{"detail": "..."}` [C]. */
export const DetailErrorBodySchema = z.object({ detail: z.string() });
/** v1 429 [C]. */
export const RateLimitErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string().optional(),
    retryable: z.boolean().optional(),
    retry_after_seconds: z.number().nonnegative().optional(),
    request_id: z.string().optional(),
  }),
});

// ---------------------------------------------------------------------------------------------
// v1 bodies (names from field-names.ts)

export const TaxIdWireSchema = z.object({ [T.type]: z.string().min(1), [T.value]: z.string().min(1) });

const exemptionValues = [EXEMPTION_STATUS_VALUES.taxable, EXEMPTION_STATUS_VALUES.exempt, EXEMPTION_STATUS_VALUES.reverseCharge] as const;
export const ExemptionStatusWireSchema = z.enum(exemptionValues);

const externalId = z.string().min(1).max(255);

export const CustomerRequestWireSchema = z.object({
  [C.externalId]: externalId,
  [C.name]: z.string().nullish(),
  [C.email]: z.string().nullish(),
  [C.billingAddress]: AddressWireSchema.nullish(),
  [C.shippingAddress]: AddressWireSchema.nullish(),
  [C.taxIds]: z.array(TaxIdWireSchema).nullish(),
  [C.exemptionStatus]: ExemptionStatusWireSchema.nullish(),
});
export type CustomerRequestWire = z.infer<typeof CustomerRequestWireSchema>;

/**
 * Response schemas are tolerant (issue 13 §2): extra fields kept, ids as string or number, the exemption
 * as a string or a boolean, tax ids of any shape. A field that is missing or changed is then reported by
 * the echo check (`sphere_field_not_accepted`, shared/domain/echo-checks.ts), naming the field, rather
 * than failing the whole body as `upstream_malformed_response`.
 */
const WireIdSchema = z.union([z.string(), z.number()]).transform(String);
const AddressResponseWireSchema = z.looseObject(AddressWireSchema.shape);
const TaxIdResponseWireSchema = z.looseObject({ [T.type]: z.string().nullish(), [T.value]: WireIdSchema.nullish() });

export const CustomerResponseWireSchema = z.looseObject({
  [C.externalId]: WireIdSchema,
  [C.name]: z.string().nullish(),
  [C.email]: z.string().nullish(),
  [C.billingAddress]: AddressResponseWireSchema.nullish(),
  [C.shippingAddress]: AddressResponseWireSchema.nullish(),
  [C.taxIds]: z.array(TaxIdResponseWireSchema).nullish(),
  [C.exemptionStatus]: z.union([z.string(), z.boolean()]).nullish(),
  [C.createdAt]: z.string().nullish(),
  [C.updatedAt]: z.string().nullish(),
});
export type CustomerResponseWire = z.infer<typeof CustomerResponseWireSchema>;

export const ProductRequestWireSchema = z.object({
  [P.externalId]: externalId,
  [P.name]: z.string().nullish(),
  [P.description]: z.string().nullish(),
  [P.taxCode]: z.string().min(1).nullish(),
});
export type ProductRequestWire = z.infer<typeof ProductRequestWireSchema>;

export const ProductResponseWireSchema = z.looseObject({
  [P.externalId]: WireIdSchema,
  [P.name]: z.string().nullish(),
  [P.description]: z.string().nullish(),
  [P.taxCode]: z.string().nullish(),
  [P.createdAt]: z.string().nullish(),
  [P.updatedAt]: z.string().nullish(),
});
export type ProductResponseWire = z.infer<typeof ProductResponseWireSchema>;

export const TransactionLineRequestWireSchema = z.object({
  [L.id]: z.string().min(1).nullish(),
  [L.productId]: z.string().min(1),
  [L.amount]: MoneyStringSchema,
  [L.discountAmount]: MoneyStringSchema.nullish(),
  [L.quantity]: MoneyStringSchema.nullish(),
  [L.description]: z.string().nullish(),
});

export const TransactionRequestWireSchema = z.object({
  [X.externalId]: externalId,
  [X.type]: z.enum([TRANSACTION_TYPES.debit, TRANSACTION_TYPES.credit]),
  [X.status]: z.enum([TRANSACTION_STATUSES.pending, TRANSACTION_STATUSES.finalized]),
  [X.customerId]: z.string().min(1),
  [X.originalTransactionId]: z.string().min(1).nullish(),
  [X.currency]: z.string().regex(/^[A-Za-z]{3}$/, 'must be an ISO 4217 code'),
  [X.transactionDate]: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD').nullish(),
  [X.customerAddress]: AddressWireSchema.nullish(),
  [X.lineItems]: z.array(TransactionLineRequestWireSchema).min(1, 'must contain at least one line item'),
});
export type TransactionRequestWire = z.infer<typeof TransactionRequestWireSchema>;

export const TransactionLineResponseWireSchema = z.looseObject({
  [L.id]: WireIdSchema.nullish(),
  [L.productId]: WireIdSchema,
  [L.amount]: MoneyStringSchema,
  [L.discountAmount]: MoneyStringSchema.nullish(),
  [L.quantity]: MoneyStringSchema.nullish(),
  [L.description]: z.string().nullish(),
  [L.tax]: MoneyStringSchema.nullish(),
});

export const TransactionResponseWireSchema = z.looseObject({
  [X.externalId]: WireIdSchema,
  [X.type]: z.string(),
  [X.status]: z.string(),
  [X.customerId]: WireIdSchema.nullish(),
  [X.originalTransactionId]: WireIdSchema.nullish(),
  [X.currency]: z.string(),
  [X.transactionDate]: z.string().nullish(),
  [X.lineItems]: z.array(TransactionLineResponseWireSchema).default([]),
  [X.subtotal]: MoneyStringSchema.nullish(),
  [X.tax]: MoneyStringSchema.nullish(),
  [X.total]: MoneyStringSchema.nullish(),
  [X.createdAt]: z.string().nullish(),
  [X.finalizedAt]: z.string().nullish(),
  [X.cancelledAt]: z.string().nullish(),
});
export type TransactionResponseWire = z.infer<typeof TransactionResponseWireSchema>;
