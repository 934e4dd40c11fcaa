/** Sequence invoices, line items and line item groups, with their request bodies (policy in ./index.ts). */
import * as z from 'zod';
import { AddressRequestSchema, AddressSchema, CurrencySchema, DecimalString, IntegrationServiceSchema, InvoicePaymentStatusSchema, InvoiceStatusSchema, KeyValuePairSchema, RateDisplaySchema, RevenueClassificationSchema, RevenueRecognitionMethodSchema, TaxStatusSchema } from './common';
import { TaxCategoryRefSchema } from './catalogue';

/** `InvoiceMerchantDetails`: the merchant address is the ship-from for tax. */
export const MerchantDetailsSchema = z.looseObject({
  address: AddressSchema,
  legalCompanyName: z.string(),
  email: z.string(),
  phoneNumber: z.string().nullish(),
  taxId: z.string().nullish(),
  logoUrl: z.string().nullish(),
  primaryColour: z.string().nullish(),
  customFields: z.array(KeyValuePairSchema),
  includeBeneficiaryAddressInPaymentDetails: z.boolean(),
});
export type MerchantDetails = z.infer<typeof MerchantDetailsSchema>;

/** `LinkInfo`. */
export const LinkInfoSchema = z.looseObject({
  externalId: z.string(),
  externalService: z.string(),
  syncTime: z.string(),
  externalUrl: z.string().nullish(),
});

const invoiceCommon = {
  id: z.string(),
  sequenceAccountId: z.string(),
  billingScheduleId: z.string().nullish(),
  status: InvoiceStatusSchema,
  currency: CurrencySchema,
  invoiceNumber: z.string().nullish(),
  issueDate: z.string().nullish(),
  dueDate: z.string().nullish(),
  purchaseOrderNumber: z.string().nullish(),
  reference: z.string().nullish(),
  customerEmails: z.array(z.string()),
  customerLegalCompanyName: z.string(),
  customerBillingAddress: AddressSchema,
  customerShippingAddress: AddressSchema,
  memo: z.string().nullish(),
  paymentOptions: z.array(z.string()).nullish(),
  billingPeriod: z.looseObject({ start: z.string(), endInclusive: z.string() }).nullish(),
  customerId: z.string(),
  totalTax: DecimalString,
  netTotal: DecimalString,
  grossTotal: DecimalString,
  metadata: z.array(KeyValuePairSchema),
  customerTaxId: z.string().nullish(),
  customerTaxStatus: TaxStatusSchema.nullish(),
  paymentStatus: InvoicePaymentStatusSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  creditNoteIds: z.array(z.string()),
  linkedServices: z.array(LinkInfoSchema),
  merchantDetails: MerchantDetailsSchema.nullish(),
  creditBalances: z.string().nullish(),
  dunningStatus: z.string().nullish(),
  accountingDate: z.string(),
  calculatedAt: z.string().nullish(),
  renderSettings: z.looseObject({ paymentLinkDisplay: z.string() }),
  isCustomerArchived: z.boolean(),
};

/**
 * `InvoiceResponse` (GET/POST/PUT /invoices/{id}) and `Invoice` (list items, PATCH, finalize,
 * send, void). `Invoice` lacks a handful of required fields of `InvoiceResponse` (balance, credit
 * grants, payment allocations...), none of which the connector reads, so one schema covers both.
 */
export const InvoiceSchema = z.looseObject({
  ...invoiceCommon,
  balance: DecimalString.nullish(),
  balanceVersion: z.number().int().nullish(),
  paymentTermDays: z.number().int().nullish(),
  dueDateSource: z.string().nullish(),
});
export type Invoice = z.infer<typeof InvoiceSchema>;

/** `IntegrationExternalIdentifier`. */
export const ExternalIdSchema = z.looseObject({ key: z.string(), value: z.string() });

/** `Stable20240101LineItemResponse`. */
export const LineItemSchema = z.looseObject({
  id: z.string(),
  invoiceId: z.string(),
  title: z.string(),
  description: z.string().nullish(),
  quantity: DecimalString,
  rate: DecimalString,
  taxRate: DecimalString,
  servicePeriodStart: z.string().nullish(),
  servicePeriodEnd: z.string().nullish(),
  servicePeriod: z.looseObject({ startDate: z.string(), endDate: z.string() }).nullish(),
  index: z.number().int(),
  groupId: z.string().nullish(),
  netTotal: DecimalString,
  totalTax: DecimalString,
  grossTotal: DecimalString,
  priceId: z.string().nullish(),
  rateDisplay: RateDisplaySchema,
  externalIds: z.array(ExternalIdSchema),
  revenueClassification: z.string().nullish(),
  creditGrantId: z.string().nullish(),
  productId: z.string().nullish(),
  revenueRecognitionMethod: z.string().nullish(),
});
export type LineItem = z.infer<typeof LineItemSchema>;

/** `Stable20240101CreateOrUpdateLineItem` — the full body of POST/PUT line items. */
export const LineItemRequestSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().optional(),
  quantity: DecimalString,
  rate: DecimalString,
  taxRate: DecimalString,
  servicePeriodStart: z.string().optional(),
  servicePeriodEnd: z.string().optional(),
  servicePeriod: z.strictObject({ startDate: z.string(), endDate: z.string() }).optional(),
  groupId: z.string().optional(),
  priceId: z.string().optional(),
  rateDisplay: RateDisplaySchema.optional(),
  externalIds: z.array(z.strictObject({ key: IntegrationServiceSchema, value: z.string() })),
  revenueClassification: RevenueClassificationSchema.optional(),
  creditGrantId: z.string().optional(),
  revenueRecognitionMethod: RevenueRecognitionMethodSchema.optional(),
});
export type LineItemRequest = z.infer<typeof LineItemRequestSchema>;

/** `LineItemGroupResponseModel`. */
export const LineItemGroupSchema = z.looseObject({
  id: z.string(),
  invoiceId: z.string(),
  title: z.string(),
  description: z.string().nullish(),
  index: z.number().int(),
  netTotal: DecimalString,
  totalTax: DecimalString,
  grossTotal: DecimalString,
  taxCategory: TaxCategoryRefSchema.nullish(),
});
export type LineItemGroup = z.infer<typeof LineItemGroupSchema>;

/** `CreateLineItemGroupRequestModel` / `UpdateLineItemGroupRequestModel` (+ index). */
export const LineItemGroupRequestSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().optional(),
  taxCategoryId: z.string().optional(),
  revenueRecognitionMethod: RevenueRecognitionMethodSchema.optional(),
  revenueClassification: RevenueClassificationSchema.optional(),
  servicePeriod: z.strictObject({ start: z.string(), endInclusive: z.string() }).optional(),
  index: z.number().int().optional(),
});
export type LineItemGroupRequest = z.infer<typeof LineItemGroupRequestSchema>;

/** `Stable20240101CreateInvoiceRequest` (subset the connector and the simulator seed use). */
export const InvoiceCreateRequestSchema = z.looseObject({
  currency: CurrencySchema,
  customerId: z.string(),
  billingScheduleId: z.string().optional(),
  dueDate: z.string().optional(),
  purchaseOrderNumber: z.string().optional(),
  reference: z.string().optional(),
  customerEmails: z.array(z.string()).optional(),
  customerLegalCompanyName: z.string().optional(),
  customerBillingAddress: AddressRequestSchema.optional(),
  customerShippingAddress: AddressRequestSchema.optional(),
  memo: z.string().optional(),
  metadata: z.array(z.strictObject({ key: z.string(), value: z.string() })).optional(),
  accountingDate: z.string().optional(),
});
export type InvoiceCreateRequest = z.infer<typeof InvoiceCreateRequestSchema>;
