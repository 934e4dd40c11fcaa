/**
 * The Sphere simulator's state: one Sphere organisation shared by every configured API key.
 * Records are stored in their wire form (what GET returns). Optional JSON persistence.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { type CustomerResponseWire, type ProductResponseWire, type TransactionResponseWire, type TransactionRequestWire } from '../../shared/sphere/schemas';
import { CUSTOMER_FIELDS, PRODUCT_FIELDS, TRANSACTION_FIELDS } from '../../shared/sphere/field-names';
import { DEFAULT_ESTABLISHMENT, DEFAULT_REGISTRATIONS, type SellerEstablishment, type TaxCodeInfo, defaultTaxCodes } from './tax-engine';

export interface SimFaults {
  /** Fraction (0..1) of API calls answered with one of `statuses`. */
  errorRate: number;
  statuses: number[];
  /** Fixed latency, or a [min, max] range, added to every API call. */
  latencyMs: number | [number, number];
  /** Overrides the v1 write limit (requests per second per key). */
  rateLimitPerSecond?: number;
  /** The next N API calls fail with `statuses` (deterministic; counts down). */
  failNext: number;
  /** calculate_tax response shape: current (`{message, data}`) or the older top-level one. */
  responseShape: 'wrapped' | 'legacy';
  /** Fraction (0..1) of API calls answered 200 with a malformed body (after auth and limits). */
  malformedRate: number;
  /** What a malformed answer is: text that is not JSON (a proxy's error page), or JSON of the wrong shape. */
  malformedBody: 'not_json' | 'wrong_shape';
  /**
   * calculate_tax ignores exemption and reverse charge (the request's `tax_exempt` and `tax_id`, and the
   * stored customer's exemption and tax ids): an account without reverse charge enabled, or an exemption
   * Sphere does not hold. Plays the case the connector's `sphere_charged_exempt_customer` guard is for.
   */
  ignoreExemption: boolean;
  /**
   * v1 write fields Sphere "does not know": dropped from the stored record and the echo, as a
   * Django REST Framework API drops unknown fields and still answers 200. Top-level wire names
   * (`tax_exempt`, `tax_code`, `transaction_date`) or `line_items.<name>`.
   */
  dropFields: string[];
  /** A `type: credit` without `original_transaction_id` is refused (400): the reading of Sphere's docs the connector does not rely on. */
  creditRequiresOriginal: boolean;
  /**
   * A line `quantity` is a DRF DecimalField with this many decimal places (null: any quantity is kept
   * as sent). A longer one is refused with DRF's 400 (`reject`) or silently rounded (`round`).
   */
  lineQuantityDecimals: { places: number; beyond: 'reject' | 'round' } | null;
}

export const DEFAULT_FAULTS: SimFaults = {
  errorRate: 0,
  statuses: [500, 502, 503],
  latencyMs: 0,
  failNext: 0,
  responseShape: 'wrapped',
  malformedRate: 0,
  malformedBody: 'not_json',
  ignoreExemption: false,
  dropFields: [],
  creditRequiresOriginal: false,
  lineQuantityDecimals: null,
};

export interface SimRequestRecord {
  method: string;
  path: string;
  status: number;
  time: string;
  durationMs: number;
  /** Which configured key was used, by index (never the key). -1 = missing or unknown. */
  keyIndex: number;
  /** The request id sent back in the X-Request-Id header (and in v1 429 bodies). */
  requestId?: string;
}

export interface StoredTransaction {
  wire: TransactionResponseWire;
  /** The last accepted request body, to tell an identical retry from a change. */
  request: TransactionRequestWire;
}

interface PersistedState {
  customers: CustomerResponseWire[];
  products: ProductResponseWire[];
  transactions: StoredTransaction[];
  registrations: string[];
  extraTaxCodes: TaxCodeInfo[];
  establishment: SellerEstablishment;
}

const MAX_REQUEST_LOG = 2000;

export class SphereSimState {
  customers = new Map<string, CustomerResponseWire>();
  products = new Map<string, ProductResponseWire>();
  transactions = new Map<string, StoredTransaction>();
  registrations = new Set<string>(DEFAULT_REGISTRATIONS);
  extraTaxCodes: TaxCodeInfo[] = [];
  taxCodes = defaultTaxCodes();
  establishment: SellerEstablishment = { ...DEFAULT_ESTABLISHMENT };
  faults: SimFaults = { ...DEFAULT_FAULTS, statuses: [...DEFAULT_FAULTS.statuses] };
  requests: SimRequestRecord[] = [];
  /** Sliding windows for the v1 limits: `<keyIndex>|read|write` → request times. */
  windows = new Map<string, number[]>();

  constructor(private readonly dataFile?: string) {
    if (dataFile && existsSync(dataFile)) this.load(dataFile);
  }

  reset(): void {
    this.customers.clear();
    this.products.clear();
    this.transactions.clear();
    this.registrations = new Set(DEFAULT_REGISTRATIONS);
    this.extraTaxCodes = [];
    this.taxCodes = defaultTaxCodes();
    this.establishment = { ...DEFAULT_ESTABLISHMENT };
    this.faults = { ...DEFAULT_FAULTS, statuses: [...DEFAULT_FAULTS.statuses] };
    this.requests = [];
    this.windows.clear();
    this.save();
  }

  addTaxCodes(codes: TaxCodeInfo[]): void {
    for (const c of codes) {
      this.extraTaxCodes = [...this.extraTaxCodes.filter((e) => e.code !== c.code), c];
    }
    this.taxCodes = defaultTaxCodes(this.extraTaxCodes);
  }

  logRequest(record: SimRequestRecord): void {
    this.requests.push(record);
    if (this.requests.length > MAX_REQUEST_LOG) this.requests.splice(0, this.requests.length - MAX_REQUEST_LOG);
  }

  snapshot(): Record<string, unknown> {
    return {
      customers: [...this.customers.values()],
      products: [...this.products.values()],
      transactions: [...this.transactions.values()].map((t) => t.wire),
      registrations: [...this.registrations].sort(),
      taxCodes: [...this.taxCodes.values()],
      establishment: this.establishment,
      faults: this.faults,
      counts: { customers: this.customers.size, products: this.products.size, transactions: this.transactions.size, requests: this.requests.length },
    };
  }

  /** Write the data (not faults or the request log) to the data file, if any. */
  save(): void {
    if (!this.dataFile) return;
    const data: PersistedState = {
      customers: [...this.customers.values()],
      products: [...this.products.values()],
      transactions: [...this.transactions.values()],
      registrations: [...this.registrations],
      extraTaxCodes: this.extraTaxCodes,
      establishment: this.establishment,
    };
    mkdirSync(dirname(this.dataFile), { recursive: true });
    const tmp = `${this.dataFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(data, null, 2), { mode: 0o600 });
    renameSync(tmp, this.dataFile);
  }

  private load(file: string): void {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<PersistedState>;
    for (const c of data.customers ?? []) this.customers.set(c[CUSTOMER_FIELDS.externalId], c);
    for (const p of data.products ?? []) this.products.set(p[PRODUCT_FIELDS.externalId], p);
    for (const t of data.transactions ?? []) this.transactions.set(t.wire[TRANSACTION_FIELDS.externalId], t);
    if (data.registrations) this.registrations = new Set(data.registrations);
    if (data.extraTaxCodes) this.addTaxCodes(data.extraTaxCodes);
    if (data.establishment) this.establishment = data.establishment;
  }
}
