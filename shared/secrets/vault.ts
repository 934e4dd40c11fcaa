/**
 * The credential vault port: one secret per connection holding everything the connector needs to
 * act for that merchant. Adapters: AWS Secrets Manager (deployed) and a local file vault
 * (`npm start`, tests). No message produced here ever contains a secret value.
 */
import * as z from 'zod';
import { UserActionRequiredError } from '../domain/errors';
import { isConnectionId } from '../domain/ids';

export const ConnectionSecretsSchema = z.object({
  sequence: z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) }),
  sphere: z.object({ apiKey: z.string().min(1) }),
  webhookSigningSecret: z.string().min(1),
});

export interface ConnectionSecrets {
  sequence: { clientId: string; clientSecret: string };
  sphere: { apiKey: string };
  webhookSigningSecret: string;
}

export interface GetSecretsOptions {
  /** Bypass the cache (after an upstream auth failure, so a rotated credential is picked up). */
  forceRefresh?: boolean;
}

export interface CredentialVault {
  /** The connection's secrets; ConnectionSecretMissingError when absent or scheduled for deletion. */
  get(connectionId: string, opts?: GetSecretsOptions): Promise<ConnectionSecrets>;
  /** Create or replace the connection's secrets. */
  put(connectionId: string, secrets: ConnectionSecrets): Promise<void>;
  /** Disconnect: the secret stops being readable now and is deleted after the recovery window. */
  scheduleDeletion(connectionId: string, recoveryWindowDays: number): Promise<void>;
}

/** The stored secret for a connection is missing, scheduled for deletion, or unreadable. */
export class ConnectionSecretMissingError extends UserActionRequiredError {
  readonly connectionId: string;
  constructor(connectionId: string, reason: 'not_found' | 'scheduled_for_deletion' | 'invalid', options: { cause?: unknown } = {}) {
    const what =
      reason === 'not_found'
        ? 'no stored credentials'
        : reason === 'scheduled_for_deletion'
          ? 'credentials that are scheduled for deletion (the connection was disconnected)'
          : 'stored credentials that are not in the expected shape';
    super('connection_secret_missing', `Connection ${connectionId} has ${what}`, {
      fix: 'Reconnect the merchant (POST /connections) or update its credentials (PATCH /connections/{id})',
      ...(options.cause !== undefined ? { cause: options.cause } : {}),
    });
    this.connectionId = connectionId;
  }
}

/** Parse a stored secret; a shape mismatch reports field paths only, never values. */
export function parseConnectionSecrets(connectionId: string, value: unknown): ConnectionSecrets {
  const parsed = ConnectionSecretsSchema.safeParse(value);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(root)').join(', ');
    throw new ConnectionSecretMissingError(connectionId, 'invalid', { cause: new Error(`invalid fields: ${fields}`) });
  }
  return parsed.data;
}

/** Connection ids become file names and secret names: keep them boring. */
export function assertValidConnectionId(connectionId: string): void {
  if (!isConnectionId(connectionId)) {
    throw new UserActionRequiredError('invalid_connection_id', 'Connection id must be 1-128 letters, digits, "_" or "-"', {
      fix: 'Use the id returned by POST /connections',
    });
  }
}
