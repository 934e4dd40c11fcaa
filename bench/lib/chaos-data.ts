/**
 * The chaos scenario's data set, generated deterministically from a seed: customers across US
 * states (multi-jurisdiction cities, registered and unregistered states), Canada (HST and GST+PST
 * provinces), the EU (DE/FR/NL/IE) and GB; some TAX_EXEMPT; some REVERSE_CHARGED with EU/UK VAT
 * registrations; products in tax categories mapped to Sphere codes; invoices with 1–4 lines; and a
 * few records that are invalid ON PURPOSE, each with the failure the connector must report:
 *
 * | invalid record                                                   | failure the connector must record                   |
 * |------------------------------------------------------------------|-----------------------------------------------------|
 * | customer whose postcode is Sphere's unresolvable "00000"         | its invoices: invoice / `customer_tax_location_invalid` |
 * |   (the v1 customer upsert does not validate addresses, so the customer itself syncs) |                        |
 * | product in a tax category mapped to a code Sphere does not know  | the product: product / `validation_errors`; its invoices: invoice / `validation_errors` |
 * | invoice line with no product and no group tax category (TAXED customer) | invoice / `product_missing_tax_category`     |
 *
 * Everything here is plain data; bench/lib/chaos-scenario.ts turns it into Sequence records.
 */
import { SIM_TAX_CATEGORY_IDS } from '../../local/sequence-sim/server';

export interface ChaosSizes {
  customers: number;
  products: number;
  invoices: number;
}

export type TaxStatus = 'TAXED' | 'TAX_EXEMPT' | 'REVERSE_CHARGED';

export interface AddressSpec {
  line1: string;
  town: string;
  state?: string;
  postcode: string;
  country: string;
}

export interface CustomerSpec {
  key: string;
  legalName: string;
  address: AddressSpec;
  taxStatus: TaxStatus;
  /** VAT registration (EU/GB B2B customers). */
  registration?: { taxIdentifier: string; country: string };
  /** Created through the API after connecting (CUSTOMER_CREATED webhooks) instead of seeded before. */
  createdLive: boolean;
  /** Renamed (and re-addressed on line1) after the backfill: CUSTOMER_UPDATED webhooks. */
  updated: boolean;
  invalid?: 'address';
}

export interface ProductSpec {
  key: string;
  name: string;
  taxCategory: CategoryKey;
  invalid?: 'tax_code';
}

export interface LineSpec {
  title: string;
  quantity: string;
  rate: string;
  /** Index into the products; undefined = a line with no product. */
  product?: number;
  /** The line sits in a group with this tax category (used for lines without a product). */
  groupCategory?: CategoryKey;
}

export type InvoiceFate = 'draft' | 'finalize_admin' | 'finalize_sequence' | 'void_draft' | 'finalize_then_void' | 'finalize_then_credit';

export interface InvoiceSpec {
  key: string;
  customer: number;
  currency: string;
  lines: LineSpec[];
  fate: InvoiceFate;
  /** Why this invoice must fail (it then stays a draft). */
  invalid?: 'address' | 'tax_code' | 'missing_category';
}

export type CategoryKey = 'standard' | 'saas' | 'digital' | 'training' | 'legacy';

export const EXTRA_CATEGORY_IDS = {
  training: '0190c0de-5e90-7000-8000-0000000ca001',
  legacy: '0190c0de-5e90-7000-8000-0000000ca002',
} as const;

export const CATEGORY_IDS: Record<CategoryKey, string> = {
  standard: SIM_TAX_CATEGORY_IDS.standard,
  saas: SIM_TAX_CATEGORY_IDS.saas,
  digital: SIM_TAX_CATEGORY_IDS.digitalServices,
  training: EXTRA_CATEGORY_IDS.training,
  legacy: EXTRA_CATEGORY_IDS.legacy,
};

/** A code the Sphere simulator does not know: products mapped to it cannot be synced. */
export const UNKNOWN_SPHERE_TAX_CODE = 'txcd_55555555';

/** The connection's taxCodes (POST /connections). */
export const TAX_CODE_MAPPING = {
  default: 'txcd_10000000',
  byTaxCategory: {
    [CATEGORY_IDS.standard]: 'txcd_99999999',
    [CATEGORY_IDS.saas]: 'txcd_10103001',
    [CATEGORY_IDS.digital]: 'txcd_10000000',
    [CATEGORY_IDS.training]: 'txcd_30070000',
    [CATEGORY_IDS.legacy]: UNKNOWN_SPHERE_TAX_CODE,
  },
};

export function taxCodeFor(categoryId: string | undefined): string {
  if (categoryId && Object.prototype.hasOwnProperty.call(TAX_CODE_MAPPING.byTaxCategory, categoryId)) return TAX_CODE_MAPPING.byTaxCategory[categoryId]!;
  return TAX_CODE_MAPPING.default;
}

export interface ExpectedFailure {
  resourceType: 'customer' | 'product' | 'invoice' | 'credit_note' | 'transaction';
  resourceKey: string;
  code: string;
  why: string;
}

export interface ChaosData {
  seed: number;
  sizes: ChaosSizes;
  customers: CustomerSpec[];
  products: ProductSpec[];
  invoices: InvoiceSpec[];
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Place {
  region: 'US' | 'CA' | 'EU' | 'GB';
  town: string;
  state?: string;
  postcode: string;
  country: string;
  currency: string;
}

const PLACES: Place[] = [
  // US, registered, multi-jurisdiction
  { region: 'US', town: 'San Francisco', state: 'CA', postcode: '94103', country: 'US', currency: 'USD' },
  { region: 'US', town: 'Los Angeles', state: 'CA', postcode: '90012', country: 'US', currency: 'USD' },
  { region: 'US', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US', currency: 'USD' },
  { region: 'US', town: 'New York', state: 'NY', postcode: '10001', country: 'US', currency: 'USD' },
  { region: 'US', town: 'Albany', state: 'NY', postcode: '12207', country: 'US', currency: 'USD' },
  { region: 'US', town: 'Austin', state: 'TX', postcode: '78701', country: 'US', currency: 'USD' },
  { region: 'US', town: 'Seattle', state: 'WA', postcode: '98101', country: 'US', currency: 'USD' },
  { region: 'US', town: 'Denver', state: 'CO', postcode: '80202', country: 'US', currency: 'USD' },
  { region: 'US', town: 'Chicago', state: 'IL', postcode: '60601', country: 'US', currency: 'USD' },
  // US, not registered / no sales tax
  { region: 'US', town: 'Miami', state: 'FL', postcode: '33101', country: 'US', currency: 'USD' },
  { region: 'US', town: 'Portland', state: 'OR', postcode: '97201', country: 'US', currency: 'USD' },
  // Canada: HST, GST only, GST+PST, GST+QST
  { region: 'CA', town: 'Toronto', state: 'ON', postcode: 'M5V 2T6', country: 'CA', currency: 'CAD' },
  { region: 'CA', town: 'Halifax', state: 'NS', postcode: 'B3H 1A1', country: 'CA', currency: 'CAD' },
  { region: 'CA', town: 'Calgary', state: 'AB', postcode: 'T2P 1J9', country: 'CA', currency: 'CAD' },
  { region: 'CA', town: 'Vancouver', state: 'BC', postcode: 'V6B 1A1', country: 'CA', currency: 'CAD' },
  { region: 'CA', town: 'Montreal', state: 'QC', postcode: 'H2Y 1C6', country: 'CA', currency: 'CAD' },
  // EU
  { region: 'EU', town: 'Berlin', postcode: '10115', country: 'DE', currency: 'EUR' },
  { region: 'EU', town: 'Paris', postcode: '75001', country: 'FR', currency: 'EUR' },
  { region: 'EU', town: 'Amsterdam', postcode: '1012 AB', country: 'NL', currency: 'EUR' },
  { region: 'EU', town: 'Dublin', postcode: 'D02 X285', country: 'IE', currency: 'EUR' },
  // UK
  { region: 'GB', town: 'London', postcode: 'SW1A 1AA', country: 'GB', currency: 'GBP' },
  { region: 'GB', town: 'Manchester', postcode: 'M1 1AE', country: 'GB', currency: 'GBP' },
];

const VAT_PREFIX: Record<string, string> = { DE: 'DE', FR: 'FR', NL: 'NL', IE: 'IE', GB: 'GB' };

export function currencyFor(country: string): string {
  return PLACES.find((p) => p.country === country)?.currency ?? 'USD';
}

function pick<T>(rnd: () => number, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)]!;
}

function money(rnd: () => number, min: number, max: number): string {
  const cents = Math.floor(min * 100 + rnd() * (max - min) * 100);
  return (cents / 100).toFixed(2);
}

/** At least `min` (when n allows), else round(n × fraction). */
function share(n: number, fraction: number, min = 1): number {
  return Math.min(n, Math.max(min, Math.round(n * fraction)));
}

const FATES: readonly InvoiceFate[] = [
  'finalize_admin', 'draft', 'finalize_then_credit', 'finalize_then_void', 'finalize_admin', 'void_draft', 'finalize_sequence', 'draft', 'finalize_admin',
  'finalize_then_credit', 'draft', 'finalize_admin', 'void_draft', 'finalize_then_void', 'draft', 'finalize_admin', 'finalize_sequence', 'finalize_then_credit', 'draft', 'finalize_admin',
];

export function generateChaosData(sizes: ChaosSizes, seed = 7): ChaosData {
  const rnd = prng(seed);
  const customers: CustomerSpec[] = [];
  const invalidCustomers = share(sizes.customers, 0.01);
  for (let i = 0; i < sizes.customers; i++) {
    const key = `c${String(i).padStart(4, '0')}`;
    if (i < invalidCustomers) {
      customers.push({
        key,
        legalName: `Unlocatable ${key} LLC`,
        address: { line1: '1 Nowhere Road', town: 'Nowhere', state: 'CA', postcode: '00000', country: 'US' },
        taxStatus: 'TAXED',
        createdLive: false,
        updated: false,
        invalid: 'address',
      });
      continue;
    }
    // Spread regions: ~55% US, 15% CA, 20% EU, 10% GB.
    const r = rnd();
    const region = r < 0.55 ? 'US' : r < 0.7 ? 'CA' : r < 0.9 ? 'EU' : 'GB';
    const place = pick(rnd, PLACES.filter((p) => p.region === region));
    const s = rnd();
    let taxStatus: TaxStatus = 'TAXED';
    let registration: CustomerSpec['registration'];
    if (region === 'EU' || region === 'GB') {
      if (s < 0.45) {
        taxStatus = 'REVERSE_CHARGED';
        registration = { taxIdentifier: `${VAT_PREFIX[place.country]}${100000000 + Math.floor(rnd() * 899999999)}`, country: place.country };
      } else if (s < 0.55) {
        taxStatus = 'TAX_EXEMPT';
      }
    } else if (s < 0.1) {
      taxStatus = 'TAX_EXEMPT';
    }
    customers.push({
      key,
      legalName: `${pick(rnd, ['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Tyrell', 'Soylent', 'Cyberdyne'])} ${key} ${pick(rnd, ['Inc.', 'Ltd', 'GmbH', 'SARL', 'B.V.', 'Corp.'])}`,
      address: { line1: `${1 + Math.floor(rnd() * 999)} Market Street`, town: place.town, ...(place.state ? { state: place.state } : {}), postcode: place.postcode, country: place.country },
      taxStatus,
      ...(registration ? { registration } : {}),
      createdLive: rnd() < 0.05,
      updated: rnd() < 0.1,
    });
  }

  const products: ProductSpec[] = [];
  const invalidProducts = share(sizes.products, 0.01);
  const categories: CategoryKey[] = ['standard', 'saas', 'saas', 'digital', 'training'];
  for (let i = 0; i < sizes.products; i++) {
    const key = `p${String(i).padStart(4, '0')}`;
    if (i < invalidProducts) products.push({ key, name: `Legacy appliance ${key}`, taxCategory: 'legacy', invalid: 'tax_code' });
    else products.push({ key, name: `${pick(rnd, ['Platform', 'Seats', 'Storage', 'Support', 'Analytics', 'Training'])} ${key}`, taxCategory: categories[i % categories.length]! });
  }
  const validProducts = products.map((p, i) => (p.invalid ? -1 : i)).filter((i) => i >= 0);
  const validCustomers = customers.map((c, i) => (c.invalid ? -1 : i)).filter((i) => i >= 0);
  const taxedCustomers = validCustomers.filter((i) => customers[i]!.taxStatus === 'TAXED');

  const invoices: InvoiceSpec[] = [];
  const line = (product: number | undefined, groupCategory?: CategoryKey): LineSpec => ({
    title: product === undefined ? 'Professional services' : products[product]!.name,
    quantity: String(1 + Math.floor(rnd() * (rnd() < 0.7 ? 3 : 20))),
    rate: money(rnd, 0.5, 950),
    ...(product !== undefined ? { product } : {}),
    ...(groupCategory ? { groupCategory } : {}),
  });
  const validLines = (): LineSpec[] => {
    const n = 1 + Math.floor(rnd() * 4);
    const lines: LineSpec[] = [];
    for (let k = 0; k < n; k++) lines.push(line(pick(rnd, validProducts)));
    if (rnd() < 0.1) lines.push(line(undefined, 'saas')); // a grouped line without a product
    return lines;
  };

  // The deliberately invalid invoices first (one of each kind, then about 1% more each).
  const invalidInvoices: InvoiceSpec['invalid'][] = [];
  if (sizes.invoices >= 3) {
    const each = share(sizes.invoices, 0.01);
    for (let k = 0; k < each; k++) invalidInvoices.push('address', 'tax_code', 'missing_category');
  }
  for (let i = 0; i < sizes.invoices; i++) {
    const key = `i${String(i).padStart(4, '0')}`;
    const invalid = invalidInvoices[i];
    if (invalid === 'address') {
      const c = i % invalidCustomers;
      invoices.push({ key, customer: c, currency: 'USD', lines: validLines(), fate: 'draft', invalid });
      continue;
    }
    if (invalid === 'tax_code' || invalid === 'missing_category') {
      const c = pick(rnd, taxedCustomers.length > 0 ? taxedCustomers : validCustomers);
      const lines = validLines().slice(0, 2);
      lines.push(invalid === 'tax_code' ? line(i % invalidProducts) : line(undefined));
      invoices.push({ key, customer: c, currency: currencyFor(customers[c]!.address.country), lines, fate: 'draft', invalid });
      continue;
    }
    const c = pick(rnd, validCustomers);
    // Interleaved, so even a small run has every fate: 30% finalised through the admin API, 10% in
    // Sequence, 10% finalised then voided, 15% finalised then credited, 10% voided drafts, 25% drafts.
    const fate = FATES[(i - invalidInvoices.length) % FATES.length]!;
    invoices.push({ key, customer: c, currency: currencyFor(customers[c]!.address.country), lines: validLines(), fate });
  }
  return { seed, sizes, customers, products, invoices };
}
