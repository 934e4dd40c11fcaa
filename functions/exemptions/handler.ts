/**
 * exemptions: consumes the sync flow's `exemption_changed` messages (a customer's tax status or tax
 * registrations changed): updates the Sphere customer, lists that customer's DRAFT invoices and
 * queues each for re-taxing (shared/tax/retax.ts).
 */
import { dependencies } from '../../shared/runtime/dependencies';
import { createSqsWorker, workerDependencies } from '../../shared/runtime/sqs-worker';
import { retaxCustomerDrafts, taxContext } from '../../shared/tax';

const deps = dependencies();
const ctx = taxContext(deps);

export const handler = createSqsWorker(
  {
    queue: 'exemptions',
    failureTarget: (message) => ({ resourceType: 'customer', resourceId: message.customerId }),
    handle: async (message, { connection, record }) => {
      const outcome = await retaxCustomerDrafts(ctx, connection, message.customerId, { sourceId: record.messageId });
      deps.logger.info('Exemption change handled', { customerId: message.customerId, taxStatus: message.taxStatus, queued: outcome.queued.length });
    },
  },
  workerDependencies(deps, 'exemptions'),
);
