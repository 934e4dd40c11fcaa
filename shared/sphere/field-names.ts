/**
 * Every Sphere wire name the public docs leave uncertain, in ONE place.
 *
 * Sphere's v1 Transaction API field names are defined only in https://server.getsphere.com/v1/openapi.json,
 * which the reference (../../../shared/reference/sphere-api.md, §3 and §6) does not capture. Everything
 * marked [I] below is an inference (mostly by analogy with calculate_tax and with Stripe, whose vocabulary
 * Sphere mirrors). When a real Sphere test organisation shows different names, correct them HERE: the
 * schemas, the codecs, the client and the simulator all read these constants.
 *
 * Confidence marks follow the reference doc:
 *   [C] Sphere's own docs · [P] a partner's docs · [D] third-party derived · [I] inference.
 */

/** Paths of the surfaces the connector uses. [C: TC, TXN] */
export const SPHERE_PATHS = {
  calculateTax: '/tax_api/calculate_tax', // [C]
  customers: '/v1/customers', // [C]
  products: '/v1/products', // [C]
  transactions: '/v1/transactions', // [C]
  /** `${transactions}/{external_id}/cancel` [C] */
  cancelSuffix: '/cancel',
} as const;

/** Auth header on every call. [C] */
export const API_KEY_HEADER = 'X-API-KEY';

/**
 * Response header carrying Sphere's request id, for the audit log. No request-id header is
 * documented [gap]; the name is [I] (the common `X-Request-Id`). The id itself is [C]: v1 429
 * bodies carry `error.request_id` ("req_..."), which the transport also copies into the audit
 * entry when the header is absent.
 */
export const REQUEST_ID_HEADER = 'X-Request-Id'; // [I]

/**
 * Address object keys. calculate_tax's `customer_address` keys are [C] (TC). The v1 customer
 * addresses are assumed to use the same keys [I].
 */
export const ADDRESS_FIELDS = {
  line1: 'address1', // [C] for calculate_tax, [I] for v1
  line2: 'address2', // [C] / [I]
  city: 'city', // [C] / [I]
  state: 'state', // [C] / [I]  (US state / Canadian province code)
  postalCode: 'postal_code', // [C] / [I]
  country: 'country', // [C] / [I]  (ISO 3166-1 alpha-2)
} as const;

/** What every v1 record has: its external id, the v1 idempotency key [C], and its timestamps [I]. */
const V1_RECORD_FIELDS = {
  externalId: 'external_id', // [C]
  createdAt: 'created_at', // [I]
  updatedAt: 'updated_at', // [I]
} as const;

/** v1 customer body (`POST /v1/customers`). Records "billing and shipping addresses, tax ids, exemption status" [C]; the names are [I]. */
export const CUSTOMER_FIELDS = {
  ...V1_RECORD_FIELDS,
  name: 'name', // [I]
  email: 'email', // [I]
  billingAddress: 'billing_address', // [I]
  shippingAddress: 'shipping_address', // [I]
  /** Tax identification numbers [C that they exist]; array-of-objects shape [I, Stripe's `tax_ids`]. */
  taxIds: 'tax_ids', // [I]
  /** Exemption status field [C that it exists]; name and values [I, Stripe's `customer.tax_exempt`]. */
  exemptionStatus: 'tax_exempt', // [I]
} as const;

/** Keys of one entry of `tax_ids`. [I: Stripe `{type, value}`] */
export const TAX_ID_FIELDS = {
  type: 'type', // [I]  e.g. "eu_vat", "gb_vat", "us_ein", "ca_bn"
  value: 'value', // [I]
} as const;

/** Wire values of the customer exemption status. [I: Stripe `none | exempt | reverse`] */
export const EXEMPTION_STATUS_VALUES = {
  taxable: 'none', // [I]
  exempt: 'exempt', // [I]
  reverseCharge: 'reverse', // [I]
} as const;

/** v1 product body (`POST /v1/products`, "create or update a product and assign a product tax code" [C]). */
export const PRODUCT_FIELDS = {
  ...V1_RECORD_FIELDS,
  name: 'name', // [I]
  description: 'description', // [I]
  /** The Sphere Product Tax Code. Field name [I: Stripe `tax_code`]; code format unknown [gap]. */
  taxCode: 'tax_code', // [I]
} as const;

/** v1 transaction body (`POST /v1/transactions`). */
export const TRANSACTION_FIELDS = {
  externalId: V1_RECORD_FIELDS.externalId,
  type: 'type', // [C]  debit | credit
  status: 'status', // [C]  pending | finalized (+ cancelled, see below)
  customerId: 'customer_id', // [C] (the validation example `{"customer_id":[...]}`)
  originalTransactionId: 'original_transaction_id', // [C]
  currency: 'currency', // [C] (stored and returned lowercased)
  /** Date the invoice/credit note was issued, YYYY-MM-DD. [I: no date field is documented] */
  transactionDate: 'transaction_date', // [I]
  /** Optional per-transaction address override; else the customer's billing address. [I] */
  customerAddress: 'customer_address', // [I]
  lineItems: 'line_items', // [C] (validation key `line_items.0.amount`)
  subtotal: 'subtotal', // [C] (returned when finalized)
  tax: 'tax', // [C]
  total: 'total', // [C]
  createdAt: V1_RECORD_FIELDS.createdAt,
  finalizedAt: 'finalized_at', // [I]
  cancelledAt: 'cancelled_at', // [I]
} as const;

/** Keys of one `line_items[]` entry of a v1 transaction. */
export const TRANSACTION_LINE_FIELDS = {
  id: 'id', // [I] (by analogy with calculate_tax)
  productId: 'product_id', // [I] (by analogy with calculate_tax)
  amount: 'amount', // [C] (`line_items.0.amount`); a major-unit decimal string [C]
  discountAmount: 'discount_amount', // [I]
  quantity: 'quantity', // [I] decimal string, informational, sent as Sequence has it (SPHERE-V1-LINE-QUANTITY-PRECISION)
  description: 'description', // [I]
  /** Tax computed for the line, returned once finalized. [I] */
  tax: 'tax', // [I]
} as const;

/** v1 transaction `type` values. [C] */
export const TRANSACTION_TYPES = { debit: 'debit', credit: 'credit' } as const;

/** v1 transaction `status` values. pending/finalized [C]; cancelled [C only in export docs, spelling assumed for v1]. */
export const TRANSACTION_STATUSES = {
  pending: 'pending', // [C]
  finalized: 'finalized', // [C]
  cancelled: 'cancelled', // [I] (export docs list "cancelled" and "void")
} as const;

/**
 * Where `taxability_reason` sits.
 * - With tax entries: inside each `tax_amounts[].tax_rate` [C: TC].
 * - With EMPTY `tax_amounts` (exempt, reverse charge, not registered) the docs do not say [gap].
 *   We assume it sits on the line itself, `lines[].taxability_reason` [I]. The client also accepts it
 *   inside the first tax_rate, so a correction here only changes what the simulator writes.
 */
export const TAXABILITY_REASON_FIELD = 'taxability_reason'; // [C]
export const EMPTY_TAX_AMOUNTS_REASON_LOCATION: 'line' | 'none' = 'line'; // [I]

/** taxability_reason values the simulator emits; the full enum is undocumented [gap]. */
export const TAXABILITY_REASONS = {
  standardRated: 'standard_rated', // [C example]
  productExempt: 'product_exempt', // [C example]
  reverseCharge: 'reverse_charge', // [C example]
  customerExempt: 'customer_exempt', // [I: Stripe]
  notCollecting: 'not_collecting', // [I: Stripe]
} as const;
