/** customer-sync.fifo consumer: one Sequence customer → Sphere (shared/sync/workers.ts). */
import { dependencies } from '../../shared/runtime/dependencies';
import { createSqsWorker, workerDependencies } from '../../shared/runtime/sqs-worker';
import { handleCustomerSync } from '../../shared/sync/workers';

const deps = dependencies();

export const handler = createSqsWorker(
  {
    queue: 'customerSync',
    failureTarget: (m) => ({ resourceType: 'customer', resourceId: m.customerId }),
    handle: async (message, { connection }) => {
      await handleCustomerSync(deps, connection, message);
    },
  },
  workerDependencies(deps, 'customerSync'),
);
