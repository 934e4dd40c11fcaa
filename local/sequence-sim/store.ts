/**
 * The Sequence simulator's in-memory data. Records are stored exactly as the API returns them
 * (2024-07-30 shapes). Plain objects keyed by id keep creation order (UUID keys are never
 * integer-like), which is what list ordering and cursors are built on.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  CreditNote,
  CreditNoteLineItem,
  Customer,
  Invoice,
  LineItem,
  LineItemGroup,
  MerchantDetails,
  NotificationPolicy,
  Price,
  Product,
  SequenceAccount,
  TaxCategory,
  TaxRegistration,
} from '../../shared/sequence/schemas';

export const SIM_SEQUENCE_ACCOUNT_ID = '0190c0de-5e90-7000-8000-000000000001';
export const SIM_ORGANISATION_ID = '0190c0de-5e90-7000-8000-0000000000a1';

/** Stable ids for the tax categories every fresh simulator starts with. */
export const SIM_TAX_CATEGORY_IDS = {
  standard: '0190c0de-5e90-7000-8000-00000000c001',
  saas: '0190c0de-5e90-7000-8000-00000000c002',
  digitalServices: '0190c0de-5e90-7000-8000-00000000c003',
} as const;

export interface SimState {
  account: SequenceAccount;
  merchantDetails: MerchantDetails;
  customers: Record<string, Customer>;
  products: Record<string, Product>;
  prices: Record<string, Price>;
  taxCategories: Record<string, TaxCategory>;
  invoices: Record<string, Invoice>;
  lineItems: Record<string, LineItem>;
  lineItemGroups: Record<string, LineItemGroup>;
  creditNotes: Record<string, CreditNote>;
  creditNoteLineItems: Record<string, CreditNoteLineItem>;
  taxRegistrations: Record<string, TaxRegistration>;
  policies: Record<string, NotificationPolicy>;
  counters: { invoiceNumber: number; creditNoteNumber: number };
}

export function initialState(nowIso: string): SimState {
  const category = (id: string, name: string, description: string): TaxCategory => ({
    id,
    versionId: id.replace(/c00(\d)$/, 'd00$1'),
    sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID,
    version: 1,
    isPublished: true,
    name,
    description,
  });
  return {
    account: {
      id: SIM_SEQUENCE_ACCOUNT_ID,
      createdAt: nowIso,
      sequenceOrganisationId: SIM_ORGANISATION_ID,
      companyName: 'Acme Cloud Inc.',
      companyNumber: 'C1234567',
      country: 'US',
      sendCustomerNotifications: false,
      alertEmailAddresses: ['finance@acme-cloud.example'],
    },
    merchantDetails: {
      address: { line1: '535 Mission Street', line2: 'Floor 14', town: 'San Francisco', state: 'CA', postcode: '94105', country: 'US' },
      legalCompanyName: 'Acme Cloud Inc.',
      email: 'billing@acme-cloud.example',
      phoneNumber: '+1 415 555 0100',
      taxId: '12-3456789',
      customFields: [],
      includeBeneficiaryAddressInPaymentDetails: false,
    },
    customers: {},
    products: {},
    prices: {},
    taxCategories: {
      [SIM_TAX_CATEGORY_IDS.standard]: category(SIM_TAX_CATEGORY_IDS.standard, 'Standard', 'General goods and services'),
      [SIM_TAX_CATEGORY_IDS.saas]: category(SIM_TAX_CATEGORY_IDS.saas, 'SaaS', 'Software as a service'),
      [SIM_TAX_CATEGORY_IDS.digitalServices]: category(SIM_TAX_CATEGORY_IDS.digitalServices, 'Digital Services', 'Electronically supplied services'),
    },
    invoices: {},
    lineItems: {},
    lineItemGroups: {},
    creditNotes: {},
    creditNoteLineItems: {},
    taxRegistrations: {},
    policies: {},
    counters: { invoiceNumber: 0, creditNoteNumber: 0 },
  };
}

/** Replace the contents of `target` with `source` (so references handed to tests stay valid). */
export function replaceState(target: SimState, source: SimState): void {
  for (const key of Object.keys(target) as (keyof SimState)[]) delete target[key];
  Object.assign(target, source);
}

export function loadState(file: string, nowIso: string): SimState {
  if (!existsSync(file)) return initialState(nowIso);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<SimState>;
  return { ...initialState(nowIso), ...parsed };
}

export function saveState(file: string, state: SimState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(tmp, file);
}
