/**
 * Operations harness, a preset of local/stack.ts: the deployed admin routes (audit, DLQ list,
 * redrive among them) and one connector queue (`invoice-tax.fifo`, so its URLs land in
 * INVOICE_TAX_QUEUE_URL / INVOICE_TAX_DLQ_URL as on AWS) bound to a worker whose failure the test
 * can switch off; the other queues are left out.
 */
import { type Stack, startStack } from '../../../local/stack';

export const ADMIN_TOKEN = 'operations-test-admin-token';

export type OperationsStack = Stack;

/** `withSwitchableQueue: false`: no queue at all. */
export function startOperationsStack(options: { withSwitchableQueue?: boolean } = {}): Promise<OperationsStack> {
  return startStack({
    queue: (q) =>
      q.queueName === 'invoice-tax.fifo' && options.withSwitchableQueue !== false
        ? { ...q, load: () => import('../../fixtures/handlers/sqs-switchable'), visibilityTimeoutSeconds: 1, timeoutSeconds: 1, maxReceiveCount: 2 }
        : undefined,
    runtime: { adminToken: ADMIN_TOKEN, log: () => undefined },
  });
}
