/**
 * Failures and their retry, in one place: the failure records (records.ts: what failed for a connection,
 * why, and the queue message that retries it) and listing and retrying them (retry.ts). Messages that
 * end in a dead-letter queue instead are redriven by shared/operations/redrive.ts.
 */
export { type FailureView, type RetrySelection, type WarningView, failureView, listFailures, listWarnings, retryFailures, warningView } from './retry';
