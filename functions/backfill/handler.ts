/** backfill.fifo consumer: one page of Sequence customers or products per message, self-chaining (shared/sync/backfill.ts). */
import { dependencies } from '../../shared/runtime/dependencies';
import { createSqsWorker, workerDependencies } from '../../shared/runtime/sqs-worker';
import { processBackfillPage } from '../../shared/sync/backfill';

const deps = dependencies();

export const handler = createSqsWorker(
  {
    queue: 'backfill',
    // The failure taxonomy has no "backfill" resource type: a failing page is recorded under the phase's resource type.
    failureTarget: (m) => ({ resourceType: m.phase === 'products' ? 'product' : 'customer', resourceId: `backfill:${m.runId}` }),
    handle: async (message, { connection }) => {
      await processBackfillPage(deps, connection, message);
    },
  },
  workerDependencies(deps, 'backfill'),
);
