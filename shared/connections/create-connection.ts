/**
 * `POST /connections`: the "Manage integration → paste key → Test credentials → Save → Active"
 * path. Order (dynalite has no transactions, so each step is safe to fail after the previous):
 *
 *  1. public URL configured? (webhooks cannot be registered without it) — nothing stored yet
 *  2. check both credentials (Sequence: list accounts → sequenceAccountId; Sphere: verifyKey), then
 *     that Sphere accepts every configured tax code (./tax-codes-check.ts)
 *  3. refuse an account that already has a live connection in this environment (409); look for a
 *     native Sequence↔Sphere integration (./native-integration.ts: a warning on the record, not a refusal)
 *  4. generate the webhook signing secret; write the one secret of the connection (vault)
 *  5. write the connection record, PENDING (account lock; a lost race → 409 and the secret is
 *     scheduled for deletion again)
 *  6. register the Sequence notification policy → ACTIVE; on failure ERROR + lastError, and the
 *     connection is still returned (201) so the operator sees it and can retry with PATCH
 *  7. queue the backfill (a queue failure is recorded in lastError, the connection stays ACTIVE)
 */
import { randomUUID } from 'node:crypto';
import { type Connection, DEFAULT_OPTIONS, zeroCounts } from '../domain/connection';
import { type CreateConnectionInput } from '../domain/connection-input';
import { ConnectorError, RequestError, RetryableUpstreamError, UserActionRequiredError } from '../domain/errors';
import { type ConnectorConfig } from '../runtime/config';
import { type ClientFactory, type FlowLogger, type SecretStore } from '../runtime/ports';
import { type ConnectionSecrets } from '../secrets';
import { sequenceBaseUrlFor } from '../sequence';
import { DEFAULT_SPHERE_BASE_URL } from '../sphere';
import { AccountAlreadyConnectedError } from '../store/connections';
import { type ConnectionRegistry, type ConnectionUpdates } from '../store/ports';
import { warningsAfterScan } from '../domain/native-integration';
import { type BackfillTriggerDeps, queueBackfill } from './backfill';
import { checkBoth, requireBoth } from './credentials';
import { scanForNativeLink } from './native-integration';
import { requireTaxCodesAccepted } from './tax-codes-check';
import { describeFailure, newWebhookSigningSecret, registerWebhookPolicy, requirePublicUrl } from './webhook-policy';

/** The deployment settings the connection flows read: where webhooks go, the base-URL overrides. */
export type ConnectionSettings = Pick<ConnectorConfig, 'publicUrl' | 'sequenceBaseUrl' | 'sphereBaseUrl'>;

/** Registering the webhook policy moves the connection to ACTIVE or ERROR. */
export interface ActivationDeps {
  connections: ConnectionUpdates;
  logger: FlowLogger;
}

/** What connecting uses: the credential check's clients, the vault, the connection record, the backfill trigger. */
export interface CreateConnectionDeps extends BackfillTriggerDeps, ActivationDeps, ClientFactory {
  config: ConnectionSettings;
  connections: BackfillTriggerDeps['connections'] & ConnectionUpdates & Pick<ConnectionRegistry, 'list' | 'create'>;
  vault: Pick<SecretStore, 'put' | 'scheduleDeletion'>;
}

/** Secrets Manager's shortest recovery window; the local vault mirrors it. */
export const SECRET_RECOVERY_WINDOW_DAYS = 7;

export function newConnectionId(): string {
  return `conn_${randomUUID().replace(/-/g, '')}`;
}

export function sphereBaseUrlFor(override?: string): string {
  const chosen = override !== undefined && override.trim() !== '' ? override.trim() : DEFAULT_SPHERE_BASE_URL;
  return chosen.replace(/\/+$/, '');
}

/** Base URLs: the body wins, then the deployment's override (simulators under `npm start`), then the environment default. */
export function resolveBaseUrls(
  config: Pick<ConnectionSettings, 'sequenceBaseUrl' | 'sphereBaseUrl'>,
  input: { environment: Connection['environment']; sequenceBaseUrl?: string; sphereBaseUrl?: string },
): { sequenceBaseUrl: string; sphereBaseUrl: string } {
  return {
    sequenceBaseUrl: sequenceBaseUrlFor(input.environment, input.sequenceBaseUrl ?? config.sequenceBaseUrl),
    sphereBaseUrl: sphereBaseUrlFor(input.sphereBaseUrl ?? config.sphereBaseUrl),
  };
}

export function accountConflict(existingId: string): RequestError {
  return new RequestError(
    'account_already_connected',
    `This Sequence account is already connected in this environment (connection ${existingId}). Update that connection with PATCH, or disconnect it first.`,
    { connectionId: existingId },
  );
}

export interface CreateConnectionOptions {
  /** Per-side deadline of the credential check (default 10 s). */
  checkDeadlineMs?: number;
}

export async function createConnection(deps: CreateConnectionDeps, input: CreateConnectionInput, options: CreateConnectionOptions = {}): Promise<Connection> {
  const publicUrl = requirePublicUrl(deps.config);
  const environment = input.sequence.environment;
  const { sequenceBaseUrl, sphereBaseUrl } = resolveBaseUrls(deps.config, { environment, sequenceBaseUrl: input.sequence.baseUrl, sphereBaseUrl: input.sphere.baseUrl });
  deps.logger.debug('Checking credentials for a new connection', { environment, sequenceBaseUrl, sphereBaseUrl });

  // 2. Both credentials, before anything is stored (no connection id yet, so no audit records either).
  const checkClients = deps.clientsFor({
    sequence: { baseUrl: sequenceBaseUrl, clientId: input.sequence.clientId, clientSecret: input.sequence.clientSecret },
    sphere: { baseUrl: sphereBaseUrl, apiKey: input.sphere.apiKey },
  });
  const checks = await checkBoth(checkClients, {
    sequence: { baseUrl: sequenceBaseUrl, environment, ...(options.checkDeadlineMs ? { deadlineMs: options.checkDeadlineMs } : {}) },
    sphere: { baseUrl: sphereBaseUrl, ...(options.checkDeadlineMs ? { deadlineMs: options.checkDeadlineMs } : {}) },
  });
  const { sequenceAccountId } = requireBoth(checks);
  const taxCodes = { default: input.taxCodes.default, byTaxCategory: input.taxCodes.byTaxCategory ?? {} };
  // Every configured tax code must be one Sphere accepts (no built-in default to fall back on).
  await requireTaxCodesAccepted(checkClients.sphere, taxCodes);

  // 3. One live connection per Sequence account and environment.
  const existing = (await deps.connections.list()).find((c) => c.environment === environment && c.sequenceAccountId === sequenceAccountId && c.status !== 'DISCONNECTED');
  if (existing) throw accountConflict(existing.id);

  // A native Sequence↔Sphere integration beside this one: shown as a warning from the first moment,
  // so the backfill records no transaction twice (./native-integration.ts).
  const nativeEvidence = await scanForNativeLink(checkClients).catch((error: unknown) => {
    deps.logger.warn('Could not look for a native Sequence↔Sphere integration; the hourly reconcile looks again', { code: describeFailure(error).code });
    return [];
  });

  // 4. The one secret of the connection.
  const id = newConnectionId();
  const secrets: ConnectionSecrets = {
    sequence: { clientId: input.sequence.clientId, clientSecret: input.sequence.clientSecret },
    sphere: { apiKey: input.sphere.apiKey },
    webhookSigningSecret: newWebhookSigningSecret(),
  };
  try {
    await deps.vault.put(id, secrets);
  } catch (error) {
    const code = error instanceof ConnectorError ? error.code : 'secret_write_failed';
    deps.logger.error('Could not store the credentials of a new connection', { connectionId: id, code });
    const message = `The credentials could not be written to the secret store (${code}). Nothing was saved`;
    if (error instanceof ConnectorError && error.kind === 'retryable') throw new RetryableUpstreamError('secret_store_failed', message, { cause: error });
    throw new UserActionRequiredError('secret_store_failed', message, { fix: 'Try again, and check the connector’s secret store permissions if it persists.', cause: error });
  }

  // 5. The record, PENDING.
  const now = new Date().toISOString();
  const connection: Connection = {
    id,
    name: input.name,
    status: 'PENDING',
    environment,
    sequenceAccountId,
    sequenceBaseUrl,
    sphereBaseUrl,
    taxCodes,
    options: { ...DEFAULT_OPTIONS, ...definedOnly(input.options ?? {}) },
    counts: zeroCounts(),
    backfill: { state: 'NOT_STARTED', done: 0, total: 0 },
    ...(nativeEvidence.length > 0 ? { warnings: warningsAfterScan({}, nativeEvidence, now) } : {}),
    createdAt: now,
    updatedAt: now,
  };
  try {
    await deps.connections.create(connection);
  } catch (error) {
    await deps.vault.scheduleDeletion(id, SECRET_RECOVERY_WINDOW_DAYS).catch((cleanup: unknown) =>
      deps.logger.error('Could not schedule deletion of an unused secret', { connectionId: id, code: describeFailure(cleanup).code }),
    );
    if (error instanceof AccountAlreadyConnectedError) throw accountConflict(error.existingConnectionId);
    throw error;
  }
  deps.logger.info('Connection created', { connectionId: id, environment, sequenceAccountId });

  // 6. The webhook policy, with the connection's own clients (audited under its id).
  const clients = deps.clientsFor({
    connectionId: id,
    sequence: { baseUrl: sequenceBaseUrl, clientId: secrets.sequence.clientId, clientSecret: secrets.sequence.clientSecret },
    sphere: { baseUrl: sphereBaseUrl, apiKey: secrets.sphere.apiKey },
  });
  const registered = await activate(deps, connection, clients.sequence, publicUrl, secrets.webhookSigningSecret);
  if (registered.status !== 'ACTIVE') return registered;

  // 7. The backfill.
  return queueBackfill(deps, registered, 'admin');
}

/** Register the policy and move to ACTIVE, or to ERROR with the reason. Never throws for an upstream failure. */
export async function activate(
  deps: ActivationDeps,
  connection: Connection,
  sequence: Parameters<typeof registerWebhookPolicy>[0],
  publicUrl: string,
  webhookSigningSecret: string,
): Promise<Connection> {
  try {
    const notificationPolicyId = await registerWebhookPolicy(sequence, connection, publicUrl, webhookSigningSecret);
    deps.logger.info('Webhook policy registered', { connectionId: connection.id, notificationPolicyId });
    return await deps.connections.update(connection.id, { notificationPolicyId, status: 'ACTIVE' }, { clear: ['lastError'] });
  } catch (error) {
    const failure = describeFailure(error);
    deps.logger.warn('Webhook policy registration failed', { connectionId: connection.id, code: failure.code });
    return deps.connections.setStatus(connection.id, 'ERROR', {
      code: 'webhook_registration_failed',
      message: `The webhook policy could not be registered in Sequence (${failure.code}: ${failure.message}). Retry with PATCH /connections/${connection.id}.`,
      at: new Date().toISOString(),
    });
  }
}

export function definedOnly<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
