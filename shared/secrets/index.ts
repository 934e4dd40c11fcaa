/**
 * Choose the credential vault for this process from the configuration: Secrets Manager when
 * deployed, the local file vault under `npm start` and in tests.
 */
import { type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type ConnectorConfig } from '../runtime/config';
import { LocalFileVault } from './local-vault';
import { SecretsManagerVault } from './secrets-manager-vault';
import { type CredentialVault } from './vault';

export * from './vault';
export { LocalFileVault, DEFAULT_LOCAL_VAULT_DIR } from './local-vault';
export { SecretsManagerVault } from './secrets-manager-vault';

export interface CreateVaultOverrides {
  /** A pre-built client (tracer-captured, or pointed at a fake endpoint). */
  secretsManagerClient?: SecretsManagerClient;
}

export function createVault(config: Pick<ConnectorConfig, 'secrets'>, overrides: CreateVaultOverrides = {}): CredentialVault {
  switch (config.secrets.backend) {
    case 'local-vault':
      return new LocalFileVault({ dir: config.secrets.localVaultDir });
    case 'secrets-manager':
      return new SecretsManagerVault({
        prefix: config.secrets.prefix,
        maxAgeSeconds: config.secrets.cacheSeconds,
        ...(overrides.secretsManagerClient ? { client: overrides.secretsManagerClient } : {}),
      });
  }
}
