/**
 * Drift sweep (scheduled): for each ACTIVE connection, walk Sequence's customers and products and
 * queue a sync for every record whose Sphere copy is missing or stale — no link, a link whose
 * content hash differs from what the record maps to now (a missed webhook, a changed tax-code
 * mapping, a registration change, which sends no webhook), or a Sphere copy that is gone
 * (GET /v1/customers|products/{id} → 404). The syncs themselves do the writes, paced as usual.
 * Also re-kicks a backfill run that stalled (its chain message dead-lettered), and queues the
 * invoices a lost webhook or an outage left without tax or transaction (shared/tax/stuck-invoices.ts).
 * On the way it looks for a native Sequence↔Sphere integration (shared/connections/native-integration.ts)
 * and sets or clears the connection's warning.
 */
import { type NativeScanClients, applyNativeLinkFinding, productNativeEvidence, scanPricesAndInvoices } from '../connections/native-integration';
import { classifyError } from '../domain/errors';
import { type NativeLinkEvidence, customerNativeEvidence } from '../domain/native-integration';
import { type Connection } from '../domain/connection';
import { mapCustomerToSphere, productContentHash } from '../domain/customer-mapping';
import { sphereTaxCodeFor } from '../domain/tax-codes';
import { type KeyedLogger, type UpstreamRunner } from '../runtime/ports';
import { perResource } from '../runtime/queue-messages';
import { type SequenceClient, type TaxRegistration, TaxRegistrationSchema } from '../sequence';
import { type SphereClient } from '../sphere';
import { type ConnectionBackfillProgress, type ConnectionRegistry, type ConnectionUpdates, type LinkSweep, type SphereLinkStore } from '../store/ports';
import { type StuckInvoiceClients, type StuckInvoiceDeps, queueStuckInvoices } from '../tax/stuck-invoices';
import { type BackfillKickDeps, STALLED_BACKFILL_MS, queueBackfill } from './backfill';

/** The upstream reads of the sweep: Sequence's listings, Sphere's copies. */
export interface ReconcileClients extends StuckInvoiceClients {
  sequence: StuckInvoiceClients['sequence'] & NativeScanClients['sequence'] & Pick<SequenceClient, 'listAll'>;
  sphere: Pick<SphereClient, 'getCustomer' | 'getProduct'>;
}

/** What the sweep uses: the links it compares, the queues it fills, the invoice sweep's and the backfill kick's ports. */
export interface ReconcileDeps extends StuckInvoiceDeps, BackfillKickDeps, UpstreamRunner<ReconcileClients> {
  connections: Pick<ConnectionRegistry, 'list'> & Pick<ConnectionUpdates, 'update'> & ConnectionBackfillProgress;
  links: LinkSweep & Pick<SphereLinkStore, 'getCustomer'>;
  logger: KeyedLogger;
}

export interface ReconcileCounts {
  connectionId: string;
  checked: number;
  customersQueued: number;
  productsQueued: number;
  invoicesChecked: number;
  invoicesQueued: number;
  backfillResumed: boolean;
  /** A native Sequence↔Sphere integration shows (the connection carries the warning). */
  nativeIntegrationDetected: boolean;
}

export interface ReconcileOptions {
  /** Also ask Sphere whether linked, unchanged records still exist (reads, 50/s budget). Default true. */
  verifySphere?: boolean;
  now?: number;
}

async function registrationsByCustomer(clients: Pick<ReconcileClients, 'sequence'>): Promise<Map<string, TaxRegistration[]>> {
  const all = await clients.sequence.listAll('/tax-registrations', TaxRegistrationSchema);
  const map = new Map<string, TaxRegistration[]>();
  for (const r of all) {
    if (!r.customerId) continue;
    const list = map.get(r.customerId) ?? [];
    list.push(r);
    map.set(r.customerId, list);
  }
  return map;
}

/**
 * Does a record need a sync? When its link is not `upToDate`; or, when `askSphere`, when Sphere no
 * longer has it: the link says "written", Sphere says otherwise, so the link is invalidated too.
 */
async function needsSync(upToDate: boolean, askSphere: boolean, readFromSphere: () => Promise<unknown>, invalidateLink: () => Promise<unknown>): Promise<boolean> {
  if (!upToDate) return true;
  if (!askSphere || (await readFromSphere()) !== null) return false;
  await invalidateLink();
  return true;
}

export async function reconcileConnection(deps: ReconcileDeps, connection: Connection, options: ReconcileOptions = {}): Promise<ReconcileCounts> {
  const { links, backfill } = deps;
  const verifySphere = options.verifySphere ?? true;
  const stamp = new Date(options.now ?? Date.now()).toISOString();
  const counts: ReconcileCounts = { connectionId: connection.id, checked: 0, customersQueued: 0, productsQueued: 0, invoicesChecked: 0, invoicesQueued: 0, backfillResumed: false, nativeIntegrationDetected: false };

  await deps.withUpstream(connection, async (clients) => {
    // ---- customers ----
    const [customerLinks, registrations] = await Promise.all([links.listCustomers(connection.id), registrationsByCustomer(clients)]);
    const linkById = new Map(customerLinks.map((l) => [l.customerId, l]));
    const staleCustomers: string[] = [];
    const nativeEvidence: NativeLinkEvidence[] = [];
    for await (const customer of clients.sequence.listCustomers()) {
      counts.checked += 1;
      const foreignTag = customerNativeEvidence(customer);
      if (foreignTag) nativeEvidence.push(foreignTag);
      const link = linkById.get(customer.id);
      const mapped = mapCustomerToSphere(customer, registrations.get(customer.id) ?? []);
      const upToDate = link !== undefined && link.contentHash === mapped.contentHash && link.tagged === true;
      if (await needsSync(upToDate, verifySphere, () => clients.sphere.getCustomer(mapped.sphere.externalId), () => links.invalidateCustomer(connection.id, customer.id))) staleCustomers.push(customer.id);
    }
    await deps.queues.sendMany(
      'customerSync',
      perResource(connection.id, staleCustomers, `reconcile:${stamp}`, (customerId) => ({ kind: 'customer' as const, connectionId: connection.id, trigger: 'reconcile' as const, customerId })),
    );
    counts.customersQueued = staleCustomers.length;

    // ---- products ----
    const productLinks = new Map((await links.listProducts(connection.id)).map((l) => [l.productId, l]));
    const staleProducts: string[] = [];
    for await (const product of clients.sequence.listProducts()) {
      counts.checked += 1;
      const foreignProductTag = productNativeEvidence(product);
      if (foreignProductTag) nativeEvidence.push(foreignProductTag);
      const link = productLinks.get(product.id);
      const hash = productContentHash({ externalId: product.id, name: product.name, taxCode: sphereTaxCodeFor(connection.taxCodes, product.taxCategoryId) });
      const upToDate = link !== undefined && link.contentHash === hash;
      if (await needsSync(upToDate, verifySphere, () => clients.sphere.getProduct(product.id), () => links.invalidateProduct(connection.id, product.id))) staleProducts.push(product.id);
    }
    await deps.queues.sendMany(
      'productSync',
      perResource(connection.id, staleProducts, `reconcile:${stamp}`, (productId) => ({ kind: 'product' as const, connectionId: connection.id, trigger: 'reconcile' as const, productId })),
    );
    counts.productsQueued = staleProducts.length;

    // ---- a native Sequence↔Sphere integration beside the connector (holds transactions back) ----
    let current = connection;
    try {
      nativeEvidence.push(...(await scanPricesAndInvoices(clients)));
      current = await applyNativeLinkFinding(deps, connection, nativeEvidence);
      counts.nativeIntegrationDetected = nativeEvidence.length > 0;
    } catch (error) {
      // The warning stays as it was (set or not); the rest of the sweep goes on.
      deps.logger.warn('Could not look for a native Sequence↔Sphere integration', { connectionId: connection.id, error: classifyError(error).code });
    }

    // ---- invoices left without tax or transaction ----
    const invoices = await queueStuckInvoices(deps, current, clients, stamp);
    counts.invoicesChecked = invoices.invoicesChecked;
    counts.invoicesQueued = invoices.invoicesQueued;
  });

  // ---- a backfill whose chain broke (its page message went to the DLQ) ----
  const run = await backfill.get(connection.id);
  if (run?.state === 'RUNNING' && (options.now ?? Date.now()) - Date.parse(run.updatedAt) > STALLED_BACKFILL_MS) {
    await queueBackfill(deps, connection, 'reconcile');
    counts.backfillResumed = true;
  }
  return counts;
}

export interface ReconcileSummary {
  connections: ReconcileCounts[];
  failed: { connectionId: string; code: string; message: string }[];
  totals: { checked: number; customersQueued: number; productsQueued: number; invoicesQueued: number };
}

/** Every ACTIVE connection; one connection's failure is logged and does not stop the others. */
export async function reconcileAll(deps: ReconcileDeps, options: ReconcileOptions = {}): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { connections: [], failed: [], totals: { checked: 0, customersQueued: 0, productsQueued: 0, invoicesQueued: 0 } };
  for (const connection of await deps.connections.list()) {
    if (connection.status !== 'ACTIVE') continue;
    deps.logger.appendKeys({ connectionId: connection.id });
    try {
      const counts = await reconcileConnection(deps, connection, options);
      summary.connections.push(counts);
      summary.totals.checked += counts.checked;
      summary.totals.customersQueued += counts.customersQueued;
      summary.totals.productsQueued += counts.productsQueued;
      summary.totals.invoicesQueued += counts.invoicesQueued;
      deps.logger.info('Reconciled connection', { ...counts });
    } catch (error) {
      const c = classifyError(error);
      summary.failed.push({ connectionId: connection.id, code: c.code, message: c.message });
      deps.logger.error('Reconcile failed for a connection', { error: c });
    } finally {
      deps.logger.removeKeys(['connectionId']); // the next connection's lines must not carry this one's id
    }
  }
  return summary;
}
