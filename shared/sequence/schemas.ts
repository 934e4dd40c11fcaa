/**
 * zod schemas for the Sequence resources the connector reads or writes, built from the component
 * schemas of Sequence's OpenAPI document, API version 2024-07-30 (names in comments are the
 * OpenAPI component names).
 *
 * Policy:
 *  - Responses are loose objects: unknown extra fields pass through untouched, so Sequence adding a
 *    field never breaks us.
 *  - Fields the spec marks required are required. Optional fields accept absence AND `null`
 *    (`.nullish()`): the spec rarely marks `nullable`, but JVM backends commonly serialise absent
 *    optionals as null, and rejecting a whole invoice because `memo` is null would be absurd.
 *  - Fields the connector computes with are strict: money, quantities and rates are decimal
 *    strings (never numbers), ids are strings, and the enums the connector branches on
 *    (statuses, currency, tax status, country, state) are exact. Enums the connector only displays
 *    (dunning status, payment options, ...) are plain strings so a new value is not an outage.
 *  - Request bodies are strict objects built from the request components, so a typo in a body the
 *    connector sends is caught before it leaves the process.
 */
import * as z from 'zod';
import { CURRENCIES, type CurrencyCode } from '../domain/currency';
import { DECIMAL_STRING } from '../domain/decimal';

// ---------------------------------------------------------------------------------------------
// Scalars and enums
// ---------------------------------------------------------------------------------------------

/** A decimal string as Sequence writes money, quantities and rates: `"51.20"`, `"0.2"`, `"-3"`. */
export const DecimalString = z.string().regex(DECIMAL_STRING, 'expected a decimal string like "12.50"');

export const SEQUENCE_API_VERSION = '2024-07-30';

/**
 * Response header carrying Sequence's request id, for the audit log. Sequence documents none
 * (../../../shared/reference/sequence-api.md, "Other headers"); the name is an inference (the
 * common `X-Request-Id`). A missing header only leaves the audit entry without a request id.
 */
export const SEQUENCE_REQUEST_ID_HEADER = 'X-Request-Id';

/** `Currency` (32 values); the list lives in shared/domain/currency.ts. */
export const CurrencySchema = z.enum(CURRENCIES as [CurrencyCode, ...CurrencyCode[]]);

/** `CountryCode` — ISO 3166-1 alpha-2, 250 values including `XK`. */
export const COUNTRY_CODES = (
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
  'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO ' +
  'FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE ' +
  'JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO ' +
  'MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW ' +
  'PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM ' +
  'TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW'
).split(' ') as [string, ...string[]];
export const CountryCodeSchema = z.enum(COUNTRY_CODES);
export type CountryCode = z.infer<typeof CountryCodeSchema>;

/** `State` — 50 US states + DC and the 13 Canadian provinces/territories. */
export const STATES = (
  'AL AK AZ AR CA CO CT DC DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK ' +
  'OR PA RI SC SD TN TX UT VT VA WA WV WI WY AB BC MB NB NL NS NT NU ON PE QC SK YT'
).split(' ') as [string, ...string[]];
export const StateSchema = z.enum(STATES);
export type State = z.infer<typeof StateSchema>;

export const TaxStatusSchema = z.enum(['TAXED', 'TAX_EXEMPT', 'REVERSE_CHARGED']);
export type TaxStatus = z.infer<typeof TaxStatusSchema>;

export const CustomerStatusSchema = z.enum(['DRAFT', 'ACTIVE']);
export const ContactBillingPreferenceSchema = z.enum(['PRIMARY', 'STANDARD', 'NONE']);

/** `IntegrationService`. */
export const INTEGRATION_SERVICES = [
  'Amazon_Redshift', 'GoCardless', 'Google_BigQuery', 'Google_Sheets', 'HubSpot', 'NetSuite', 'QuickBooks_Online',
  'Salesforce', 'Slack', 'Snowflake', 'Stripe', 'Xero', 'Avalara', 'Anrok', 'Attio', 'Numeral', 'Rillet', 'Sphere',
] as const;
export const IntegrationServiceSchema = z.enum(INTEGRATION_SERVICES);
export type IntegrationService = z.infer<typeof IntegrationServiceSchema>;

export const InvoiceStatusSchema = z.enum(['IN_PROGRESS', 'DRAFT', 'FINAL', 'SENT', 'VOIDED']);
export type InvoiceStatus = z.infer<typeof InvoiceStatusSchema>;
export const InvoicePaymentStatusSchema = z.enum(['UNPAID', 'PARTIALLY_PAID', 'PAID', 'UNCOLLECTIBLE']);
export const CreditNoteStatusSchema = z.enum(['DRAFT', 'FINAL', 'IN_PROGRESS', 'SENT', 'VOIDED']);
export type CreditNoteStatus = z.infer<typeof CreditNoteStatusSchema>;
export const RateDisplaySchema = z.enum(['ABSOLUTE', 'PERCENTAGE']);
export const RevenueClassificationSchema = z.enum(['PREPAYMENT', 'EARNED', 'BURNDOWN']);
export const RevenueRecognitionMethodSchema = z.enum(['STRAIGHT_LINE', 'USAGE', 'MILESTONE', 'POINT_IN_TIME']);

/** `NotificationType` (2024-07-30). */
export const NOTIFICATION_TYPES = [
  'CUSTOMER_CREATED', 'CUSTOMER_UPDATED', 'CUSTOMER_ARCHIVED', 'INVOICE_CREATED', 'INVOICE_ISSUED', 'INVOICE_UPDATED',
  'INTEGRATION_SYNC_COMPLETED', 'INTEGRATION_WEBHOOK_HANDLED', 'MERCHANT_UPDATED', 'BILLING_SCHEDULE_CREATED',
  'BILLING_SCHEDULE_UPDATED', 'BILLING_SCHEDULE_ARCHIVED', 'CREDIT_NOTE_CREATED', 'CREDIT_NOTE_UPDATED',
  'CREDIT_NOTE_ISSUED', 'QUOTE_PUBLISHED', 'QUOTE_ACCEPTED', 'QUOTE_SIGNED', 'INVOICE_REMINDER_SENT',
  'WATCHTOWER_TASK_ASSIGNED',
] as const;
export const NotificationTypeSchema = z.enum(NOTIFICATION_TYPES);
export type NotificationType = z.infer<typeof NotificationTypeSchema>;
export const NotificationChannelSchema = z.enum(['WEBHOOK', 'EMAIL']);

// ---------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------

/** `Address` / `Address1`: `state` is required in practice for US and CA addresses. */
export const AddressSchema = z.looseObject({
  line1: z.string(),
  line2: z.string().nullish(),
  town: z.string(),
  state: StateSchema.nullish(),
  postcode: z.string(),
  country: CountryCodeSchema,
});
export type Address = z.infer<typeof AddressSchema>;

/** The same address as a request body: only the documented keys. */
export const AddressRequestSchema = z.strictObject({
  line1: z.string().min(1),
  line2: z.string().optional(),
  town: z.string().min(1),
  state: StateSchema.optional(),
  postcode: z.string(),
  country: CountryCodeSchema,
});
export type AddressRequest = z.infer<typeof AddressRequestSchema>;

/** `KeyValuePair` (invoice metadata, merchant custom fields). */
export const KeyValuePairSchema = z.looseObject({ key: z.string(), value: z.string() });

/** `PaginationMeta*`: every variant has the same three optional fields (some marked nullable). */
export const PaginationSchema = z.looseObject({
  after: z.string().nullish(),
  before: z.string().nullish(),
  totalResultSize: z.number().int().nullish(),
});
export type Pagination = z.infer<typeof PaginationSchema>;

/** The list envelope `{items, pagination}`. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.looseObject({ items: z.array(item), pagination: PaginationSchema });
}
export interface Page<T> {
  items: T[];
  pagination: Pagination;
}

// ---------------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------------

/** `IntegrationId1` (response). */
export const IntegrationIdSchema = z.looseObject({
  service: z.string(),
  id: z.string(),
  lastSynced: z.string().nullish(),
  isPending: z.boolean(),
});

/** `Contact`. */
export const ContactSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  billingPreference: ContactBillingPreferenceSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  archivedAt: z.string().nullish(),
});
export type Contact = z.infer<typeof ContactSchema>;

const customerCommon = {
  id: z.string(),
  createdAt: z.string(),
  organizations: z.array(z.looseObject({ id: z.string() })),
  legalName: z.string(),
  address: AddressSchema,
  url: z.string().nullish(),
  domain: z.string().nullish(),
  label: z.string().nullish(),
  integrationIds: z.array(IntegrationIdSchema),
  archivedAt: z.string().nullish(),
  taxStatus: TaxStatusSchema,
  customProperties: z.record(z.string(), z.string()),
};

/** `Customer` (GET/POST/PUT /customers/{id}, archive). */
export const CustomerSchema = z.looseObject({
  ...customerCommon,
  contacts: z.array(ContactSchema),
  status: CustomerStatusSchema,
});
export type Customer = z.infer<typeof CustomerSchema>;

/** `ListCustomerResponseModel`: list items omit `contacts` and `status`. */
export const CustomerListItemSchema = z.looseObject({
  ...customerCommon,
  contacts: z.array(ContactSchema).optional(),
  status: CustomerStatusSchema.optional(),
});
export type CustomerListItem = z.infer<typeof CustomerListItemSchema>;

/** `ContactRequestModel`. */
export const ContactRequestSchema = z.strictObject({
  name: z.string(),
  email: z.string(),
  billingPreference: ContactBillingPreferenceSchema,
});

/** `CreateOrUpdateCustomerRequest` — PUT is a full replace; `contacts` replaces all contacts. */
export const CustomerRequestSchema = z.strictObject({
  legalName: z.string().min(1),
  address: AddressRequestSchema,
  contacts: z.array(ContactRequestSchema),
  taxStatus: TaxStatusSchema,
  url: z.string().optional(),
  label: z.string().optional(),
  customerAliases: z.array(z.string()).optional(),
  integrationIds: z.array(z.strictObject({ service: IntegrationServiceSchema, id: z.string() })).optional(),
  parentId: z.string().optional(),
  pushToIntegrations: z.array(z.literal('Xero')).optional(),
  status: CustomerStatusSchema.optional(),
  customProperties: z.record(z.string(), z.string()).optional(),
});
export type CustomerRequest = z.infer<typeof CustomerRequestSchema>;

// ---------------------------------------------------------------------------------------------
// Products, prices, tax categories
// ---------------------------------------------------------------------------------------------

/** `Stable20240730ProductResponse` (archive answers `Stable20240509ProductResponse`, a subset + archivedAt). */
export const ProductSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  label: z.string().nullish(),
  taxCategoryId: z.string().nullish(),
  createdAt: z.string(),
  updatedAt: z.string(),
  archivedAt: z.string().nullish(),
});
export type Product = z.infer<typeof ProductSchema>;

/** `Stable20240730ProductRequest`. */
export const ProductRequestSchema = z.strictObject({
  name: z.string().min(1),
  label: z.string().optional(),
  taxCategoryId: z.string().optional(),
});
export type ProductRequest = z.infer<typeof ProductRequestSchema>;

/** `PriceResponse` (structure is a oneOf on `pricingType`; kept loose, the connector does not price). */
export const PriceSchema = z.looseObject({
  id: z.string(),
  productId: z.string(),
  name: z.string(),
  currency: CurrencySchema,
  structure: z.looseObject({ pricingType: z.string() }),
  billingFrequency: z.string(),
  billingType: z.string(),
  createdAt: z.string(),
  updatedAt: z.string().nullish(),
  integrationIds: z.array(z.looseObject({ service: z.string(), id: z.string() })),
  customMetricParameters: z.array(z.unknown()),
  status: z.string(),
});
export type Price = z.infer<typeof PriceSchema>;

/**
 * A tax category as the legacy (pre 2024-07-24) public spec documented `/tax-categories`:
 * `{id, versionId, sequenceAccountId, version, isPublished, name, description}`.
 */
export const TaxCategorySchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  versionId: z.string().nullish(),
  sequenceAccountId: z.string().nullish(),
  version: z.number().int().nullish(),
  isPublished: z.boolean().nullish(),
  description: z.string().nullish(),
});
export type TaxCategory = z.infer<typeof TaxCategorySchema>;

/** `TaxCategoryResponse` as embedded in line item groups. */
export const TaxCategoryRefSchema = z.looseObject({ id: z.string(), name: z.string() });

// ---------------------------------------------------------------------------------------------
// Invoices, line items, line item groups
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Credit notes
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Tax registrations
// ---------------------------------------------------------------------------------------------

/** `*TaxRegistrationResponseModel` / `GetTaxRegistrationForCustomerCustomerTaxRegistration`. */
export const TaxRegistrationSchema = z.looseObject({
  id: z.string(),
  sequenceAccountId: z.string(),
  taxIdentifier: z.string(),
  customerId: z.string().nullish(),
  merchantId: z.string().nullish(),
  country: CountryCodeSchema,
  state: StateSchema.nullish(),
});
export type TaxRegistration = z.infer<typeof TaxRegistrationSchema>;

/** `CreateTaxRegistrationEndpointCreateTaxRegistrationRequestModel` (and the PUT body). */
export const TaxRegistrationRequestSchema = z.strictObject({
  taxIdentifier: z.string().min(1),
  customerId: z.string().nullish(),
  merchantId: z.string().nullish(),
  country: CountryCodeSchema,
  state: StateSchema.nullish(),
});
export type TaxRegistrationRequest = z.infer<typeof TaxRegistrationRequestSchema>;

// ---------------------------------------------------------------------------------------------
// Notification policies (webhooks)
// ---------------------------------------------------------------------------------------------

/** `NotificationPolicy`. `notificationTypes` is a plain string array so a new type is not an outage. */
export const NotificationPolicySchema = z.looseObject({
  id: z.string(),
  createdAt: z.string(),
  sequenceAccountId: z.string(),
  name: z.string(),
  notificationTypes: z.array(z.string()).nullish(),
  recipients: z.array(z.string()),
  channel: NotificationChannelSchema,
  webhookSecret: z.string().nullish(),
});
export type NotificationPolicy = z.infer<typeof NotificationPolicySchema>;

/** `CreateNotificationPolicyRequest`. Omitting `notificationTypes` subscribes to all types. */
export const NotificationPolicyCreateSchema = z.strictObject({
  name: z.string().min(1),
  recipients: z.array(z.string().url()).min(1),
  channel: NotificationChannelSchema,
  notificationTypes: z.array(NotificationTypeSchema).optional(),
  webhookSecret: z.string().min(1).optional(),
});
export type NotificationPolicyCreate = z.infer<typeof NotificationPolicyCreateSchema>;

/** The webhook envelope Sequence POSTs to a WEBHOOK policy's recipients. */
export const WebhookEnvelopeSchema = z.looseObject({
  notificationType: z.string(),
  sequenceAccountId: z.string(),
  resourceType: z.string().nullish(),
  resourceId: z.string().nullish(),
  resource: z.record(z.string(), z.unknown()).nullish(),
});
export type WebhookEnvelope = z.infer<typeof WebhookEnvelopeSchema>;

// ---------------------------------------------------------------------------------------------
// Sequence accounts
// ---------------------------------------------------------------------------------------------

/** `SequenceAccount`. */
export const SequenceAccountSchema = z.looseObject({
  id: z.string(),
  createdAt: z.string(),
  sequenceOrganisationId: z.string(),
  companyName: z.string(),
  companyNumber: z.string(),
  country: CountryCodeSchema,
  sendCustomerNotifications: z.boolean(),
  alertEmailAddresses: z.array(z.string()),
});
export type SequenceAccount = z.infer<typeof SequenceAccountSchema>;

// ---------------------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------------------

/** `ApiError`: `{"error":{"type","message","errors":[{code,message,key,errors}]}}`. */
export const ApiErrorBodySchema = z.looseObject({
  error: z.looseObject({
    type: z.string(),
    message: z.string().nullish(),
    errors: z.array(z.looseObject({ code: z.string().nullish(), message: z.string().nullish(), key: z.string().nullish() })).nullish(),
  }),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

/** `DatabaseErrors`: `{"errors":[{key,error}]}`. */
export const DatabaseErrorsBodySchema = z.looseObject({
  errors: z.array(z.looseObject({ key: z.string().nullish(), error: z.string().nullish() })),
});
export type DatabaseErrorsBody = z.infer<typeof DatabaseErrorsBodySchema>;
