/** product-sync.fifo consumer: one Sequence product → Sphere with its tax code (shared/sync/workers.ts). */
import { dependencies } from '../../shared/runtime/dependencies';
import { createSqsWorker, workerDependencies } from '../../shared/runtime/sqs-worker';
import { handleProductSync } from '../../shared/sync/workers';

const deps = dependencies();

export const handler = createSqsWorker(
  {
    queue: 'productSync',
    failureTarget: (m) => ({ resourceType: 'product', resourceId: m.productId }),
    handle: async (message, { connection }) => {
      await handleProductSync(deps, connection, message);
    },
  },
  workerDependencies(deps, 'productSync'),
);
