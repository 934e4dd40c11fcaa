/** Scalars, enums and shapes the Sequence resources share (policy in ./index.ts). */
import * as z from 'zod';
import { CURRENCIES, type CurrencyCode } from '../../domain/currency';
import { DECIMAL_STRING } from '../../domain/decimal';

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
