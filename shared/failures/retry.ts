/**
 * Failures: what failed for a connection (invoices, credit notes, customers, products,
 * transactions), why, whether retrying unchanged can help, and the retry itself: the failure record
 * carries the queue message that failed (a RetryInstruction); retrying re-sends it with trigger
 * `retry`. The next success of that resource clears its record and moves the `failures` counter.
 */
import { createHash } from 'node:crypto';
import { classifyError } from '../domain/errors';
import { type Dependencies } from '../runtime/dependencies';
import { QUEUES, type QueueKey } from '../runtime/catalogue';
import { messageGroupId } from '../runtime/queue-messages';
import { type FailedResourceType, type FailureRecord, type WarningRecord } from './records';

export interface FailureView {
  resourceType: FailedResourceType;
  resourceId: string;
  code: string;
  kind: string;
  reason: string;
  fix?: string;
  retryable: boolean;
  attempts: number;
  firstFailedAt: string;
  lastFailedAt: string;
}

export function failureView(f: FailureRecord): FailureView {
  return {
    resourceType: f.resourceType,
    resourceId: f.resourceId,
    code: f.code,
    kind: f.kind,
    reason: f.message,
    ...(f.fix ? { fix: f.fix } : {}),
    retryable: f.retryable,
    attempts: f.attempts,
    firstFailedAt: f.firstFailedAt,
    lastFailedAt: f.lastFailedAt,
  };
}

/** A warning as GET /connections/{id}/failures lists it beside the failures: nothing to retry. */
export interface WarningView {
  resourceType: FailedResourceType;
  resourceId: string;
  code: string;
  severity: 'warning';
  reason: string;
  fix?: string;
  retryable: false;
  details?: Record<string, string>;
  recordedAt: string;
}

export function warningView(w: WarningRecord): WarningView {
  return {
    resourceType: w.resourceType,
    resourceId: w.resourceId,
    code: w.code,
    severity: 'warning',
    reason: w.message,
    ...(w.fix ? { fix: w.fix } : {}),
    retryable: false,
    ...(w.details ? { details: w.details } : {}),
    recordedAt: w.recordedAt,
  };
}

export async function listWarnings(deps: Pick<Dependencies, 'failures'>, connectionId: string): Promise<WarningView[]> {
  const records = await deps.failures.listWarnings(connectionId);
  return records.map(warningView).sort((a, b) => (a.recordedAt < b.recordedAt ? 1 : a.recordedAt > b.recordedAt ? -1 : 0));
}

export async function listFailures(deps: Pick<Dependencies, 'failures'>, connectionId: string): Promise<FailureView[]> {
  const records = await deps.failures.list(connectionId);
  return records.map(failureView).sort((a, b) => (a.lastFailedAt < b.lastFailedAt ? 1 : a.lastFailedAt > b.lastFailedAt ? -1 : 0));
}

export type RetrySelection = { all: true } | { resourceType?: FailedResourceType; resourceId?: string };

export interface RetryOutcome {
  requeued: number;
  /** Failures that matched but could not be re-queued (unknown queue, or the queue is not configured here). */
  skipped: { resourceType: string; resourceId: string; reason: string }[];
}

function isQueueKey(value: string): value is QueueKey {
  return Object.prototype.hasOwnProperty.call(QUEUES, value);
}

/** Re-send the RetryInstruction of every selected failure to its queue (trigger `retry`). */
export async function retryFailures(deps: Pick<Dependencies, 'failures' | 'queues' | 'config' | 'logger'>, connectionId: string, selection: RetrySelection): Promise<RetryOutcome & { matched: number }> {
  const all = await deps.failures.list(connectionId);
  const chosen =
    'all' in selection
      ? all
      : all.filter((f) => (!selection.resourceType || f.resourceType === selection.resourceType) && (!selection.resourceId || f.resourceId === selection.resourceId));
  const outcome: RetryOutcome = { requeued: 0, skipped: [] };
  const nonce = `${Date.now()}-${Math.random()}`;
  for (const failure of chosen) {
    const queue = failure.retry?.queue;
    if (!queue || !isQueueKey(queue)) {
      outcome.skipped.push({ resourceType: failure.resourceType, resourceId: failure.resourceId, reason: `no known queue to retry on (${String(queue)})` });
      continue;
    }
    if (!deps.config.queueUrls[queue as keyof typeof deps.config.queueUrls]) {
      outcome.skipped.push({ resourceType: failure.resourceType, resourceId: failure.resourceId, reason: `queue ${queue} is not configured for this function` });
      continue;
    }
    const body = { ...failure.retry.body, connectionId, trigger: 'retry' };
    try {
      await deps.queues.send(queue, {
        message: body as never,
        groupId: messageGroupId(connectionId, failure.resourceId),
        // A retry is a new attempt: never deduplicated against the message that failed.
        deduplicationId: createHash('sha256').update(`retry|${nonce}|${failure.resourceType}|${failure.resourceId}`).digest('hex'),
      });
      outcome.requeued += 1;
    } catch (error) {
      const classified = classifyError(error);
      deps.logger.warn('Could not re-queue a failure', { connectionId, resourceType: failure.resourceType, resourceId: failure.resourceId, error: classified });
      outcome.skipped.push({ resourceType: failure.resourceType, resourceId: failure.resourceId, reason: classified.message });
    }
  }
  return { ...outcome, matched: chosen.length };
}
