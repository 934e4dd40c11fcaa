/**
 * Failures and their retry, in one place: the failure records (records.ts: what failed for a connection,
 * why, and the queue message that retries it), listing and retrying them (retry.ts), and the dead-letter
 * queues' depth and redrive (redrive.ts). Nothing is lost: work ends as a retry, a visible retryable
 * failure record, or a DLQ message an operator redrives.
 */
export { type FailureView, type RetrySelection, type WarningView, failureView, listFailures, listWarnings, retryFailures, warningView } from './retry';
