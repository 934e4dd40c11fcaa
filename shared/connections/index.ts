/** The connection lifecycle use cases (admin API §5.1); each takes its own deps type (the factory's Dependencies fit them all). */
export { createConnection, activate, newConnectionId, resolveBaseUrls, SECRET_RECOVERY_WINDOW_DAYS, type CreateConnectionOptions } from './create-connection';
export { updateConnection, type UpdateConnectionOptions } from './update-connection';
export { checkCredentials, testConnection, type TestReport, type SideReport } from './test-connection';
export { disconnectConnection } from './disconnect-connection';
export { startBackfill, queueBackfill, type StartBackfillOptions } from './backfill';
export { listConnections, getConnection, findConnection, requireConnection, ConnectionNotFoundError, ConnectionDisconnectedError, type RequireConnectionOptions } from './lookup';
export { checkBoth, checkSequence, checkSphere, credentialCheckFailure, requireBoth, withDeadline, DEFAULT_CHECK_DEADLINE_MS, type Side } from './credentials';
export { newWebhookSigningSecret, registerWebhookPolicy, removeWebhookPolicy, webhookUrl, policyName, requirePublicUrl } from './webhook-policy';
