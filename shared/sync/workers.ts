/**
 * What the customer-sync and product-sync workers do with one message. The SQS mechanics
 * (partial batch failures, idempotency, DLQ, DISCONNECTED drop, failure records) are
 * shared/runtime/sqs-worker.ts; this is only the use case.
 */
import { type Connection } from '../domain/connection';
import { isExpectedCustomerEcho } from '../domain/customer-echo';
import { type UpstreamRunner } from '../runtime/ports';
import { type CustomerSyncMessage, type ProductSyncMessage } from '../runtime/queue-messages';
import { type CustomerLinkMarks, type SphereLinkStore } from '../store/ports';
import { syncCustomerToSphere, syncProductToSphere, type CustomerSyncOutcome, type ProductSyncOutcome, type SphereSyncClients, type SphereSyncDeps } from './ensure';

/** What the sync workers use: the ensure step's ports, the worker's own link marks, the connection's clients. */
export interface SyncWorkerDeps extends SphereSyncDeps, UpstreamRunner<SphereSyncClients> {
  links: SphereLinkStore & CustomerLinkMarks;
}

/**
 * The echo of our own tag PUT shows the state we have just synced: skip it, once, without a
 * Sequence call (shared/domain/customer-echo.ts). The conditional consume makes a second delivery
 * (or a concurrent full sync) fall through to the normal re-read.
 */
async function isEchoOfOurTag(deps: Pick<SyncWorkerDeps, 'links'>, connection: Connection, message: CustomerSyncMessage): Promise<boolean> {
  if (!message.resourceFingerprint) return false;
  const { links } = deps;
  const link = await links.getCustomer(connection.id, message.customerId);
  if (!link?.contentHash || !isExpectedCustomerEcho(link.expectedEcho, message.resourceFingerprint, new Date())) return false;
  return links.consumeExpectedEcho(connection.id, message.customerId, message.resourceFingerprint);
}

export async function handleCustomerSync(
  deps: SyncWorkerDeps,
  connection: Connection,
  message: CustomerSyncMessage,
): Promise<CustomerSyncOutcome | { archived: true } | { echo: true }> {
  if (message.notificationType === 'CUSTOMER_ARCHIVED') {
    await deps.links.markCustomerArchived(connection.id, message.customerId, new Date().toISOString());
    deps.logger.info('Customer archived in Sequence; link marked archived', { customerId: message.customerId });
    return { archived: true };
  }
  if (message.notificationType === 'CUSTOMER_UPDATED' && (await isEchoOfOurTag(deps, connection, message))) {
    deps.logger.info('CUSTOMER_UPDATED is the echo of our own integration-id tag; nothing to sync', { customerId: message.customerId });
    return { echo: true };
  }
  const outcome = await deps.withUpstream(connection, (clients) =>
    syncCustomerToSphere(deps, connection, clients, message.customerId, {
      trigger: message.trigger,
      ...(message.registrationsSnapshot ? { registrationsSnapshot: message.registrationsSnapshot } : {}),
    }),
  );
  deps.logger.info(outcome.changed ? 'Customer written to Sphere' : 'Customer unchanged since the last sync; no Sphere write', {
    customerId: message.customerId,
    trigger: message.trigger,
    tagged: outcome.tagged,
    exemptionChanged: outcome.exemption.changed,
  });
  return outcome;
}

export async function handleProductSync(deps: SyncWorkerDeps, connection: Connection, message: ProductSyncMessage): Promise<ProductSyncOutcome> {
  const outcome = await deps.withUpstream(connection, (clients) => syncProductToSphere(deps, connection, clients, message.productId));
  deps.logger.info(outcome.changed ? 'Product written to Sphere' : 'Product unchanged; no Sphere write', { productId: message.productId, taxCode: outcome.taxCode });
  return outcome;
}
