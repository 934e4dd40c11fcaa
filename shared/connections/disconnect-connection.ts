/**
 * `DELETE /connections/{id}`: the merchant returns to manual tax. Steps, each idempotent so a
 * second DELETE finishes whatever the first could not:
 *
 *  1. status DISCONNECTED (+ disconnectedAt): from now on webhook ingest refuses its webhooks and
 *     every worker drops its queued messages with a log line (acceptsWork is false)
 *  2. delete the Sequence notification policy (already gone = fine). If Sequence cannot be called,
 *     the disconnect still completes and lastError says which policy to remove by hand
 *  3. schedule deletion of the secret with a recovery window
 *  4. release the Sequence account lock, so the account can be connected again
 *
 * Data in Sequence and Sphere is never touched.
 */
import { type Connection } from '../domain/connection';
import { ConnectorError } from '../domain/errors';
import { type FlowLogger, type SecretStore, type UpstreamRunner } from '../runtime/ports';
import { type SequenceClient } from '../sequence';
import { type ConnectionLookup, type ConnectionRegistry, type ConnectionUpdates } from '../store/ports';
import { ConnectionSecretMissingError } from '../secrets';
import { SECRET_RECOVERY_WINDOW_DAYS } from './create-connection';
import { requireConnection } from './lookup';
import { describeFailure, removeWebhookPolicy } from './webhook-policy';

/** What disconnecting uses: the record and its account lock, the policy removal, the secret's deletion. */
export interface DisconnectConnectionDeps extends UpstreamRunner<{ sequence: Pick<SequenceClient, 'deleteNotificationPolicy'> }> {
  connections: ConnectionLookup & Pick<ConnectionUpdates, 'update'> & Pick<ConnectionRegistry, 'releaseAccount'>;
  vault: Pick<SecretStore, 'scheduleDeletion'>;
  logger: FlowLogger;
}

export async function disconnectConnection(deps: DisconnectConnectionDeps, connectionId: string): Promise<Connection> {
  let connection = await requireConnection(deps, connectionId);
  const firstTime = connection.status !== 'DISCONNECTED';
  if (firstTime) {
    connection = await deps.connections.update(connection.id, { status: 'DISCONNECTED', disconnectedAt: new Date().toISOString() });
    deps.logger.info('Connection disconnected', { connectionId: connection.id });
  }

  if (connection.notificationPolicyId) {
    const policyId = connection.notificationPolicyId;
    try {
      await deps.withUpstream(connection, ({ sequence }) => removeWebhookPolicy(sequence, policyId));
      if (firstTime) deps.logger.info('Webhook policy removed', { connectionId: connection.id, notificationPolicyId: policyId });
    } catch (error) {
      if (error instanceof ConnectionSecretMissingError) {
        // The secret is already scheduled for deletion: an earlier DELETE got past this step.
      } else {
        const failure = describeFailure(error);
        deps.logger.warn('Could not remove the webhook policy', { connectionId: connection.id, notificationPolicyId: policyId, code: failure.code });
        connection = await deps.connections.update(connection.id, {
          lastError: {
            code: 'webhook_policy_not_removed',
            message: `The Sequence webhook policy ${policyId} could not be removed (${failure.code}). Webhooks for this connection are refused; remove the policy in Sequence under Settings → Webhooks.`,
            at: new Date().toISOString(),
          },
        });
      }
    }
  }

  try {
    await deps.vault.scheduleDeletion(connection.id, SECRET_RECOVERY_WINDOW_DAYS);
  } catch (error) {
    if (!(error instanceof ConnectionSecretMissingError)) {
      deps.logger.error('Could not schedule deletion of the connection secret', { connectionId: connection.id, code: error instanceof ConnectorError ? error.code : 'unknown' });
      throw error;
    }
  }
  await deps.connections.releaseAccount(connection);
  return connection;
}
