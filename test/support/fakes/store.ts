/**
 * In-memory stand-ins for the repositories the flows use (their ports: shared/store/ports.ts). Each
 * keeps the semantics the flows rely on from the DynamoDB classes: items are copied in and out (a
 * caller never holds the stored object), conditional writes refuse as DynamoDB does (a delivery
 * claimed twice, a transaction recorded twice, a lease taken while held), counters add up.
 */
import { randomUUID } from 'node:crypto';
import { type Connection, type CounterName } from '../../../shared/domain/connection';
import { type TaxRecord } from '../../../shared/domain/invoice-tax';
import { type FailedResourceType, type FailureInput, type FailureRecord, type WarningRecord, nextFailureRecord } from '../../../shared/failures/records';
import { type Lease } from '../../../shared/store/leases';
import { type CustomerLink, type ProductLink } from '../../../shared/store/links';
import {
  type ConnectionCounters,
  type ConnectionLookup,
  type DeliveryClaims,
  type FailureLog,
  type LeaseStore,
  type RegistrationSnapshotReader,
  type SphereLinkStore,
  type TaxRecordStore,
  type TransactionStore,
} from '../../../shared/store/ports';
import { type SnapshotRegistration } from '../../../shared/store/registration-snapshots';
import { type TransactionRecord } from '../../../shared/store/transactions';

const copy = <T>(value: T): T => structuredClone(value);
const key = (...parts: string[]) => parts.join('#');

export class FakeConnections implements ConnectionLookup, ConnectionCounters {
  readonly items = new Map<string, Connection>();

  constructor(...connections: Connection[]) {
    for (const c of connections) this.items.set(c.id, copy(c));
  }

  async get(connectionId: string): Promise<Connection | undefined> {
    const found = this.items.get(connectionId);
    return found && copy(found);
  }

  /** As the repository: the connection must exist (ConditionExpression attribute_exists). */
  async increment(connectionId: string, counter: CounterName, by = 1): Promise<void> {
    const found = this.items.get(connectionId);
    if (!found) throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
    const counts = (found.counts ?? {}) as Record<string, number>;
    counts[counter] = (counts[counter] ?? 0) + by;
    found.counts = counts as Connection['counts'];
  }

  count(connectionId: string, counter: CounterName): number {
    return ((this.items.get(connectionId)?.counts ?? {}) as Record<string, number>)[counter] ?? 0;
  }
}

export class FakeFailures implements FailureLog {
  readonly records = new Map<string, FailureRecord>();
  readonly warnings = new Map<string, WarningRecord>();

  /** `connections`: its `failures` counter counts the open records, as the repository keeps it. */
  constructor(private readonly connections?: FakeConnections) {}

  async record(input: FailureInput): Promise<FailureRecord> {
    const k = key(input.connectionId, input.resourceType, input.resourceId);
    const previous = this.records.get(k);
    const record = nextFailureRecord(input, previous);
    this.records.set(k, copy(record));
    if (!previous) await this.connections?.increment(input.connectionId, 'failures', 1);
    return record;
  }

  async resolve(connectionId: string, resourceType: FailedResourceType, resourceId: string): Promise<boolean> {
    const deleted = this.records.delete(key(connectionId, resourceType, resourceId));
    if (deleted) await this.connections?.increment(connectionId, 'failures', -1);
    return deleted;
  }

  async get(connectionId: string, resourceType: FailedResourceType, resourceId: string): Promise<FailureRecord | undefined> {
    const found = this.records.get(key(connectionId, resourceType, resourceId));
    return found && copy(found);
  }

  async recordWarning(warning: Omit<WarningRecord, 'recordedAt'>): Promise<void> {
    this.warnings.set(key(warning.connectionId, warning.resourceType, warning.resourceId), { ...copy(warning), recordedAt: new Date().toISOString() });
  }
}

export class FakeTaxRecords implements TaxRecordStore {
  readonly items = new Map<string, TaxRecord>();
  puts = 0;

  async get(connectionId: string, invoiceId: string): Promise<TaxRecord | undefined> {
    const found = this.items.get(key(connectionId, invoiceId));
    return found && copy(found);
  }

  async put(connectionId: string, record: TaxRecord): Promise<void> {
    this.puts += 1;
    this.items.set(key(connectionId, record.invoiceId), copy(record));
  }
}

export class FakeTransactions implements TransactionStore {
  readonly items = new Map<string, TransactionRecord>();

  async get(connectionId: string, documentId: string): Promise<TransactionRecord | undefined> {
    const found = this.items.get(key(connectionId, documentId));
    return found && copy(found);
  }

  /** false when a record already exists (the repository's attribute_not_exists condition). */
  async putRecorded(connectionId: string, record: TransactionRecord): Promise<boolean> {
    const k = key(connectionId, record.documentId);
    if (this.items.has(k)) return false;
    this.items.set(k, copy(record));
    return true;
  }

  async markCancelled(connectionId: string, documentId: string, state: 'CANCELLED' | 'NOTHING_TO_CANCEL', base: Omit<TransactionRecord, 'state' | 'updatedAt'>): Promise<void> {
    const k = key(connectionId, documentId);
    const now = new Date().toISOString();
    const existing = this.items.get(k);
    this.items.set(k, { ...(existing ?? {}), documentId, documentType: existing?.documentType ?? base.documentType, type: existing?.type ?? base.type, state, cancelledAt: now, updatedAt: now });
  }
}

export class FakeLeases implements LeaseStore {
  private readonly held = new Map<string, { holder: string; expiresAt: number; releasedAt?: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async tryAcquire(connectionId: string, name: string, ttlMs: number): Promise<Lease | undefined> {
    const k = key(connectionId, name);
    const now = this.now();
    const previous = this.held.get(k);
    if (previous && previous.expiresAt >= now) return undefined;
    const holder = randomUUID();
    this.held.set(k, { holder, expiresAt: now + ttlMs });
    return { connectionId, name, holder, quietSince: previous ? (previous.releasedAt ?? previous.expiresAt) : 0 };
  }

  async release(lease: Lease): Promise<void> {
    const k = key(lease.connectionId, lease.name);
    const current = this.held.get(k);
    if (current?.holder === lease.holder) this.held.set(k, { holder: current.holder, expiresAt: 0, releasedAt: this.now() });
  }

  isHeld(connectionId: string, name: string): boolean {
    return (this.held.get(key(connectionId, name))?.expiresAt ?? 0) >= this.now();
  }
}

export class FakeLinks implements SphereLinkStore {
  readonly customers = new Map<string, CustomerLink>();
  readonly products = new Map<string, ProductLink>();

  async getCustomer(connectionId: string, customerId: string): Promise<CustomerLink | undefined> {
    const found = this.customers.get(key(connectionId, customerId));
    return found && copy(found);
  }

  async putCustomer(link: CustomerLink): Promise<void> {
    this.customers.set(key(link.connectionId, link.customerId), copy(link));
  }

  /** As the repository: only a link still at this hash and synced before `at` is touched. */
  async touchCustomer(connectionId: string, customerId: string, contentHash: string, at: string): Promise<void> {
    const found = this.customers.get(key(connectionId, customerId));
    if (found && found.contentHash === contentHash && found.lastSyncedAt < at) found.lastSyncedAt = at;
  }

  async getProduct(connectionId: string, productId: string): Promise<ProductLink | undefined> {
    const found = this.products.get(key(connectionId, productId));
    return found && copy(found);
  }

  async putProduct(link: ProductLink): Promise<void> {
    this.products.set(key(link.connectionId, link.productId), copy(link));
  }

  async getCustomerAndProducts(connectionId: string, customerId: string, productIds: readonly string[]): Promise<{ customer?: CustomerLink; products: Map<string, ProductLink | undefined> }> {
    const ids = [...new Set(productIds)];
    const products = new Map(await Promise.all(ids.map(async (id) => [id, await this.getProduct(connectionId, id)] as const)));
    return { customer: await this.getCustomer(connectionId, customerId), products };
  }
}

export class FakeRegistrationSnapshots implements RegistrationSnapshotReader {
  readonly items = new Map<string, SnapshotRegistration[]>();

  async forCustomer(connectionId: string, runId: string, customerId: string): Promise<SnapshotRegistration[]> {
    return copy(this.items.get(key(connectionId, runId, customerId)) ?? []);
  }
}

export class FakeDeliveries implements DeliveryClaims {
  readonly claims = new Map<string, { notificationType: string; resourceId?: string; expiresAt: number }>();
  readonly ignored = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** true once per key until its ttl has passed (the repository's conditional put). */
  async claim(connectionId: string, k: string, info: { notificationType: string; resourceId?: string }, ttlSeconds: number): Promise<boolean> {
    const claimKey = key(connectionId, k);
    const existing = this.claims.get(claimKey);
    if (existing && existing.expiresAt >= Math.floor(this.now() / 1000)) return false;
    this.claims.set(claimKey, { ...info, expiresAt: Math.floor(this.now() / 1000) + ttlSeconds });
    return true;
  }

  async release(connectionId: string, k: string): Promise<void> {
    this.claims.delete(key(connectionId, k));
  }

  async countIgnored(connectionId: string, notificationType: string): Promise<void> {
    const k = key(connectionId, notificationType);
    this.ignored.set(k, (this.ignored.get(k) ?? 0) + 1);
  }
}
