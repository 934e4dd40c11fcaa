/**
 * The synchronous entry points (admin routes, the direct Lambda invocation) around the use cases
 * (their connection comes from the one guard, shared/connections/lookup.ts): failure records — a failed
 * calculation or finalisation is kept as a failure whose retry re-queues the invoice; a success
 * clears it. (The queue worker does the same
 * through shared/runtime/sqs-worker.ts.) Both emit the same failure metrics (recordFailureMetrics).
 */
import { requireConnection } from '../connections/lookup';
import { type Connection } from '../domain/connection';
import { UserActionRequiredError, classifyError } from '../domain/errors';
import { isConnectionId } from '../domain/ids';
import { afterCallsLeave } from '../runtime/concurrency';
import { recordFailureMetrics } from '../runtime/observability';
import { type TaxContext } from './context';
import { InvoiceBusyError, InvoiceNotDraftError } from './calculate';

/** What the connection guard says a disconnected connection cannot do (requireConnection's `live`). */
const TAX_WORK = 'calculate tax';

/**
 * The live connection a synchronous tax call works for, with its secret read started beside the
 * lookup (one round trip before the first upstream wave, not two). Only an id that can exist is
 * prefetched: a hostile one must not reach the vault (the guard answers it without a read).
 */
export function requireTaxConnection(ctx: TaxContext, connectionId: string): Promise<Connection> {
  if (isConnectionId(connectionId)) ctx.deps.prefetchCredentials(connectionId);
  return requireConnection(ctx.deps, connectionId, { live: TAX_WORK });
}

/**
 * Run invoice work; keep a failure record on failure (not for "not a draft" or "busy"), clear it on
 * success. `work` may clear it itself (`clearFailure`) beside its own last writes, saving a round trip.
 */
export async function withInvoiceFailureRecord<T>(ctx: TaxContext, connection: Connection, invoiceId: string, work: (clearFailure: () => Promise<unknown>) => Promise<T>): Promise<T> {
  // Looked up beside the work (once its first calls are out): without a failure record there is nothing to clear afterwards.
  const hadFailure = afterCallsLeave(() => ctx.deps.failures.get(connection.id, 'invoice', invoiceId)).then(
    (record) => record !== undefined,
    () => true,
  );
  let cleared: Promise<unknown> | undefined;
  const clearFailure = () => (cleared ??= hadFailure.then((had) => had && ctx.deps.failures.resolve(connection.id, 'invoice', invoiceId)));
  try {
    const result = await work(clearFailure);
    await clearFailure();
    return result;
  } catch (error) {
    const notAFailure = error instanceof InvoiceNotDraftError || error instanceof InvoiceBusyError || (error instanceof UserActionRequiredError && error.code === 'sequence_not_found');
    if (!notAFailure) {
      const classified = classifyError(error);
      await ctx.deps.failures
        .record({
          connectionId: connection.id,
          resourceType: 'invoice',
          resourceId: invoiceId,
          error: classified,
          retry: { queue: 'invoiceTax', body: { kind: 'invoice', connectionId: connection.id, invoiceId, trigger: 'retry' } },
        })
        .catch((e: unknown) => ctx.deps.logger.error('Could not write the failure record', { error: String(e) }));
      // The same metrics as the queue worker, so the failures alarm sees admin and direct calls too.
      recordFailureMetrics(ctx.deps.metrics, connection.id, classified.code);
    }
    throw error;
  }
}
