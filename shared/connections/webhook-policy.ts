/**
 * The Sequence notification policy of a connection: channel WEBHOOK, our URL
 * `${publicUrl}/webhooks/sequence/{connectionId}`, exactly the notification types the connector
 * consumes, and the signing secret the connector generated (so webhook ingest can verify every
 * delivery with the secret from the vault).
 */
import { randomBytes } from 'node:crypto';
import { type Connection } from '../domain/connection';
import { ConnectorError, UserActionRequiredError } from '../domain/errors';
import { type ConnectorConfig } from '../runtime/config';
import { type SequenceClient, SequenceNotFoundError } from '../sequence';
import { CONSUMED_NOTIFICATION_TYPES } from '../webhooks/routing';

/** `whsec_` + 32 random bytes, base64url (Sequence's own secrets look the same). */
export function newWebhookSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export function requirePublicUrl(config: Pick<ConnectorConfig, 'publicUrl'>): string {
  if (!config.publicUrl) {
    throw new UserActionRequiredError('public_url_not_configured', 'CONNECTOR_PUBLIC_URL is not set, so Sequence cannot be told where to send webhooks', {
      fix: 'Set it to the connector API base URL and retry; nothing was stored.',
    });
  }
  return config.publicUrl.replace(/\/+$/, '');
}

export function webhookUrl(publicUrl: string, connectionId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/webhooks/sequence/${encodeURIComponent(connectionId)}`;
}

export function policyName(connectionId: string): string {
  return `Sphere tax connector (${connectionId})`;
}

/**
 * Register the policy. Policies already pointing at this connection's URL (a lost response of an
 * earlier attempt) are removed first, so a retry never leaves two policies sending twice.
 */
export async function registerWebhookPolicy(sequence: SequenceClient, connection: Pick<Connection, 'id'>, publicUrl: string, webhookSigningSecret: string): Promise<string> {
  const url = webhookUrl(publicUrl, connection.id);
  const existing = await sequence.listNotificationPolicies();
  for (const policy of existing) {
    if (policy.recipients.includes(url)) await removeWebhookPolicy(sequence, policy.id);
  }
  const policy = await sequence.createNotificationPolicy({
    name: policyName(connection.id),
    recipients: [url],
    channel: 'WEBHOOK',
    notificationTypes: [...CONSUMED_NOTIFICATION_TYPES],
    webhookSecret: webhookSigningSecret,
  });
  return policy.id;
}

/** Delete the policy; one that is already gone counts as deleted. */
export async function removeWebhookPolicy(sequence: Pick<SequenceClient, 'deleteNotificationPolicy'>, policyId: string): Promise<void> {
  try {
    await sequence.deleteNotificationPolicy(policyId);
  } catch (error) {
    if (error instanceof SequenceNotFoundError) return;
    throw error;
  }
}

/** A short, secret-free description of why a call failed (for `lastError`). */
export function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof ConnectorError) return { code: error.code, message: error.fix ? `${error.message}. ${error.fix}` : error.message };
  return { code: 'internal_error', message: 'unexpected failure (details in the connector log)' };
}
