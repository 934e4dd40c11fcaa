/**
 * calculate-invoice-tax: one core (shared/tax) reached two ways by this function —
 *  - SQS (queue invoice-tax: invoice and credit-note webhooks, exemption changes, retries), through
 *    the shared worker (FIFO partial batch failures, idempotency, failure records);
 *  - a direct invocation `{connectionId, invoiceId, finalize?}` from a billing workflow; the payload
 *    and the HTTP-like response are documented in shared/tax/direct.ts.
 * (The third way, the admin routes, lives in functions/admin-api/invoice-routes.ts.)
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { dependencies } from '../../shared/runtime/dependencies';
import { instrumentedHandler } from '../../shared/runtime/invocation';
import { createSqsWorker, workerDependencies } from '../../shared/runtime/sqs-worker';
import { type DirectInvocationResult, handleDirectInvocation, invoiceTaxFailureTarget, isDirectInvocation, processInvoiceTaxMessage, taxContext } from '../../shared/tax';

const deps = dependencies();
const ctx = taxContext(deps);

const worker = createSqsWorker(
  {
    queue: 'invoiceTax',
    failureTarget: invoiceTaxFailureTarget,
    handle: async (message, { connection }) => {
      const outcome = await processInvoiceTaxMessage(ctx, connection, message);
      deps.logger.info('Invoice-tax message processed', { outcome, kind: message.kind, trigger: message.trigger });
    },
  },
  workerDependencies(deps, 'invoiceTax'),
);

// The direct path gets the same wrapper as the worker: Lambda context on its log lines, a trace,
// and InvoicesTaxed/Failures and the audit entries flushed before it answers.
const direct = instrumentedHandler((event: Record<string, unknown>) => handleDirectInvocation(ctx, event), { logger: deps.logger, metrics: deps.metrics });

export async function handler(event: SQSEvent | Record<string, unknown>, context: Context): Promise<SQSBatchResponse | DirectInvocationResult> {
  if (isDirectInvocation(event)) return direct(event as Record<string, unknown>, context);
  return worker(event as SQSEvent, context);
}
