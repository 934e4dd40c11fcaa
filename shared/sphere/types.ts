/**
 * The connector-facing (camelCase) model of Sphere. The client converts it to and from the wire
 * with ./codecs.ts; wire names live in ./field-names.ts.
 */
import { type SphereAddressLike } from '../domain/canonical';
import { type CurrencyCode } from '../domain/currency';
import { type MinorUnits } from '../domain/money';

export type { SphereTaxAmount, SphereTaxCalculation, SphereTaxLine, SphereTaxType } from './schemas';

export type SphereAddress = SphereAddressLike;

// ---- calculate_tax -------------------------------------------------------------------------

export interface CalculateTaxLineInput {
  /** Unique per line; echoed back. Use the Sequence line item id. */
  id: string;
  /** Extended line total in integer minor units (no quantity/unit price on this API). */
  amount: MinorUnits;
  /** External id of a product that exists in Sphere with a product tax code. */
  productId: string;
  discountAmount?: MinorUnits;
  taxInclusive?: boolean;
  shipTo?: SphereAddress;
  shipFrom?: SphereAddress;
}

export interface CalculateTaxInput {
  /** `USD` or `usd`; sent lowercase. */
  currency: CurrencyCode | string;
  lineItems: CalculateTaxLineInput[];
  customerAddress: SphereAddress;
  customerId?: string;
  taxId?: string;
  taxExempt?: boolean;
  /** Default true: the connector always wants the zero-tax reason. */
  includeTaxabilityReason?: boolean;
  shipFrom?: SphereAddress;
}

// ---- v1 ------------------------------------------------------------------------------------

export type SphereExemptionStatus = 'taxable' | 'exempt' | 'reverse_charge';

export interface SphereTaxId {
  /** e.g. `eu_vat`, `gb_vat`, `ca_bn`, `us_ein`. */
  type: string;
  value: string;
}

export interface SphereCustomerInput {
  externalId: string;
  name?: string;
  email?: string;
  billingAddress?: SphereAddress;
  shippingAddress?: SphereAddress;
  taxIds?: SphereTaxId[];
  exemptionStatus?: SphereExemptionStatus;
}

export interface SphereCustomer extends SphereCustomerInput {
  /** As Sphere returned it; `exemptionStatus` is only set when the value is one we know. */
  rawExemptionStatus?: string;
  createdAt?: string;
  updatedAt?: string;
}

export interface SphereProductInput {
  externalId: string;
  name?: string;
  description?: string;
  /** Sphere product tax code (e.g. `txcd_10000000`). */
  taxCode?: string;
}

export interface SphereProduct extends SphereProductInput {
  createdAt?: string;
  updatedAt?: string;
}

export type SphereTransactionType = 'debit' | 'credit';
export type SphereTransactionStatus = 'pending' | 'finalized' | 'cancelled';

export interface SphereTransactionLineInput {
  id?: string;
  productId: string;
  /** Major-unit decimal string (`"100.00"`). */
  amount: string;
  discountAmount?: string;
  quantity?: string;
  description?: string;
}

export interface SphereTransactionInput {
  externalId: string;
  type: SphereTransactionType;
  status: 'pending' | 'finalized';
  customerId: string;
  currency: CurrencyCode | string;
  /** Required for credits: the external id of the invoice being credited. */
  originalTransactionId?: string;
  /** YYYY-MM-DD. */
  transactionDate?: string;
  customerAddress?: SphereAddress;
  lineItems: SphereTransactionLineInput[];
}

export interface SphereTransactionLine extends SphereTransactionLineInput {
  tax?: string;
}

export interface SphereTransaction {
  externalId: string;
  type: SphereTransactionType | string;
  status: SphereTransactionStatus | string;
  customerId?: string;
  originalTransactionId?: string;
  /** Lowercase, as Sphere returns it. */
  currency: string;
  transactionDate?: string;
  lineItems: SphereTransactionLine[];
  /** Decimal strings, present once finalized. */
  subtotal?: string;
  tax?: string;
  total?: string;
  createdAt?: string;
  finalizedAt?: string;
  cancelledAt?: string;
}
