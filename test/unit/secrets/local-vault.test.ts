import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserActionRequiredError } from '../../../shared/domain/errors';
import { loadConfig } from '../../../shared/runtime/config';
import { createVault, ConnectionSecretMissingError, LocalFileVault, SecretsManagerVault, type ConnectionSecrets } from '../../../shared/secrets';

const secrets: ConnectionSecrets = {
  sequence: { clientId: 'client-id-123', clientSecret: 'SUPER-SECRET-sequence' },
  sphere: { apiKey: 'sph_test_SUPERSECRET' },
  webhookSigningSecret: 'whsec_SUPERSECRET',
};
const SECRET_VALUES = ['SUPER-SECRET-sequence', 'sph_test_SUPERSECRET', 'whsec_SUPERSECRET'];

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'vault-')), 'vault');
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

function expectNoSecrets(error: unknown) {
  const text = `${String(error)} ${JSON.stringify(error)} ${JSON.stringify((error as UserActionRequiredError).toJSON?.())}`;
  for (const value of SECRET_VALUES) expect(text).not.toContain(value);
}

describe('LocalFileVault', () => {
  it('round-trips secrets in a 0600 file inside a 0700 directory', async () => {
    const vault = new LocalFileVault({ dir });
    await vault.put('con_1', secrets);
    expect(await vault.get('con_1')).toEqual(secrets);
    expect(await vault.get('con_1', { forceRefresh: true })).toEqual(secrets);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const file = vault.fileFor('con_1');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('writes atomically: no temp files left, an overwrite replaces the whole file', async () => {
    const vault = new LocalFileVault({ dir });
    await vault.put('con_1', secrets);
    const rotated = { ...secrets, sphere: { apiKey: 'sph_test_ROTATED' } };
    await Promise.all([vault.put('con_1', rotated), vault.put('con_1', rotated), vault.put('con_2', secrets)]);
    expect(readdirSync(dir).sort()).toEqual(['con_1.json', 'con_2.json']);
    expect(await vault.get('con_1')).toEqual(rotated);
    expect(JSON.parse(readFileSync(vault.fileFor('con_1'), 'utf8')).createdAt).toBeTruthy();
    expect(statSync(vault.fileFor('con_1')).mode & 0o777).toBe(0o600);
  });

  it('a missing secret is a user error with code connection_secret_missing', async () => {
    const vault = new LocalFileVault({ dir });
    const error = await vault.get('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionSecretMissingError);
    expect(error).toMatchObject({ kind: 'user', code: 'connection_secret_missing' });
  });

  it('scheduleDeletion keeps the file with a deletion date, and get then fails like Secrets Manager', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const vault = new LocalFileVault({ dir, now: () => now });
    await vault.put('con_1', secrets);
    await vault.scheduleDeletion('con_1', 7);
    expect(await vault.deletionDate('con_1')).toBe('2026-01-08T00:00:00.000Z');
    const error = await vault.get('con_1').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'connection_secret_missing' });
    expect((error as Error).message).toMatch(/scheduled for deletion/);
    expectNoSecrets(error);
    await vault.scheduleDeletion('con_1', 30); // idempotent, keeps the first date
    expect(await vault.deletionDate('con_1')).toBe('2026-01-08T00:00:00.000Z');
    await expect(vault.scheduleDeletion('con_1', 3)).rejects.toThrow(RangeError);
    // reconnecting restores it
    await vault.put('con_1', secrets);
    expect(await vault.get('con_1')).toEqual(secrets);
  });

  it('never puts a secret value in an error message (corrupt file, invalid shape)', async () => {
    const vault = new LocalFileVault({ dir });
    await vault.put('con_1', secrets);
    writeFileSync(vault.fileFor('con_1'), `{"secrets": ${JSON.stringify(secrets)}, broken`);
    const corrupt = await vault.get('con_1').catch((e: unknown) => e);
    expect(corrupt).toMatchObject({ code: 'connection_secret_missing' });
    expectNoSecrets(corrupt);

    writeFileSync(vault.fileFor('con_1'), JSON.stringify({ secrets: { ...secrets, sphere: { apiKey: '' }, sequence: { clientSecret: 'SUPER-SECRET-sequence' } } }));
    const invalid = await vault.get('con_1').catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: 'connection_secret_missing' });
    expectNoSecrets(invalid);
    expectNoSecrets((invalid as Error).cause);

    const badPut = await vault.put('con_1', { ...secrets, sphere: { apiKey: '' } }).catch((e: unknown) => e);
    expect(badPut).toBeInstanceOf(ConnectionSecretMissingError);
    expectNoSecrets(badPut);
  });

  it('rejects connection ids that could escape the directory', async () => {
    const vault = new LocalFileVault({ dir });
    await expect(vault.get('../etc/passwd')).rejects.toMatchObject({ code: 'invalid_connection_id' });
  });
});

describe('createVault', () => {
  const base = { CONNECTOR_TABLE_NAME: 't', IDEMPOTENCY_TABLE_NAME: 'i' };
  it('chooses the backend from the configuration', () => {
    expect(createVault(loadConfig({ ...base, SECRETS_BACKEND: 'local-vault', LOCAL_VAULT_DIR: dir }))).toBeInstanceOf(LocalFileVault);
    const sm = createVault(loadConfig({ ...base, SECRETS_PREFIX: 'sphere-connector/sandbox/connections/' }));
    expect(sm).toBeInstanceOf(SecretsManagerVault);
    expect((sm as SecretsManagerVault).secretName('con_1')).toBe('sphere-connector/sandbox/connections/con_1');
  });
});
