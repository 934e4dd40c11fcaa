/**
 * `PATCH /connections/{id}`: rotate either credential, change base URLs, name, tax-code mapping or
 * options. A new credential is checked before anything changes (422 and nothing changed when it
 * is refused); then the merged secret is written, so every function picks it up on its next
 * forced refresh (withUpstream re-reads the secret after an auth failure). A connection whose
 * webhook policy is not registered yet (ERROR after create) gets another registration attempt.
 */
import { type Connection } from '../domain/connection';
import { type UpdateConnectionInput } from '../domain/connection-input';
import { UserActionRequiredError } from '../domain/errors';
import { type ClientFactory, type SecretStore } from '../runtime/ports';
import { type ConnectionUpdates } from '../store/ports';
import { type ConnectionSecrets } from '../secrets';
import { type BackfillTriggerDeps, queueBackfill } from './backfill';
import { type ActivationDeps, type ConnectionSettings, activate, definedOnly, resolveBaseUrls } from './create-connection';
import { checkSequence, checkSphere } from './credentials';
import { requireConnection } from './lookup';
import { requirePublicUrl } from './webhook-policy';

/** What a change uses: the vault (rotation), clients to check new credentials, the record, activation and backfill. */
export interface UpdateConnectionDeps extends BackfillTriggerDeps, ActivationDeps, ClientFactory {
  config: ConnectionSettings;
  connections: BackfillTriggerDeps['connections'] & ConnectionUpdates;
  vault: Pick<SecretStore, 'get' | 'put'>;
}

export interface UpdateConnectionOptions {
  checkDeadlineMs?: number;
}

export async function updateConnection(deps: UpdateConnectionDeps, connectionId: string, input: UpdateConnectionInput, options: UpdateConnectionOptions = {}): Promise<Connection> {
  const connection = await requireConnection(deps, connectionId, { live: 'be changed' });
  const deadline = options.checkDeadlineMs ? { deadlineMs: options.checkDeadlineMs } : {};

  const sequenceChanged = input.sequence !== undefined && Object.values(input.sequence).some((v) => v !== undefined);
  const sphereChanged = input.sphere !== undefined && Object.values(input.sphere).some((v) => v !== undefined);
  const baseUrls = {
    sequenceBaseUrl: input.sequence?.baseUrl ? resolveBaseUrls(deps.config, { environment: connection.environment, sequenceBaseUrl: input.sequence.baseUrl }).sequenceBaseUrl : connection.sequenceBaseUrl,
    sphereBaseUrl: input.sphere?.baseUrl ? resolveBaseUrls(deps.config, { environment: connection.environment, sphereBaseUrl: input.sphere.baseUrl }).sphereBaseUrl : connection.sphereBaseUrl,
  };

  let secrets: ConnectionSecrets | undefined;
  if (sequenceChanged || sphereChanged || !connection.notificationPolicyId) {
    secrets = await deps.vault.get(connection.id, { forceRefresh: true });
  }
  if (secrets && (sequenceChanged || sphereChanged)) {
    const merged: ConnectionSecrets = {
      sequence: {
        clientId: input.sequence?.clientId ?? secrets.sequence.clientId,
        clientSecret: input.sequence?.clientSecret ?? secrets.sequence.clientSecret,
      },
      sphere: { apiKey: input.sphere?.apiKey ?? secrets.sphere.apiKey },
      webhookSigningSecret: secrets.webhookSigningSecret,
    };
    const clients = deps.clientsFor({
      connectionId: connection.id,
      sequence: { baseUrl: baseUrls.sequenceBaseUrl, ...merged.sequence },
      sphere: { baseUrl: baseUrls.sphereBaseUrl, apiKey: merged.sphere.apiKey },
    });
    // Only the side that changed is checked: a rotation must not fail because the other side is down.
    const [sequenceCheck] = await Promise.all([
      sequenceChanged ? checkSequence(clients.sequence, { baseUrl: baseUrls.sequenceBaseUrl, environment: connection.environment, ...deadline }) : undefined,
      sphereChanged ? checkSphere(clients.sphere, { baseUrl: baseUrls.sphereBaseUrl, ...deadline }) : undefined,
    ]);
    if (sequenceCheck && sequenceCheck.sequenceAccountId !== connection.sequenceAccountId) {
      throw new UserActionRequiredError(
        'sequence_account_mismatch',
        `The new Sequence credentials belong to another Sequence account than this connection's (${connection.sequenceAccountId}); nothing was changed`,
        { fix: 'Use an API key of the connected Sequence account, or create a new connection for the other account.', upstream: { service: 'sequence' } },
      );
    }
    await deps.vault.put(connection.id, merged);
    secrets = merged;
    deps.logger.info('Connection credentials rotated', { connectionId: connection.id, sequence: sequenceChanged, sphere: sphereChanged });
  }

  const fields: Parameters<ConnectionUpdates['update']>[1] = {
    ...(input.name !== undefined ? { name: input.name } : {}),
    ...(baseUrls.sequenceBaseUrl !== connection.sequenceBaseUrl ? { sequenceBaseUrl: baseUrls.sequenceBaseUrl } : {}),
    ...(baseUrls.sphereBaseUrl !== connection.sphereBaseUrl ? { sphereBaseUrl: baseUrls.sphereBaseUrl } : {}),
    ...(input.taxCodes
      ? {
          taxCodes: {
            default: input.taxCodes.default ?? connection.taxCodes.default,
            byTaxCategory: input.taxCodes.byTaxCategory ?? connection.taxCodes.byTaxCategory,
          },
        }
      : {}),
    ...(input.options
      ? {
          options: {
            recordTransactions: input.options.recordTransactions ?? connection.options.recordTransactions,
            calculateOnDraft: input.options.calculateOnDraft ?? connection.options.calculateOnDraft,
            ...definedOnly({ allowBesideNativeIntegration: input.options.allowBesideNativeIntegration ?? connection.options.allowBesideNativeIntegration }),
          },
        }
      : {}),
  };
  let updated = await deps.connections.update(connection.id, fields);

  if (!updated.notificationPolicyId && secrets) {
    // The policy was never registered (ERROR after create): try again now.
    const publicUrl = requirePublicUrl(deps.config);
    const clients = deps.clientsFor({
      connectionId: connection.id,
      sequence: { baseUrl: updated.sequenceBaseUrl, ...secrets.sequence },
      sphere: { baseUrl: updated.sphereBaseUrl, apiKey: secrets.sphere.apiKey },
    });
    updated = await activate(deps, updated, clients.sequence, publicUrl, secrets.webhookSigningSecret);
    if (updated.status === 'ACTIVE' && updated.backfill.state === 'NOT_STARTED') updated = await queueBackfill(deps, updated, 'admin');
  } else if (updated.status === 'ERROR' && (sequenceChanged || sphereChanged)) {
    // The credentials were just proven and the policy exists: the connection works again.
    updated = await deps.connections.setStatus(connection.id, 'ACTIVE');
  }
  return updated;
}
