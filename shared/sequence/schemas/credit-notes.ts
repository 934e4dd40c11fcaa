/** Sequence credit notes and their line items (policy in ./index.ts). */
import * as z from 'zod';
import { AddressSchema, CreditNoteStatusSchema, CurrencySchema, DecimalString, KeyValuePairSchema, RateDisplaySchema } from './common';
import { ExternalIdSchema, LinkInfoSchema, MerchantDetailsSchema } from './invoices';

/** `CreditNote`. */
export const CreditNoteSchema = z.looseObject({
  id: z.string(),
  sequenceAccountId: z.string(),
  status: CreditNoteStatusSchema,
  invoiceId: z.string().nullish(),
  invoiceNumber: z.string().nullish(),
  billingScheduleId: z.string().nullish(),
  currency: CurrencySchema,
  issueDate: z.string().nullish(),
  billingPeriodStart: z.string().nullish(),
  billingPeriodEnd: z.string().nullish(),
  creditNoteNumber: z.string().nullish(),
  purchaseOrderNumber: z.string().nullish(),
  customerId: z.string(),
  customerEmails: z.array(z.string()),
  customerLegalCompanyName: z.string(),
  customerBillingAddress: AddressSchema,
  customerShippingAddress: AddressSchema,
  memo: z.string().nullish(),
  totalTax: DecimalString,
  netTotal: DecimalString,
  grossTotal: DecimalString,
  metadata: z.array(KeyValuePairSchema),
  customerTaxId: z.string().nullish(),
  linkedServices: z.array(LinkInfoSchema),
  applicationStatus: z.string().nullish(),
  balance: DecimalString.nullish(),
  balanceVersion: z.number().int().nullish(),
  applications: z.array(z.looseObject({ invoiceId: z.string(), amount: DecimalString, appliedAt: z.string() })),
  merchantDetails: MerchantDetailsSchema.nullish(),
  settings: z.looseObject({ generateCashCreditGrant: z.string() }),
  accountingDate: z.string().nullish(),
});
export type CreditNote = z.infer<typeof CreditNoteSchema>;

/** `ListCreditNoteLineItemEndpointProductListCreditNoteLineItemResponseModel`. */
export const CreditNoteLineItemSchema = z.looseObject({
  id: z.string(),
  creditNoteId: z.string(),
  groupId: z.string().nullish(),
  lineItemId: z.string().nullish(),
  title: z.string(),
  description: z.string().nullish(),
  quantity: DecimalString,
  rate: DecimalString,
  taxRate: DecimalString,
  index: z.number().int(),
  priceId: z.string().nullish(),
  netTotal: DecimalString,
  totalTax: DecimalString,
  grossTotal: DecimalString,
  rateDisplay: RateDisplaySchema,
  externalIds: z.array(ExternalIdSchema),
  servicePeriod: z.looseObject({ start: z.string(), endInclusive: z.string() }).nullish(),
  revenueRecognitionMethod: z.string().nullish(),
  revenueClassification: z.string().nullish(),
  productId: z.string().nullish(),
});
export type CreditNoteLineItem = z.infer<typeof CreditNoteLineItemSchema>;
