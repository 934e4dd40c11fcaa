/**
 * The Sphere simulator's tax engine. Pure: no I/O, no clock, no randomness.
 *
 * Rules (documented here once; the simulator follows them everywhere):
 * - Rate table: US states with multi-jurisdiction entries for some cities (CA, NY, TX, WA, CO, IL),
 *   Canadian GST/HST/PST/QST/RST, EU VAT, UK VAT, a few others. Rates are decimal strings.
 * - Checks, in order: request validation (caller) → every product exists and has a known tax code
 *   (`invalid_product_tax_code`) → address (`customer_tax_location_invalid`) → per line:
 *   customer exempt (`customer_exempt`) → reverse charge (`reverse_charge`) → registration
 *   (`not_collecting`) → product taxability (`product_exempt`) → taxed (`standard_rated`).
 * - Address sentinel: postal_code `"00000"` is always unresolvable (→ customer_tax_location_invalid).
 * - Per-entry rounding: each entry = round half-up (away from zero) of taxable × percentage / 100,
 *   in integer minor units. No line- or invoice-level re-rounding.
 * - taxable = amount − discount_amount. Tax-inclusive lines: taxable = round half-up of
 *   gross × 100 / (100 + sum of percentages), then the same per-entry rule.
 * - Reverse charge: a B2B customer (request `tax_id`, or tax ids stored on the v1 customer) in an
 *   EU country other than the seller's EU establishment (or any EU country when the seller has
 *   none), or in GB when the seller has no UK establishment.
 * - taxability_reason (only with include_taxability_reason): inside each `tax_rate`; for an empty
 *   `tax_amounts` on the line itself (see shared/sphere/field-names.ts).
 */
import { Decimal } from '../../shared/domain/decimal';
import { EMPTY_TAX_AMOUNTS_REASON_LOCATION, TAXABILITY_REASONS } from '../../shared/sphere/field-names';
import { type CalculateTaxRequestWire, type KnownTaxType } from '../../shared/sphere/schemas';

export interface RateComponent {
  jurisdiction: string;
  displayName: string;
  /** Percent as a decimal string ("6.25"). */
  percentage: string;
  taxType: KnownTaxType;
  level: 'country' | 'state' | 'county' | 'city' | 'district';
}

export interface SimAddress {
  address1?: string | null;
  address2?: string | null;
  city?: string | null;
  state?: string | null;
  postal_code?: string | null;
  country?: string | null;
}

// ---- rate table ----------------------------------------------------------------------------

const st = (jurisdiction: string, percentage: string): RateComponent => ({ jurisdiction, displayName: 'Sales Tax', percentage, taxType: 'sales_tax', level: 'state' });
const co = (jurisdiction: string, percentage: string): RateComponent => ({ jurisdiction, displayName: 'County Tax', percentage, taxType: 'sales_tax', level: 'county' });
const ci = (jurisdiction: string, percentage: string): RateComponent => ({ jurisdiction, displayName: 'City Tax', percentage, taxType: 'sales_tax', level: 'city' });
const di = (jurisdiction: string, percentage: string): RateComponent => ({ jurisdiction, displayName: 'District Tax', percentage, taxType: 'sales_tax', level: 'district' });

interface UsStateRates {
  name: string;
  state: string;
  /** Local entries when the city has no specific row. */
  defaultLocal?: RateComponent[];
  /** Lowercase city → local entries (added to the state entry). */
  cities?: Record<string, RateComponent[]>;
}

/** State-level base rates (percent). */
const US_STATE_BASE: Record<string, [string, string]> = {
  AL: ['Alabama', '4'], AK: ['Alaska', '0'], AZ: ['Arizona', '5.6'], AR: ['Arkansas', '6.5'], CA: ['California', '6'],
  CO: ['Colorado', '2.9'], CT: ['Connecticut', '6.35'], DE: ['Delaware', '0'], DC: ['District of Columbia', '6'],
  FL: ['Florida', '6'], GA: ['Georgia', '4'], HI: ['Hawaii', '4'], ID: ['Idaho', '6'], IL: ['Illinois', '6.25'],
  IN: ['Indiana', '7'], IA: ['Iowa', '6'], KS: ['Kansas', '6.5'], KY: ['Kentucky', '6'], LA: ['Louisiana', '4.45'],
  ME: ['Maine', '5.5'], MD: ['Maryland', '6'], MA: ['Massachusetts', '6.25'], MI: ['Michigan', '6'], MN: ['Minnesota', '6.875'],
  MS: ['Mississippi', '7'], MO: ['Missouri', '4.225'], MT: ['Montana', '0'], NE: ['Nebraska', '5.5'], NV: ['Nevada', '6.85'],
  NH: ['New Hampshire', '0'], NJ: ['New Jersey', '6.625'], NM: ['New Mexico', '4.875'], NY: ['New York', '4'],
  NC: ['North Carolina', '4.75'], ND: ['North Dakota', '5'], OH: ['Ohio', '5.75'], OK: ['Oklahoma', '4.5'], OR: ['Oregon', '0'],
  PA: ['Pennsylvania', '6'], RI: ['Rhode Island', '7'], SC: ['South Carolina', '6'], SD: ['South Dakota', '4.2'],
  TN: ['Tennessee', '7'], TX: ['Texas', '6.25'], UT: ['Utah', '4.85'], VT: ['Vermont', '6'], VA: ['Virginia', '4.3'],
  WA: ['Washington', '6.5'], WV: ['West Virginia', '6'], WI: ['Wisconsin', '5'], WY: ['Wyoming', '4'],
};

const NYC = [ci('New York City', '4.5'), di('Metropolitan Commuter Transportation District', '0.375')];

/** Multi-jurisdiction detail for the states the simulator starts registered in. */
const US_LOCAL: Record<string, Omit<UsStateRates, 'name' | 'state'>> = {
  CA: {
    defaultLocal: [co('California Local (County)', '1.25')],
    cities: {
      'san francisco': [co('San Francisco County', '1.25'), di('San Francisco Special Districts', '1.375')], // 8.625
      'los angeles': [co('Los Angeles County', '1.25'), di('Los Angeles County Districts', '2.25')], // 9.5
      'san diego': [co('San Diego County', '1.25'), di('San Diego County Districts', '0.5')], // 7.75
    },
  },
  NY: {
    defaultLocal: [co('New York Local (County)', '4')], // 8
    cities: { 'new york': NYC, manhattan: NYC, brooklyn: NYC, bronx: NYC, queens: NYC, 'staten island': NYC }, // 8.875
  },
  TX: {
    defaultLocal: [co('Texas Local (County)', '0.5')], // 6.75
    cities: {
      austin: [ci('Austin', '1'), di('Capital Metropolitan Transportation Authority', '1')], // 8.25
      houston: [ci('Houston', '1'), di('Houston Metropolitan Transit Authority', '1')], // 8.25
      dallas: [ci('Dallas', '1'), di('Dallas Area Rapid Transit', '1')], // 8.25
    },
  },
  WA: {
    defaultLocal: [co('Washington Local (County)', '2.2')], // 8.7
    cities: { seattle: [ci('Seattle', '3.85')] }, // 10.35
  },
  CO: {
    defaultLocal: [co('Colorado Local (County)', '1')], // 3.9
    cities: {
      denver: [ci('Denver', '4.81'), di('Regional Transportation District', '1'), di('Scientific and Cultural Facilities District', '0.1')], // 8.81
    },
  },
  IL: {
    defaultLocal: [co('Illinois Local (County)', '1')], // 7.25
    cities: { chicago: [co('Cook County', '1.75'), ci('Chicago', '1.25'), di('Regional Transportation Authority', '1')] }, // 10.25
  },
};

export const US_STATE_CODES: ReadonlySet<string> = new Set(Object.keys(US_STATE_BASE));

const GST: RateComponent = { jurisdiction: 'Canada', displayName: 'GST', percentage: '5', taxType: 'gst', level: 'country' };
const hst = (province: string, percentage: string): RateComponent => ({ jurisdiction: province, displayName: 'HST', percentage, taxType: 'hst', level: 'state' });
const pst = (province: string, percentage: string, taxType: KnownTaxType = 'pst', displayName = 'PST'): RateComponent => ({ jurisdiction: province, displayName, percentage, taxType, level: 'state' });

/** Canada, at the rates in force since 2025-04-01 (Nova Scotia's HST fell from 15% to 14% that day). */
const CA_PROVINCES: Record<string, RateComponent[]> = {
  AB: [GST], NT: [GST], NU: [GST], YT: [GST],
  ON: [hst('Ontario', '13')],
  NS: [hst('Nova Scotia', '14')], NB: [hst('New Brunswick', '15')], NL: [hst('Newfoundland and Labrador', '15')], PE: [hst('Prince Edward Island', '15')],
  BC: [GST, pst('British Columbia', '7')],
  MB: [GST, pst('Manitoba', '7', 'rst', 'RST')],
  SK: [GST, pst('Saskatchewan', '6')],
  QC: [GST, pst('Quebec', '9.975', 'qst', 'QST')],
};
export const CA_PROVINCE_CODES: ReadonlySet<string> = new Set(Object.keys(CA_PROVINCES));

/** EU VAT standard rates. */
const EU_VAT: Record<string, [string, string]> = {
  AT: ['Austria', '20'], BE: ['Belgium', '21'], BG: ['Bulgaria', '20'], HR: ['Croatia', '25'], CY: ['Cyprus', '19'],
  CZ: ['Czech Republic', '21'], DK: ['Denmark', '25'], EE: ['Estonia', '22'], FI: ['Finland', '25.5'], FR: ['France', '20'],
  DE: ['Germany', '19'], GR: ['Greece', '24'], HU: ['Hungary', '27'], IE: ['Ireland', '23'], IT: ['Italy', '22'],
  LV: ['Latvia', '21'], LT: ['Lithuania', '21'], LU: ['Luxembourg', '17'], MT: ['Malta', '18'], NL: ['Netherlands', '21'],
  PL: ['Poland', '23'], PT: ['Portugal', '23'], RO: ['Romania', '19'], SK: ['Slovakia', '23'], SI: ['Slovenia', '22'],
  ES: ['Spain', '21'], SE: ['Sweden', '25'],
};
export const EU_COUNTRIES: ReadonlySet<string> = new Set(Object.keys(EU_VAT));

const OTHER_COUNTRIES: Record<string, RateComponent[]> = {
  GB: [{ jurisdiction: 'United Kingdom', displayName: 'VAT', percentage: '20', taxType: 'vat', level: 'country' }],
  AU: [{ jurisdiction: 'Australia', displayName: 'GST', percentage: '10', taxType: 'gst', level: 'country' }],
  NZ: [{ jurisdiction: 'New Zealand', displayName: 'GST', percentage: '15', taxType: 'gst', level: 'country' }],
  JP: [{ jurisdiction: 'Japan', displayName: 'JCT', percentage: '10', taxType: 'jct', level: 'country' }],
  SG: [{ jurisdiction: 'Singapore', displayName: 'GST', percentage: '9', taxType: 'gst', level: 'country' }],
  CH: [{ jurisdiction: 'Switzerland', displayName: 'VAT', percentage: '8.1', taxType: 'vat', level: 'country' }],
  NO: [{ jurisdiction: 'Norway', displayName: 'VAT', percentage: '25', taxType: 'vat', level: 'country' }],
};

// ---- registrations, tax codes, establishment -------------------------------------------------

/** Registration keys: a country (`CA` = all of Canada, `GB`) or `<country>-<state>` (`US-CA`). */
export const DEFAULT_REGISTRATIONS: readonly string[] = ['US-CA', 'US-NY', 'US-TX', 'US-WA', 'US-CO', 'US-IL', 'CA', 'GB', 'DE', 'FR', 'NL', 'IE'];

export interface TaxCodeInfo {
  code: string;
  name: string;
  /** false → lines with it carry no tax (`product_exempt`). */
  taxable: boolean;
}

/** Product tax codes the simulator knows (Stripe-style `txcd_` codes; Sphere's real catalogue is undocumented). */
export const DEFAULT_TAX_CODES: readonly TaxCodeInfo[] = [
  { code: 'txcd_00000000', name: 'Nontaxable', taxable: false },
  { code: 'txcd_10000000', name: 'General - Electronically Supplied Services', taxable: true },
  { code: 'txcd_10103000', name: 'Software as a Service (SaaS) - personal use', taxable: true },
  { code: 'txcd_10103001', name: 'Software as a Service (SaaS) - business use', taxable: true },
  { code: 'txcd_10201000', name: 'Digital services - downloadable software', taxable: true },
  { code: 'txcd_10401000', name: 'Digital products - e-books and audio', taxable: true },
  { code: 'txcd_20030000', name: 'General - Services', taxable: true },
  { code: 'txcd_30070000', name: 'Training services - exempt', taxable: false },
  { code: 'txcd_99999999', name: 'General - Tangible Goods', taxable: true },
];

/** Where the seller (the Sphere organisation) is established for VAT. */
export interface SellerEstablishment {
  /** EU member state of establishment; none → every EU B2B sale is reverse-charged. */
  euCountry?: string;
  /** Established in the UK → GB B2B sales are domestic. */
  uk?: boolean;
}
export const DEFAULT_ESTABLISHMENT: SellerEstablishment = { euCountry: 'IE', uk: false };

/** Postal codes that are syntactically fine but never resolve to a jurisdiction. */
export const UNRESOLVABLE_POSTAL_CODES: ReadonlySet<string> = new Set(['00000']);

// ---- address validation and rates ---------------------------------------------------------

const norm = (s: string | null | undefined): string => (s ?? '').trim();

export type AddressCheck = { ok: true; country: string; state?: string } | { ok: false; message: string };

export function validateAddress(address: SimAddress | undefined): AddressCheck {
  if (!address) return { ok: false, message: 'customer_address is missing.' };
  const country = norm(address.country).toUpperCase();
  const city = norm(address.city);
  const postal = norm(address.postal_code);
  const state = norm(address.state).toUpperCase();
  const missing = [!city && 'city', !postal && 'postal_code', !country && 'country'].filter(Boolean);
  if (missing.length > 0) return { ok: false, message: `The customer address is incomplete: missing ${missing.join(', ')}.` };
  if (!/^[A-Z]{2}$/.test(country)) return { ok: false, message: `Unknown country '${country}': use an ISO 3166-1 alpha-2 code.` };
  if (UNRESOLVABLE_POSTAL_CODES.has(postal)) return { ok: false, message: `The postal code '${postal}' could not be resolved to a tax jurisdiction.` };
  if (country === 'US') {
    if (!state || !US_STATE_CODES.has(state)) return { ok: false, message: `A valid US state is required (got '${state}').` };
    if (!/^\d{5}(-\d{4})?$/.test(postal)) return { ok: false, message: `US postal code '${postal}' must be 5 digits (or ZIP+4).` };
    return { ok: true, country, state };
  }
  if (country === 'CA') {
    if (!state || !CA_PROVINCE_CODES.has(state)) return { ok: false, message: `A valid Canadian province is required (got '${state}').` };
    if (!/^[A-Z]\d[A-Z][ -]?\d[A-Z]\d$/i.test(postal)) return { ok: false, message: `Canadian postal code '${postal}' is invalid (expected A1A 1A1).` };
    return { ok: true, country, state };
  }
  if (country === 'GB' && !/^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$/i.test(postal)) {
    return { ok: false, message: `UK postcode '${postal}' is invalid.` };
  }
  return { ok: true, country, ...(state ? { state } : {}) };
}

/** The rate components for a validated address ([] when the table has none). */
export function ratesFor(address: SimAddress): RateComponent[] {
  const country = norm(address.country).toUpperCase();
  const state = norm(address.state).toUpperCase();
  const city = norm(address.city).toLowerCase();
  if (country === 'US') {
    const base = US_STATE_BASE[state];
    if (!base || base[1] === '0') return [];
    const local = US_LOCAL[state];
    const locals = local?.cities?.[city] ?? local?.defaultLocal ?? [];
    return [{ ...st(base[0], base[1]) }, ...locals].map((c) => ({ ...c }));
  }
  if (country === 'CA') return (CA_PROVINCES[state] ?? []).map((c) => ({ ...c }));
  const eu = EU_VAT[country];
  if (eu) return [{ jurisdiction: eu[0], displayName: 'VAT', percentage: eu[1], taxType: 'vat', level: 'country' }];
  return (OTHER_COUNTRIES[country] ?? []).map((c) => ({ ...c }));
}

export function isRegistered(registrations: ReadonlySet<string>, country: string, state?: string): boolean {
  return registrations.has(country) || (state !== undefined && registrations.has(`${country}-${state}`));
}

export function isReverseCharge(customerCountry: string, isB2B: boolean, establishment: SellerEstablishment): boolean {
  if (!isB2B) return false;
  if (EU_COUNTRIES.has(customerCountry)) return establishment.euCountry !== customerCountry;
  if (customerCountry === 'GB') return !establishment.uk;
  return false;
}

/** round half-up (away from zero) of taxable × percentage / 100, as integer minor units. */
export function entryAmount(taxable: number, percentage: string): number {
  return new Decimal(taxable).times(new Decimal(percentage)).dividedBy(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}

// ---- calculation ---------------------------------------------------------------------------

export interface TaxRateOut {
  percentage: number;
  inclusive: boolean;
  display_name: string;
  jurisdiction: string;
  country: string;
  state?: string;
  tax_type: KnownTaxType;
  taxability_reason?: string;
}

export interface TaxAmountOut {
  amount: number;
  taxable_amount: number;
  tax_rate: TaxRateOut;
}

export interface LineOut {
  id: string;
  tax_amounts: TaxAmountOut[];
  taxability_reason?: string;
}

export interface EngineCustomer {
  exemption?: 'none' | 'exempt' | 'reverse' | string | null;
  taxIds?: readonly string[];
}

export interface EngineContext {
  product(id: string): { taxCode?: string | null } | undefined;
  customer(id: string): EngineCustomer | undefined;
  registrations: ReadonlySet<string>;
  taxCodes: ReadonlyMap<string, TaxCodeInfo>;
  establishment: SellerEstablishment;
}

export type EngineError = { code: 'invalid_product_tax_code' | 'customer_tax_location_invalid' | 'unsupported_feature'; message: string };
export type EngineResult = { ok: true; lines: LineOut[] } | { ok: false; error: EngineError };

export function defaultTaxCodes(extra: readonly TaxCodeInfo[] = []): Map<string, TaxCodeInfo> {
  return new Map([...DEFAULT_TAX_CODES, ...extra].map((c) => [c.code, c]));
}

/** Calculate tax for an already schema-validated calculate_tax request. */
export function calculate(req: CalculateTaxRequestWire, ctx: EngineContext): EngineResult {
  // 1. products and their tax codes
  const lineCodes: TaxCodeInfo[] = [];
  for (const line of req.line_items) {
    const product = ctx.product(line.product_id);
    if (!product) {
      return { ok: false, error: { code: 'invalid_product_tax_code', message: `Product '${line.product_id}' does not exist in Sphere; create it with a product tax code first.` } };
    }
    const info = product.taxCode ? ctx.taxCodes.get(product.taxCode) : undefined;
    if (!info) {
      return {
        ok: false,
        error: {
          code: 'invalid_product_tax_code',
          message: product.taxCode
            ? `Product '${line.product_id}' has an unknown product tax code '${product.taxCode}'.`
            : `Product '${line.product_id}' has no product tax code.`,
        },
      };
    }
    lineCodes.push(info);
  }
  if (req.pull_customer_address && !req.customer_address) {
    return { ok: false, error: { code: 'unsupported_feature', message: 'pull_customer_address is not supported for this billing provider; send customer_address.' } };
  }

  // 2. customer address (per-line ship_to overrides are validated too)
  const customer = req.customer_id ? ctx.customer(req.customer_id) : undefined;
  const taxIds = [...(req.tax_id ? [req.tax_id] : []), ...(customer?.taxIds ?? [])];
  const isB2B = taxIds.length > 0;
  const exempt = req.tax_exempt === true || customer?.exemption === 'exempt';
  const storedReverse = customer?.exemption === 'reverse';
  const withReason = req.include_taxability_reason === true;

  const lines: LineOut[] = [];
  for (let i = 0; i < req.line_items.length; i++) {
    const line = req.line_items[i]!;
    const address = line.ship_to ?? req.customer_address;
    const check = validateAddress(address);
    if (!check.ok) return { ok: false, error: { code: 'customer_tax_location_invalid', message: check.message } };
    const id = line.id ?? line.product_id;
    const empty = (reason: string): LineOut => ({
      id,
      tax_amounts: [],
      ...(withReason && EMPTY_TAX_AMOUNTS_REASON_LOCATION === 'line' ? { taxability_reason: reason } : {}),
    });
    if (exempt) {
      lines.push(empty(TAXABILITY_REASONS.customerExempt));
      continue;
    }
    if (storedReverse || isReverseCharge(check.country, isB2B, ctx.establishment)) {
      lines.push(empty(TAXABILITY_REASONS.reverseCharge));
      continue;
    }
    if (!isRegistered(ctx.registrations, check.country, check.state)) {
      lines.push(empty(TAXABILITY_REASONS.notCollecting));
      continue;
    }
    if (!lineCodes[i]!.taxable) {
      lines.push(empty(TAXABILITY_REASONS.productExempt));
      continue;
    }
    const components = ratesFor(address!);
    if (components.length === 0) {
      lines.push(empty('not_subject_to_tax'));
      continue;
    }
    const inclusive = line.tax_inclusive === true;
    const net = line.amount - (line.discount_amount ?? 0);
    const totalPct = components.reduce((s, c) => s.plus(c.percentage), new Decimal(0));
    const taxable = inclusive
      ? new Decimal(net).times(100).dividedBy(totalPct.plus(100)).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber()
      : net;
    lines.push({
      id,
      tax_amounts: components.map((c) => ({
        amount: entryAmount(taxable, c.percentage),
        taxable_amount: taxable,
        tax_rate: {
          percentage: Number(c.percentage),
          inclusive,
          display_name: c.displayName,
          jurisdiction: c.jurisdiction,
          country: check.country,
          ...(check.state ? { state: check.state } : {}),
          tax_type: c.taxType,
          ...(withReason ? { taxability_reason: TAXABILITY_REASONS.standardRated } : {}),
        },
      })),
    });
  }
  return { ok: true, lines };
}
