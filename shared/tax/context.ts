/**
 * What the invoice-tax use cases need, as narrow ports: the few process dependencies they call,
 * the factory's repositories (shared/runtime/dependencies.ts) and the Sphere sync port (the sync
 * flow's "ensure" functions). Handlers build it once per process with `taxContext(dependencies())`;
 * tests build it the same way against emulators, or from the in-memory fakes in test/support/fakes.
 */
import { type Connection } from '../domain/connection';
import { type ConnectorConfig } from '../runtime/config';
import { type Dependencies } from '../runtime/dependencies';
import { type DimensionedMetrics, type KeyedLogger, type QueueSender } from '../runtime/ports';
import { type Customer, type Product, type SequenceClient, type TaxRegistration } from '../sequence';
import { type SphereClient } from '../sphere';
import { type ConnectionCounters, type ConnectionLookup, type FailureLog, type LeaseStore, type TaxRecordStore, type TransactionStore } from '../store/ports';
import {
  type EnsuredCustomer,
  type EnsuredProduct,
  type SphereCopies,
  type SphereSyncDeps,
  confirmSphereCopies,
  ensureCustomerInSphere,
  ensureProductsInSphere,
  readSphereCopies,
  sphereCopiesCurrent,
} from '../sync/ensure';

/** The upstream calls the invoice-tax flow makes (the sync port's included). */
export interface TaxClients {
  sequence: Pick<
    SequenceClient,
    | 'getInvoice'
    | 'listLineItems'
    | 'listLineItemGroups'
    | 'updateLineItem'
    | 'request'
    | 'finalizeInvoice'
    | 'getCreditNote'
    | 'listCreditNoteLineItems'
    | 'getCustomer'
    | 'listTaxRegistrationsForCustomer'
    | 'getProduct'
    | 'updateCustomer'
    | 'listInvoices'
  >;
  sphere: Pick<SphereClient, 'calculateTax' | 'getProduct' | 'upsertProduct' | 'upsertCustomer' | 'createTransaction' | 'cancelTransaction'>;
}

export type TaxSequencePort = TaxClients['sequence'];
export type TaxSpherePort = TaxClients['sphere'];

/** The process dependencies the invoice-tax use cases call (the ensure step's included). */
export interface TaxDeps extends SphereSyncDeps {
  config: Pick<ConnectorConfig, 'queueUrls'>;
  connections: ConnectionLookup & ConnectionCounters;
  failures: FailureLog;
  queues: QueueSender;
  logger: KeyedLogger;
  metrics: DimensionedMetrics;
  /** Run `work` with the connection's upstream clients (Dependencies.withUpstream: credentials re-read once when refused). */
  withUpstream<T>(connection: Connection, work: (clients: TaxClients) => Promise<T>): Promise<T>;
  /** Start reading the connection's secret beside its lookup (Dependencies.prefetchCredentials). */
  prefetchCredentials(connectionId: string): void;
}

export interface SphereSyncPort {
  ensureCustomer(
    deps: SphereSyncDeps,
    connection: Connection,
    clients: TaxClients,
    customerId: string,
    prefetched?: { customer: Customer; taxRegistrations: TaxRegistration[] },
  ): Promise<EnsuredCustomer>;
  ensureProducts(
    deps: SphereSyncDeps,
    connection: Connection,
    clients: TaxClients,
    productIds: string[],
    prefetched?: ReadonlyMap<string, Product>,
  ): Promise<Map<string, EnsuredProduct>>;
  /** What Sphere was last given (the links), read beside the Sequence reads. */
  readCopies(deps: Pick<SphereSyncDeps, 'links'>, connection: Connection, customerId: string, productIds: readonly string[]): Promise<SphereCopies>;
  /** true when the ensure functions would change nothing in Sphere. */
  copiesCurrent(copies: SphereCopies, connection: Connection, current: { customer: Customer; taxRegistrations: TaxRegistration[]; products: ReadonlyMap<string, Product> }): boolean;
  /** After `copiesCurrent`: what the ensure step would still record (no Sphere call). */
  confirmCopies(deps: Pick<SphereSyncDeps, 'links'>, connection: Connection, copies: SphereCopies): Promise<void>;
}

export const defaultSphereSync: SphereSyncPort = {
  ensureCustomer: ensureCustomerInSphere,
  ensureProducts: ensureProductsInSphere,
  readCopies: readSphereCopies,
  copiesCurrent: sphereCopiesCurrent,
  confirmCopies: confirmSphereCopies,
};

/** `D`: an entry point (the admin routes) may keep the whole bag for its own settings. */
export interface TaxContext<D extends TaxDeps = TaxDeps> {
  deps: D;
  taxRecords: TaxRecordStore;
  transactions: TransactionStore;
  leases: LeaseStore;
  sync: SphereSyncPort;
}

/** The tax context over the process dependencies: their repositories, no second copy of them. */
export function taxContext(deps: Dependencies, sync: SphereSyncPort = defaultSphereSync): TaxContext<Dependencies> {
  return { deps, taxRecords: deps.taxRecords, transactions: deps.transactions, leases: deps.leases, sync };
}
