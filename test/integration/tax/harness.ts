/**
 * Set-up for the invoice-tax integration tests, a preset of local/stack.ts: the deployed routes
 * (admin API and webhook ingest), both simulators, the calculate-invoice-tax, exemptions and
 * customer-sync workers (product-sync on request; backfill left out) with a short visibility
 * timeout, and one connection created directly through the store + vault. Sequence data is seeded
 * through the simulator's /_sim/seed and checked through its public API; the helpers that do so
 * are methods of the harness.
 */
import { SIM_TAX_CATEGORY_IDS } from '../../../local/sequence-sim/server';
import { SIM_DEFAULTS, type Stack, startStack, withVisibilityTimeout } from '../../../local/stack';
import { type Connection } from '../../../shared/domain/connection';
import { Decimal } from '../../../shared/domain/decimal';
import { callSequenceApi, callSimulator } from '../../../local/sim-client';
import { type StoredConnection, storeConnection } from '../../support/connections';
import { useStack } from '../../support/use-stack';

export const CATEGORY = SIM_TAX_CATEGORY_IDS;
export const TAX_CODES = {
  default: 'txcd_10000000',
  byTaxCategory: { [CATEGORY.saas]: 'txcd_10103001', [CATEGORY.standard]: 'txcd_10000000', [CATEGORY.digitalServices]: 'txcd_10000000' },
};

/** Billing addresses the Sphere simulator resolves (and one it cannot: NOWHERE). */
export const ADDRESSES = {
  SACRAMENTO: { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' },
  MIAMI: { line1: '1 Biscayne Blvd', town: 'Miami', state: 'FL', postcode: '33132', country: 'US' },
  NOWHERE: { line1: '1 Unknown Rd', town: 'Nowhere', state: 'CA', postcode: '00000', country: 'US' },
  TORONTO: { line1: '100 King St W', town: 'Toronto', state: 'ON', postcode: 'M5X 1A9', country: 'CA' },
  LONDON: { line1: '10 Downing St', town: 'London', postcode: 'SW1A 2AA', country: 'GB' },
  BERLIN: { line1: 'Unter den Linden 1', town: 'Berlin', postcode: '10117', country: 'DE' },
  TOKYO: { line1: '1-1 Chiyoda', town: 'Tokyo', postcode: '100-0001', country: 'JP' },
};

export const sim = callSimulator;
export const SPHERE_KEY = SIM_DEFAULTS.sphereApiKey;

export interface TaxHarness extends Stack {
  connection: Connection;
  webhookSecret: string;
  /** Register a signed webhook policy for the connection in the Sequence simulator; answers its id. */
  registerWebhooks(notificationTypes: string[]): Promise<string>;
  /** Sequence's public API on the simulator (Basic auth, Sequence-Version). */
  sequenceApi<T = Record<string, unknown>>(method: string, apiPath: string, body?: unknown): Promise<T>;
  seed(body: Record<string, unknown>): Promise<SeedResult>;
  /** As a merchant does in Sequence's UI: change a customer's tax status (a full PUT keeping its contacts and integration ids). */
  setCustomerTaxStatus(customerId: string, taxStatus: string): Promise<void>;
  invoiceLines(invoiceId: string): Promise<SequenceLine[]>;
  getInvoice(invoiceId: string): Promise<SequenceInvoice>;
  sequenceRequests(): Promise<SimRequest[]>;
  sphereRequests(): Promise<SimRequest[]>;
  sphereTransactions(): Promise<SphereTransactionWire[]>;
}

export interface TaxHarnessOptions {
  connection?: Partial<Connection>;
  /** Also host the product-sync worker, for tests whose failures or retries go through it. */
  productSync?: boolean;
  /** Extra environment for the hosted handlers. */
  env?: Record<string, string>;
  /**
   * Visibility timeout of the hosted queues (the function timeout never exceeds it): 2 s by default,
   * so a failed message is retried soon; the stack's own to test the retry delays themselves.
   */
  visibilityTimeoutSeconds?: number;
}

const HOSTED_QUEUES = ['invoice-tax.fifo', 'exemptions.fifo', 'customer-sync.fifo'];

export async function startTaxHarness(options: TaxHarnessOptions = {}): Promise<TaxHarness> {
  const hosted = options.productSync ? [...HOSTED_QUEUES, 'product-sync.fifo'] : HOSTED_QUEUES;
  const stack = await startStack({
    sequence: { webhookRetryDelaysMs: [100, 200] },
    queue: (q) => (hosted.includes(q.queueName) ? withVisibilityTimeout(q, options.visibilityTimeoutSeconds ?? 2) : undefined),
    runtime: { log: () => undefined, ...(options.env ? { env: options.env } : {}) },
  });
  let stored: StoredConnection;
  try {
    stored = await storeConnection(stack, { name: 'Tax test merchant', taxCodes: TAX_CODES, ...options.connection });
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const { connection, webhookSecret, webhookUrl } = stored;
  const sequenceApi: TaxHarness['sequenceApi'] = (method, apiPath, body) => callSequenceApi(stack.sequence, method, apiPath, body);
  return {
    ...stack,
    connection,
    webhookSecret,
    sequenceApi,
    async registerWebhooks(notificationTypes) {
      const policy = await sequenceApi<{ id: string }>('POST', '/notifications/policies', { name: `connector ${connection.id}`, channel: 'WEBHOOK', recipients: [webhookUrl], webhookSecret, notificationTypes });
      return policy.id;
    },
    seed: (body) => sim<SeedResult>(stack.sequence.url, 'POST', '/_sim/seed', body),
    async setCustomerTaxStatus(customerId, taxStatus) {
      const current = await sequenceApi<{ legalName: string; address: Record<string, string>; contacts: Record<string, unknown>[]; integrationIds: Record<string, unknown>[] }>('GET', `/customers/${customerId}`);
      const address = Object.fromEntries(Object.entries(current.address).filter(([, v]) => v !== null));
      await sequenceApi('PUT', `/customers/${customerId}`, {
        ...customerBody(current.legalName, address, taxStatus),
        contacts: current.contacts.map((c) => ({ name: c.name, email: c.email, billingPreference: c.billingPreference })),
        integrationIds: current.integrationIds.map((i) => ({ service: i.service, id: i.id })),
      });
    },
    async invoiceLines(invoiceId) {
      const out: SequenceLine[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await sequenceApi<{ items: SequenceLine[]; pagination: { after?: string } }>('GET', `/invoices/${invoiceId}/line-items?limit=100${after ? `&after=${after}` : ''}`);
        out.push(...page.items);
        if (!page.pagination.after) return out;
        after = page.pagination.after;
      }
    },
    getInvoice: (invoiceId) => sequenceApi<SequenceInvoice>('GET', `/invoices/${invoiceId}`),
    sequenceRequests: async () => (await sim<{ items: SimRequest[] }>(stack.sequence.url, 'GET', '/_sim/requests')).items,
    sphereRequests: async () => (await sim<{ requests: SimRequest[] }>(stack.sphere.url, 'GET', '/_sim/requests')).requests,
    sphereTransactions: async () => (await sim<{ transactions: SphereTransactionWire[] }>(stack.sphere.url, 'GET', '/_sim/state')).transactions,
  };
}

/** The harness for this test file: started before its tests, stopped after them. */
export function useTaxHarness(options: TaxHarnessOptions = {}, hooks: { beforeStop?: (h: TaxHarness) => Promise<void> } = {}): TaxHarness {
  return useStack(() => startTaxHarness(options), hooks);
}

export interface SeededInvoice {
  id: string;
  lineItemIds: string[];
  lineItemGroupIds: string[];
}
export interface SeedResult {
  customers: string[];
  products: string[];
  prices: string[];
  invoices: SeededInvoice[];
}

export function customerBody(legalName: string, address: Record<string, string>, taxStatus = 'TAXED'): Record<string, unknown> {
  return {
    legalName,
    address,
    contacts: [{ name: 'Billing', email: `billing+${legalName.replace(/\W/g, '').toLowerCase()}@example.com`, billingPreference: 'PRIMARY' }],
    taxStatus,
  };
}

/** A FIXED monthly price for product `$products[i]` in `currency`. */
export function priceBody(productRef: string, currency: string): Record<string, unknown> {
  return { productId: productRef, name: 'Monthly', currency, structure: { pricingType: 'FIXED', price: '1.00' }, billingFrequency: 'MONTHLY', billingType: 'IN_ADVANCE' };
}

/** A line of a seeded invoice: at the seed's price and with no tax rate unless it says otherwise. */
export interface SeedLine {
  title: string;
  quantity: string;
  rate: string;
  taxRate?: string;
  /** `null`: a line with no price (so no product). */
  priceId?: string | null;
}

export interface InvoiceSeed {
  customer: Record<string, unknown>;
  /** Default: "<legal name> plan" in the SaaS tax category. */
  product?: Record<string, unknown>;
  lines: SeedLine[];
  /** Of the price and the invoices (default USD). */
  currency?: string;
  /** How many invoices of these lines (default 1). */
  invoices?: number;
  /** More fields of each invoice (e.g. lineItemGroups). */
  invoice?: Record<string, unknown>;
}

/** A /_sim/seed body: one customer, one product with one monthly price, and invoices of `lines` to that customer. */
export function invoiceSeed({ customer, product, lines, currency = 'USD', invoices = 1, invoice }: InvoiceSeed): Record<string, unknown> {
  const lineItems = lines.map(({ priceId = '$prices[0]', ...line }) => ({ taxRate: '0', ...(priceId === null ? {} : { priceId }), ...line }));
  return {
    customers: [customer],
    products: [product ?? { name: `${String(customer.legalName)} plan`, taxCategoryId: CATEGORY.saas }],
    prices: [priceBody('$products[0]', currency)],
    invoices: Array.from({ length: invoices }, () => ({ customerId: '$customers[0]', currency, lineItems, ...invoice })),
  };
}

export interface SequenceLine {
  id: string;
  netTotal: string;
  totalTax: string;
  taxRate: string;
  productId?: string;
}
export interface SequenceInvoice {
  id: string;
  status: string;
  totalTax: string;
  netTotal: string;
  grossTotal: string;
  metadata: { key: string; value: string }[];
}

export interface SimRequest {
  method: string;
  path: string;
  status: number;
}
export interface SphereTransactionWire {
  external_id: string;
  type: string;
  status: string;
  original_transaction_id?: string | null;
  currency: string;
  line_items: { product_id: string; amount: string; tax?: string | null }[];
  tax?: string | null;
}
/** Sphere's per-entry rule, for expected values computed independently of the connector. */
export function sphereEntry(netMinor: number, percentage: string): number {
  return new Decimal(netMinor).times(percentage).dividedBy(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}
