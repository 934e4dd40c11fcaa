/**
 * One connection's world in memory, for the flows' fast tests: the Sequence and Sphere stand-ins
 * (./sequence.ts, ./sphere.ts, built on the simulators' own models), the repositories (./store.ts),
 * the queues (./queue.ts), a vault, and a logger and metrics that keep what they were given. `deps`
 * fits the flows' ports (TaxDeps, IngestDeps) the way the factory's Dependencies do; `ctx` is the
 * tax context over them with the real sync port, so `calculate`, `transactions`, `ingest` and
 * `ensure` run their own code end to end, in milliseconds.
 */
import { type Connection, DEFAULT_OPTIONS, zeroCounts } from '../../../shared/domain/connection';
import { type ConnectionSecrets, ConnectionSecretMissingError, type GetSecretsOptions } from '../../../shared/secrets/vault';
import { type DimensionedMetrics, type FlowMetrics, type KeyedLogger } from '../../../shared/runtime/ports';
import { type Customer, type Invoice, type Product } from '../../../shared/sequence';
import { type TaxClients, type TaxContext, type TaxDeps, defaultSphereSync } from '../../../shared/tax/context';
import { type IngestDeps } from '../../../shared/webhooks/ingest';
import { FakeSequence } from './sequence';
import { FakeSphere } from './sphere';
import { FakeQueues } from './queue';
import { FakeConnections, FakeDeliveries, FakeFailures, FakeLeases, FakeLinks, FakeRegistrationSnapshots, FakeTaxRecords, FakeTransactions } from './store';

export { FakeConnections, FakeDeliveries, FakeFailures, FakeLeases, FakeLinks, FakeQueues, FakeRegistrationSnapshots, FakeSequence, FakeSphere, FakeTaxRecords, FakeTransactions };

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  attributes: Record<string, unknown>;
}

/** Keeps every line with the keys appended at the time (as Powertools prints them). */
export class RecordingLogger implements KeyedLogger {
  readonly entries: LogEntry[] = [];
  private keys: Record<string, unknown> = {};

  private add(level: LogEntry['level'], message: unknown, extra: unknown[]): void {
    const attributes = Object.assign({}, this.keys, ...extra.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null));
    this.entries.push({ level, message: String(message), attributes });
  }

  debug(message: unknown, ...extra: unknown[]): void {
    this.add('debug', message, extra);
  }
  info(message: unknown, ...extra: unknown[]): void {
    this.add('info', message, extra);
  }
  warn(message: unknown, ...extra: unknown[]): void {
    this.add('warn', message, extra);
  }
  error(message: unknown, ...extra: unknown[]): void {
    this.add('error', message, extra);
  }
  appendKeys(attributes: Record<string, unknown>): void {
    this.keys = { ...this.keys, ...attributes };
  }
  removeKeys(keys: string[]): void {
    for (const k of keys) delete this.keys[k];
  }

  messages(level?: LogEntry['level']): string[] {
    return this.entries.filter((e) => !level || e.level === level).map((e) => e.message);
  }
}

export class RecordingMetrics implements DimensionedMetrics {
  readonly emitted: { name: string; value: number; dimensions: Record<string, string> }[] = [];

  addMetric(name: string, _unit: unknown, value: number): void {
    this.emitted.push({ name, value, dimensions: {} });
  }

  singleMetric(): { addDimension(name: string, value: string): FlowMetrics } {
    return {
      addDimension: (dimension: string, value: string) => ({
        addMetric: (name: string, _unit: unknown, count: number) => {
          this.emitted.push({ name, value: count, dimensions: { [dimension]: value } });
        },
      }),
    };
  }

  total(name: string): number {
    return this.emitted.filter((m) => m.name === name && Object.keys(m.dimensions).length === 0).reduce((s, m) => s + m.value, 0);
  }
}

export class FakeVault {
  readonly secrets = new Map<string, ConnectionSecrets>();
  reads = 0;

  async get(connectionId: string, _options?: GetSecretsOptions): Promise<ConnectionSecrets> {
    this.reads += 1;
    const found = this.secrets.get(connectionId);
    if (!found) throw new ConnectionSecretMissingError(connectionId, 'not_found');
    return structuredClone(found);
  }
}

export const FAKE_WEBHOOK_SECRET = 'whsec_fake_flow_tests';

/** The stand-in Sphere knows these codes (local/sphere-sim/tax-engine.ts DEFAULT_TAX_CODES). */
export const SPHERE_CODES = { electronicServices: 'txcd_10000000', saasBusiness: 'txcd_10103001', nontaxable: 'txcd_00000000' } as const;

export function fakeConnection(overrides: Partial<Connection> = {}): Connection {
  const now = new Date().toISOString();
  return {
    id: 'conn-fake-1',
    name: 'Fake connection',
    status: 'ACTIVE',
    environment: 'sandbox',
    sequenceAccountId: '0190c0de-5e90-7000-8000-000000000001',
    sequenceBaseUrl: 'https://sequence.invalid/api',
    sphereBaseUrl: 'https://sphere.invalid',
    taxCodes: { default: SPHERE_CODES.electronicServices, byTaxCategory: {} },
    options: { ...DEFAULT_OPTIONS },
    counts: zeroCounts(),
    backfill: { state: 'NOT_STARTED', done: 0, total: 0 },
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export interface FakeWorld {
  connection: Connection;
  sequence: FakeSequence;
  sphere: FakeSphere;
  clients: TaxClients;
  connections: FakeConnections;
  failures: FakeFailures;
  links: FakeLinks;
  registrationSnapshots: FakeRegistrationSnapshots;
  deliveries: FakeDeliveries;
  taxRecords: FakeTaxRecords;
  transactions: FakeTransactions;
  leases: FakeLeases;
  queues: FakeQueues;
  vault: FakeVault;
  logger: RecordingLogger;
  metrics: RecordingMetrics;
  /** The flows' dependencies: fits TaxDeps and IngestDeps. */
  deps: TaxDeps & IngestDeps;
  ctx: TaxContext;
  seed: Seeder;
}

export function fakeWorld(connectionOverrides: Partial<Connection> = {}): FakeWorld {
  const connection = fakeConnection(connectionOverrides);
  const sequence = new FakeSequence();
  const sphere = new FakeSphere();
  const clients: TaxClients = { sequence, sphere };
  const connections = new FakeConnections(connection);
  const vault = new FakeVault();
  vault.secrets.set(connection.id, { sequence: { clientId: 'fake-client', clientSecret: 'fake-secret' }, sphere: { apiKey: 'fake-key' }, webhookSigningSecret: FAKE_WEBHOOK_SECRET });
  const stores = {
    connections,
    failures: new FakeFailures(connections),
    links: new FakeLinks(),
    registrationSnapshots: new FakeRegistrationSnapshots(),
    deliveries: new FakeDeliveries(),
    taxRecords: new FakeTaxRecords(),
    transactions: new FakeTransactions(),
    leases: new FakeLeases(),
  };
  const queues = new FakeQueues();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const deps: TaxDeps & IngestDeps = {
    ...stores,
    config: { queueUrls: { invoiceTax: 'fake://invoice-tax', customerSync: 'fake://customer-sync', exemptions: 'fake://exemptions' }, webhookSignatureToleranceSeconds: 300 },
    vault,
    queues,
    logger,
    metrics,
    // One set of clients: the fakes have no credentials to refuse.
    withUpstream: (_connection, work) => work(clients),
    prefetchCredentials: () => undefined,
  };
  const ctx: TaxContext = { deps, taxRecords: stores.taxRecords, transactions: stores.transactions, leases: stores.leases, sync: defaultSphereSync };
  return { connection, sequence, sphere, clients, ...stores, queues, vault, logger, metrics, deps, ctx, seed: new Seeder(sequence) };
}

export interface SeedLine {
  title: string;
  quantity: string;
  rate: string;
  taxRate?: string;
  priceId?: string;
}

/** Sequence data through the simulator's model, silently (no webhook events from seeding). */
export class Seeder {
  constructor(private readonly sequence: FakeSequence) {}

  customer(legalName: string, address: Record<string, string>, taxStatus: 'TAXED' | 'TAX_EXEMPT' | 'REVERSE_CHARGED' = 'TAXED'): Customer {
    const contacts = [{ name: 'Billing', email: `billing+${legalName.replace(/\W/g, '').toLowerCase()}@example.com`, billingPreference: 'PRIMARY' }];
    return this.sequence.resources.customers.create({ legalName, address, contacts, taxStatus }, { silent: true });
  }

  /** A product with one FIXED monthly price in `currency`; lines name the price. */
  product(name: string, currency: string, taxCategoryId?: string): { product: Product; priceId: string } {
    const product = this.sequence.resources.products.create({ name, ...(taxCategoryId ? { taxCategoryId } : {}) });
    const price = this.sequence.resources.prices.create({ productId: product.id, name: 'Monthly', currency, structure: { pricingType: 'FIXED', price: '1.00' }, billingFrequency: 'MONTHLY', billingType: 'IN_ADVANCE' });
    return { product, priceId: price.id };
  }

  /** A DRAFT invoice with `lines` (and groups of lines under a tax category). */
  invoice(customerId: string, currency: string, lines: SeedLine[], groups: { title: string; taxCategoryId: string; lines: SeedLine[] }[] = []): Invoice {
    const r = this.sequence.resources;
    const invoice = r.invoices.create({ customerId, currency }, { silent: true });
    for (const line of lines) r.invoices.createLine(invoice.id, { taxRate: '0', externalIds: [], ...line }, { silent: true });
    for (const group of groups) {
      const created = r.invoices.createGroup(invoice.id, { title: group.title, taxCategoryId: group.taxCategoryId }, { silent: true });
      for (const line of group.lines) r.invoices.createLine(invoice.id, { taxRate: '0', externalIds: [], ...line, groupId: created.id }, { silent: true });
    }
    return r.invoices.get(invoice.id);
  }
}
