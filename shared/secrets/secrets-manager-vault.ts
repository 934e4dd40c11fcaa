/**
 * AWS Secrets Manager adapter of the credential vault. Secret name = `${prefix}${connectionId}`
 * (prefix e.g. `sphere-connector/sandbox/connections/`, which the IAM policy scopes to). Reads go
 * through the Powertools SecretsProvider cache (`maxAge` ~300 s, JSON transform); `forceRefresh`
 * bypasses it (`forceFetch`) so a credential rotated after an upstream auth failure is picked up
 * without a redeploy. Error messages carry names and AWS error codes only, never a value (a JSON
 * parse error message can quote the input, so it is never passed on).
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { instrumentAwsClient } from '../runtime/aws-clients';
import { ConnectorBugError, RetryableUpstreamError } from '../domain/errors';
import { type ConnectionSecrets, ConnectionSecretMissingError, type CredentialVault, type GetSecretsOptions, assertValidConnectionId, parseConnectionSecrets } from './vault';

export interface SecretsManagerVaultOptions {
  /** Name prefix, e.g. `sphere-connector/sandbox/connections/`. */
  prefix: string;
  client?: SecretsManagerClient;
  /** Cache lifetime of a read secret, seconds (default 300; 0: no cache, every read goes to Secrets Manager). */
  maxAgeSeconds?: number;
  /** Tags put on newly created secrets. */
  tags?: Record<string, string>;
  /** KMS key for new secrets (default: the AWS managed key). */
  kmsKeyId?: string;
}

function errorName(error: unknown): string {
  if (error && typeof error === 'object') {
    const e = error as { name?: unknown; __type?: unknown };
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
    if (typeof e.__type === 'string') return e.__type.split('#').pop() ?? e.__type;
  }
  return 'UnknownError';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : '';
}

function isMarkedForDeletion(error: unknown): boolean {
  return errorName(error) === 'InvalidRequestException' && /marked for deletion|scheduled for deletion|deleted/i.test(errorMessage(error));
}

const RETRYABLE = new Set(['ThrottlingException', 'InternalServiceError', 'InternalServiceErrorException', 'ServiceUnavailableException', 'TimeoutError', 'RequestTimeout']);

function isRetryable(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const code = (error as { code?: unknown } | undefined)?.code;
  return RETRYABLE.has(errorName(error)) || (status !== undefined && status >= 500) || (typeof code === 'string' && /^E(CONNREFUSED|CONNRESET|TIMEDOUT|PIPE|AI_AGAIN)$/.test(code));
}

export class SecretsManagerVault implements CredentialVault {
  readonly prefix: string;
  private readonly client: SecretsManagerClient;
  private readonly provider: SecretsProvider;
  private readonly maxAgeSeconds: number;

  constructor(private readonly options: SecretsManagerVaultOptions) {
    this.prefix = options.prefix;
    this.client = options.client ?? instrumentAwsClient(new SecretsManagerClient({}));
    this.provider = new SecretsProvider({ awsSdkV3Client: this.client });
    this.maxAgeSeconds = options.maxAgeSeconds ?? 300;
  }

  secretName(connectionId: string): string {
    assertValidConnectionId(connectionId);
    return `${this.prefix}${connectionId}`;
  }

  async get(connectionId: string, opts: GetSecretsOptions = {}): Promise<ConnectionSecrets> {
    const name = this.secretName(connectionId);
    let value: unknown;
    try {
      value = await this.provider.get(name, { maxAge: this.maxAgeSeconds, transform: 'json', forceFetch: opts.forceRefresh === true || this.maxAgeSeconds === 0 });
    } catch (error) {
      throw this.mapReadError(connectionId, error);
    }
    if (value === undefined) throw new ConnectionSecretMissingError(connectionId, 'not_found');
    return parseConnectionSecrets(connectionId, value);
  }

  private mapReadError(connectionId: string, error: unknown): Error {
    // Powertools wraps SDK errors in GetParameterError with the SDK error as `cause`; a
    // TransformParameterError (bad JSON) has no cause and its message may quote the value.
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
    const name = errorName(cause);
    if (name === 'TransformParameterError') return new ConnectionSecretMissingError(connectionId, 'invalid');
    if (name === 'ResourceNotFoundException') return new ConnectionSecretMissingError(connectionId, 'not_found');
    if (isMarkedForDeletion(cause)) return new ConnectionSecretMissingError(connectionId, 'scheduled_for_deletion');
    if (isRetryable(cause)) return new RetryableUpstreamError('secrets_unavailable', `Secrets Manager did not answer for connection ${connectionId} (${name})`);
    return new ConnectorBugError('secrets_read_failed', `Reading the secret of connection ${connectionId} failed (${name})`);
  }

  async put(connectionId: string, secrets: ConnectionSecrets): Promise<void> {
    const name = this.secretName(connectionId);
    const SecretString = JSON.stringify(parseConnectionSecrets(connectionId, secrets));
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString }));
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') {
        await this.create(connectionId, name, SecretString);
      } else if (isMarkedForDeletion(error)) {
        // Reconnecting a disconnected merchant inside the recovery window.
        await this.send(connectionId, 'restore', () => this.client.send(new RestoreSecretCommand({ SecretId: name })));
        await this.send(connectionId, 'write', () => this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString })));
      } else {
        throw this.mapWriteError(connectionId, 'write', error);
      }
    }
    // A later read must see the new value, not the cached old one.
    this.provider.clearCache();
  }

  private async create(connectionId: string, name: string, SecretString: string): Promise<void> {
    try {
      await this.client.send(
        new CreateSecretCommand({
          Name: name,
          SecretString,
          Description: `Sequence/Sphere credentials of connector connection ${connectionId}`,
          ...(this.options.kmsKeyId ? { KmsKeyId: this.options.kmsKeyId } : {}),
          Tags: Object.entries({ connectionId, ...(this.options.tags ?? {}) }).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    } catch (error) {
      // Created concurrently since our PutSecretValue: write the value instead.
      if (errorName(error) === 'ResourceExistsException') {
        await this.send(connectionId, 'write', () => this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString })));
        return;
      }
      throw this.mapWriteError(connectionId, 'create', error);
    }
  }

  async scheduleDeletion(connectionId: string, recoveryWindowDays: number): Promise<void> {
    if (!Number.isInteger(recoveryWindowDays) || recoveryWindowDays < 7 || recoveryWindowDays > 30) {
      throw new RangeError('recoveryWindowDays must be an integer from 7 to 30');
    }
    const name = this.secretName(connectionId);
    try {
      await this.client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: recoveryWindowDays }));
    } catch (error) {
      if (isMarkedForDeletion(error)) return; // already scheduled
      if (errorName(error) === 'ResourceNotFoundException') throw new ConnectionSecretMissingError(connectionId, 'not_found');
      throw this.mapWriteError(connectionId, 'delete', error);
    }
    this.provider.clearCache();
  }

  private async send<T>(connectionId: string, action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.mapWriteError(connectionId, action, error);
    }
  }

  private mapWriteError(connectionId: string, action: string, error: unknown): Error {
    const name = errorName(error);
    if (isRetryable(error)) return new RetryableUpstreamError('secrets_unavailable', `Secrets Manager did not answer (${action} secret of connection ${connectionId}: ${name})`);
    return new ConnectorBugError('secrets_write_failed', `Could not ${action} the secret of connection ${connectionId} (${name})`);
  }
}
