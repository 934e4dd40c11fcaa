/**
 * What the invoice-tax use cases need: the process dependencies, the flow's own repositories and
 * the Sphere sync port (the sync flow's "ensure" functions). Handlers build it once per process
 * with `taxContext(dependencies())`; tests build it the same way against emulators, or pass another
 * `sync` implementation.
 */
import { type Connection } from '../domain/connection';
import { type Dependencies, type UpstreamClients } from '../runtime/dependencies';
import { type Customer, type Product, type TaxRegistration } from '../sequence';
import { LeaseRepository } from '../store/leases';
import { TaxRecordRepository } from '../store/tax-records';
import { TransactionRepository } from '../store/transactions';
import {
  type EnsuredCustomer,
  type EnsuredProduct,
  type SphereCopies,
  confirmSphereCopies,
  ensureCustomerInSphere,
  ensureProductsInSphere,
  readSphereCopies,
  sphereCopiesCurrent,
} from '../sync/ensure';

export interface SphereSyncPort {
  ensureCustomer(
    deps: Dependencies,
    connection: Connection,
    clients: UpstreamClients,
    customerId: string,
    prefetched?: { customer: Customer; taxRegistrations: TaxRegistration[] },
  ): Promise<EnsuredCustomer>;
  ensureProducts(
    deps: Dependencies,
    connection: Connection,
    clients: UpstreamClients,
    productIds: string[],
    prefetched?: ReadonlyMap<string, Product>,
  ): Promise<Map<string, EnsuredProduct>>;
  /** What Sphere was last given (the links), read beside the Sequence reads. */
  readCopies(deps: Dependencies, connection: Connection, customerId: string, productIds: readonly string[]): Promise<SphereCopies>;
  /** true when the ensure functions would change nothing in Sphere. */
  copiesCurrent(copies: SphereCopies, connection: Connection, current: { customer: Customer; taxRegistrations: TaxRegistration[]; products: ReadonlyMap<string, Product> }): boolean;
  /** After `copiesCurrent`: what the ensure step would still record (no Sphere call). */
  confirmCopies(deps: Dependencies, connection: Connection, copies: SphereCopies): Promise<void>;
}

export const defaultSphereSync: SphereSyncPort = {
  ensureCustomer: ensureCustomerInSphere,
  ensureProducts: ensureProductsInSphere,
  readCopies: readSphereCopies,
  copiesCurrent: sphereCopiesCurrent,
  confirmCopies: confirmSphereCopies,
};

export interface TaxContext {
  deps: Dependencies;
  taxRecords: TaxRecordRepository;
  transactions: TransactionRepository;
  leases: LeaseRepository;
  sync: SphereSyncPort;
}

const cache = new WeakMap<Dependencies, TaxContext>();

export function taxContext(deps: Dependencies, sync: SphereSyncPort = defaultSphereSync): TaxContext {
  const hit = cache.get(deps);
  if (hit && hit.sync === sync) return hit;
  const ctx: TaxContext = {
    deps,
    taxRecords: new TaxRecordRepository(deps.db, deps.config.connectorTableName),
    transactions: new TransactionRepository(deps.db, deps.config.connectorTableName),
    leases: new LeaseRepository(deps.db, deps.config.connectorTableName),
    sync,
  };
  cache.set(deps, ctx);
  return ctx;
}
