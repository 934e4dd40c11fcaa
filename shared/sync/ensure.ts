/**
 * "Make sure this customer / these products exist in Sphere, as they are in Sequence now."
 * Used by the sync workers, the backfill and reconcile (through them), and by the invoice-tax
 * flow before a calculation. Every Sphere write is an upsert by external_id, and a write only
 * happens when the content hash differs from the link's (or there is no link), so calling these
 * as often as you like costs Sequence reads, not Sphere writes.
 */
import { forEachLimited } from '../runtime/concurrency';
import { expectCustomerEcho } from '../domain/customer-echo';
import { exemptionChangeDeduplicationId, exemptionChanged, mapCustomerToSphere, productContentHash, type SequenceTaxStatus } from '../domain/customer-mapping';
import { customerNativeEvidence } from '../domain/native-integration';
import { type Connection } from '../domain/connection';
import { SphereFieldNotAcceptedError } from '../domain/echo-checks';
import { classifyError } from '../domain/errors';
import { sphereTaxCodeFor } from '../domain/tax-codes';
import { type FlowLogger, type QueueSender } from '../runtime/ports';
import { messageGroupId, type Trigger } from '../runtime/queue-messages';
import { type Customer, type Product, type SequenceClient, type TaxRegistration, customerToRequest } from '../sequence';
import { type SphereClient } from '../sphere';
import { type CustomerLink, type ProductLink } from '../store/links';
import { type ConnectionCounters, type FailureLog, type RegistrationSnapshotReader, type SphereLinkStore } from '../store/ports';

/** What the ensure step uses: the links, the counters, failure records and the exemption queue. */
export interface SphereSyncDeps {
  links: SphereLinkStore;
  registrationSnapshots: RegistrationSnapshotReader;
  connections: ConnectionCounters;
  failures: Pick<FailureLog, 'record' | 'resolve'>;
  queues: QueueSender;
  logger: FlowLogger;
}

/** The upstream calls the ensure step makes. */
export interface SphereSyncClients {
  sequence: Pick<SequenceClient, 'getCustomer' | 'listTaxRegistrationsForCustomer' | 'getProduct' | 'updateCustomer'>;
  sphere: Pick<SphereClient, 'upsertCustomer' | 'upsertProduct'>;
}

/** The integration service name Sequence shows as the "Sphere link". */
export const SPHERE_INTEGRATION_SERVICE = 'Sphere';

export interface EnsuredCustomer {
  /** The customer as Sequence has it now. */
  customer: Customer;
  taxRegistrations: TaxRegistration[];
  /** Sphere's external_id for the customer. */
  sphereCustomerId: string;
  /** true when this call wrote the customer to Sphere. */
  changed: boolean;
}

export interface EnsuredProduct {
  productId: string;
  sphereProductId: string;
  taxCode: string;
  taxCategoryId?: string;
}

export interface CustomerSyncOutcome extends EnsuredCustomer {
  /** The link as it was before this call (undefined: never synced). */
  previousLink?: CustomerLink;
  archived: boolean;
  exemption: { changed: boolean; previousTaxStatus?: SequenceTaxStatus; taxStatus: SequenceTaxStatus; registrationsChanged: boolean };
  /** true when this call added the Sphere integration id to the Sequence customer. */
  tagged: boolean;
}

export interface CustomerSyncOptions {
  /** What triggered the sync; carried on the exemption-changed message. Default `exemption_change`. */
  trigger?: Trigger;
  /** Send the exemption-changed message when the tax treatment changed (default true). */
  emitExemptionChange?: boolean;
  /** The customer and its registrations as the caller has just read them (saves two Sequence reads). */
  prefetched?: { customer: Customer; taxRegistrations: TaxRegistration[] };
  /** Backfill: take the registrations from this run's snapshot unless the link was synced after it was read. */
  registrationsSnapshot?: { runId: string; readFrom: string };
}

function isTagged(customer: Customer, sphereCustomerId: string): boolean {
  return customer.integrationIds.some((i) => i.service === SPHERE_INTEGRATION_SERVICE && i.id === sphereCustomerId);
}

/**
 * The full customer sync: re-read (customer + registrations), upsert to Sphere when changed, tell
 * the invoice-tax flow about an exemption change, record the link, tag the Sequence customer.
 * Order matters for crash safety: Sphere write → exemption message → link → tag (→ link.tagged).
 * A crash before the link is written repeats the idempotent steps (the message is deduplicated
 * by the link version it changes from); a crash after it repeats only the tag.
 */
export async function syncCustomerToSphere(
  deps: SphereSyncDeps,
  connection: Connection,
  clients: SphereSyncClients,
  customerId: string,
  options: CustomerSyncOptions = {},
): Promise<CustomerSyncOutcome> {
  const { links, registrationSnapshots } = deps;
  const snapshot = options.prefetched ? undefined : options.registrationsSnapshot;
  const [customer, fetchedRegistrations, previousLink, snapshotRegistrations] = await Promise.all([
    options.prefetched?.customer ?? clients.sequence.getCustomer(customerId),
    options.prefetched?.taxRegistrations ?? (snapshot ? undefined : clients.sequence.listTaxRegistrationsForCustomer(customerId)),
    links.getCustomer(connection.id, customerId),
    snapshot ? registrationSnapshots.forCustomer(connection.id, snapshot.runId, customerId) : undefined,
  ]);
  // A link synced after the snapshot was read knows newer registrations than the snapshot: read them again.
  const snapshotUsable = snapshot && (!previousLink || previousLink.lastSyncedAt < snapshot.readFrom);
  const taxRegistrations: TaxRegistration[] =
    fetchedRegistrations ?? (snapshotUsable && snapshotRegistrations ? snapshotRegistrations : await clients.sequence.listTaxRegistrationsForCustomer(customerId));
  const mapped = mapCustomerToSphere(customer, taxRegistrations);
  const sphereCustomerId = mapped.sphere.externalId;
  const now = new Date().toISOString();
  const exemption = exemptionChanged(previousLink, mapped);
  const archived = Boolean(customer.archivedAt);

  const changed = !previousLink || previousLink.contentHash !== mapped.contentHash;
  if (changed) {
    await clients.sphere.upsertCustomer(mapped.sphere);
    await deps.connections.increment(connection.id, 'customersSynced', 1);
  }

  if (exemption.changed && previousLink && options.emitExemptionChange !== false) {
    const message = {
      kind: 'exemption_changed' as const,
      connectionId: connection.id,
      trigger: options.trigger ?? 'exemption_change',
      customerId,
      ...(previousLink.taxStatus ? { previousTaxStatus: previousLink.taxStatus } : {}),
      taxStatus: mapped.taxStatus,
      registrationsChanged: exemption.registrationsChanged,
    };
    await deps.queues.send('exemptions', {
      message,
      groupId: messageGroupId(connection.id, customerId),
      // One message per change, not per shape of change (see exemptionChangeDeduplicationId).
      deduplicationId: exemptionChangeDeduplicationId({ connectionId: connection.id, customerId, from: previousLink, to: mapped }),
    });
    deps.logger.info('Customer tax treatment changed; open drafts will be re-taxed', {
      connectionId: connection.id,
      customerId,
      previousTaxStatus: previousLink?.taxStatus,
      taxStatus: mapped.taxStatus,
      registrationsChanged: exemption.registrationsChanged,
    });
  }

  // The link (with the new content hash) goes in before tagging, so a failed tag retries the tag only, never the Sphere write.
  // Another service's Sphere tag (a native integration, shared/domain/native-integration.ts) is left
  // alone: replacing it would break that link and erase the evidence the native-link warning rests on.
  const alreadyTagged = isTagged(customer, sphereCustomerId) || customerNativeEvidence(customer) !== undefined;
  const link: CustomerLink = {
    connectionId: connection.id,
    customerId,
    sphereCustomerId,
    contentHash: mapped.contentHash,
    taxStatus: mapped.taxStatus,
    registrationsHash: mapped.registrationsHash,
    tagged: alreadyTagged,
    archived,
    ...(customer.archivedAt ? { archivedAt: customer.archivedAt } : {}),
    lastSyncedAt: now,
  };
  await links.putCustomer(link);

  let tagged = false;
  if (!alreadyTagged && !archived) {
    // PUT is a full replace: start from the customer as it is (contacts, other integration ids, custom properties).
    const body = customerToRequest(customer);
    body.integrationIds = [...(body.integrationIds ?? []).filter((i) => i.service !== SPHERE_INTEGRATION_SERVICE), { service: SPHERE_INTEGRATION_SERVICE, id: sphereCustomerId }];
    const updated = await clients.sequence.updateCustomer(customerId, body);
    tagged = true;
    // The PUT makes Sequence send CUSTOMER_UPDATED showing exactly this state: expect it, so it costs no re-read.
    const expectedEcho = expectCustomerEcho(updated, new Date());
    await links.putCustomer({ ...link, tagged: true, ...(expectedEcho ? { expectedEcho } : {}) });
  }

  return {
    customer,
    taxRegistrations,
    sphereCustomerId,
    changed,
    ...(previousLink ? { previousLink } : {}),
    archived,
    exemption: {
      changed: exemption.changed,
      ...(previousLink?.taxStatus ? { previousTaxStatus: previousLink.taxStatus } : {}),
      taxStatus: mapped.taxStatus,
      registrationsChanged: exemption.registrationsChanged,
    },
    tagged,
  };
}

/**
 * When another flow (an invoice's calculation or transaction) syncs a customer or product and Sphere
 * did not keep a field we wrote (`sphere_field_not_accepted`), the customer or product gets its own
 * failure record too, retried through its sync queue; the caller's document fails with the same
 * error. (The sync workers record their own failures.)
 */
async function withOwnFailureRecord<T extends { changed: boolean }>(
  deps: SphereSyncDeps,
  connection: Connection,
  resource: { kind: 'customer'; customerId: string } | { kind: 'product'; productId: string },
  work: () => Promise<T>,
): Promise<T> {
  const [resourceType, resourceId, queue] = resource.kind === 'customer' ? (['customer', resource.customerId, 'customerSync'] as const) : (['product', resource.productId, 'productSync'] as const);
  try {
    const outcome = await work();
    // A write Sphere kept clears a failure recorded by an earlier attempt (only on writes: no extra call otherwise).
    if (outcome.changed) await deps.failures.resolve(connection.id, resourceType, resourceId);
    return outcome;
  } catch (error) {
    if (error instanceof SphereFieldNotAcceptedError) {
      await deps.failures
        .record({ connectionId: connection.id, resourceType, resourceId, error: classifyError(error), retry: { queue, body: { ...resource, connectionId: connection.id, trigger: 'retry' } } })
        .catch((e: unknown) => deps.logger.error('Could not write the failure record', { resourceType, resourceId, error: String(e) }));
    }
    throw error;
  }
}

/**
 * Re-read the customer (and its tax registrations) from Sequence and make Sphere match: upsert only
 * when the content hash changed or there is no link; record the link; tag the Sequence customer's
 * integrationIds when missing. Throws the taxonomy errors (e.g. `customer_tax_location_invalid`,
 * a user error, when Sphere cannot use the address).
 */
export async function ensureCustomerInSphere(
  deps: SphereSyncDeps,
  connection: Connection,
  clients: SphereSyncClients,
  customerId: string,
  prefetched?: CustomerSyncOptions['prefetched'],
): Promise<EnsuredCustomer> {
  const outcome = await withOwnFailureRecord(deps, connection, { kind: 'customer', customerId }, () =>
    syncCustomerToSphere(deps, connection, clients, customerId, { trigger: 'exemption_change', ...(prefetched ? { prefetched } : {}) }),
  );
  return { customer: outcome.customer, taxRegistrations: outcome.taxRegistrations, sphereCustomerId: outcome.sphereCustomerId, changed: outcome.changed };
}

const ENSURE_PRODUCTS_CONCURRENCY = 8;

export interface ProductSyncOutcome extends EnsuredProduct {
  changed: boolean;
}

/** What Sphere should hold for a product: its tax category mapped to a Sphere code by the connection. */
function sphereProductDraft(connection: Connection, product: Product) {
  return { externalId: product.id, name: product.name, taxCode: sphereTaxCodeFor(connection.taxCodes, product.taxCategoryId) };
}

/** One product: re-read, map its tax category to a Sphere code, upsert when changed, record the link. */
export async function syncProductToSphere(
  deps: SphereSyncDeps,
  connection: Connection,
  clients: SphereSyncClients,
  productId: string,
  prefetched?: Product,
): Promise<ProductSyncOutcome> {
  const { links } = deps;
  const [product, previous] = await Promise.all([prefetched ?? clients.sequence.getProduct(productId), links.getProduct(connection.id, productId)]);
  const draft = sphereProductDraft(connection, product);
  const { taxCode } = draft;
  const contentHash = productContentHash(draft);
  const changed = !previous || previous.contentHash !== contentHash;
  if (changed) {
    await clients.sphere.upsertProduct(draft);
    await deps.connections.increment(connection.id, 'productsSynced', 1);
    const link: ProductLink = {
      connectionId: connection.id,
      productId,
      sphereProductId: draft.externalId,
      contentHash,
      taxCode,
      ...(product.taxCategoryId ? { taxCategoryId: product.taxCategoryId } : {}),
      lastSyncedAt: new Date().toISOString(),
    };
    await links.putProduct(link);
  }
  return { productId, sphereProductId: draft.externalId, taxCode, ...(product.taxCategoryId ? { taxCategoryId: product.taxCategoryId } : {}), changed };
}

/**
 * Make sure every product exists in Sphere with its current tax code (from the connection's
 * mapping: Sequence tax category → Sphere code, default otherwise). Upserts only what changed.
 * A few at a time: the link reads overlap, and the Sphere write bucket paces the writes anyway.
 */
export async function ensureProductsInSphere(
  deps: SphereSyncDeps,
  connection: Connection,
  clients: SphereSyncClients,
  productIds: string[],
  /** Products the caller has just read from Sequence (saves a read each). */
  prefetched?: ReadonlyMap<string, Product>,
): Promise<Map<string, EnsuredProduct>> {
  const ids = [...new Set(productIds)];
  const ensured = new Map<string, EnsuredProduct>();
  await forEachLimited(ids, ENSURE_PRODUCTS_CONCURRENCY, async (productId) => {
    const { changed: _changed, ...product } = await withOwnFailureRecord(deps, connection, { kind: 'product', productId }, () =>
      syncProductToSphere(deps, connection, clients, productId, prefetched?.get(productId)),
    );
    ensured.set(productId, product);
  });
  // In the callers' order, whatever order they finished in.
  return new Map(ids.map((id) => [id, ensured.get(id)!]));
}

/** What Sphere was last given for a customer and some products: their links. */
export interface SphereCopies {
  customer?: CustomerLink;
  products: Map<string, ProductLink | undefined>;
}

/**
 * The links of a customer and products, read beside the Sequence reads of the same records, so that
 * finding "Sphere already has them as they are" costs no round trip of its own.
 */
export async function readSphereCopies(deps: Pick<SphereSyncDeps, 'links'>, connection: Connection, customerId: string, productIds: readonly string[]): Promise<SphereCopies> {
  return deps.links.getCustomerAndProducts(connection.id, customerId, productIds);
}

/**
 * true when the ensure functions would write nothing to Sphere and send nothing: the customer's
 * Sphere content, tax treatment and tag, and every product's content (its tax code under the
 * connection's mapping), are those the links recorded. Then Sphere can be used at once, and the
 * ensure step (which only refreshes the customer link) may run beside it.
 */
export function sphereCopiesCurrent(
  copies: SphereCopies,
  connection: Connection,
  current: { customer: Customer; taxRegistrations: TaxRegistration[]; products: ReadonlyMap<string, Product> },
): boolean {
  const link = copies.customer;
  if (!link?.contentHash) return false;
  let mapped: ReturnType<typeof mapCustomerToSphere>;
  try {
    mapped = mapCustomerToSphere(current.customer, current.taxRegistrations);
  } catch {
    return false; // the ensure step reports why Sphere cannot take this customer
  }
  const archived = Boolean(current.customer.archivedAt);
  if (link.contentHash !== mapped.contentHash || link.archived !== archived || exemptionChanged(link, mapped).changed) return false;
  if (!archived && !isTagged(current.customer, mapped.sphere.externalId)) return false;
  for (const [productId, productLink] of copies.products) {
    const product = current.products.get(productId);
    if (!product || !productLink?.contentHash) return false;
    if (productLink.contentHash !== productContentHash(sphereProductDraft(connection, product))) return false;
  }
  return true;
}

/**
 * After `sphereCopiesCurrent` said yes: what the ensure step would still have done — note on the
 * customer link that it was checked now (the backfill's registration snapshots compare with it).
 */
export async function confirmSphereCopies(deps: Pick<SphereSyncDeps, 'links'>, connection: Connection, copies: SphereCopies): Promise<void> {
  const link = copies.customer;
  if (link?.contentHash) await deps.links.touchCustomer(connection.id, link.customerId, link.contentHash, new Date().toISOString());
}
