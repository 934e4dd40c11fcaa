/**
 * The Secrets Manager adapter against a small fake Secrets Manager over node:http
 * (test/support/fake-secrets-manager.ts): create-or-put, cached reads through Powertools, forceRefresh,
 * scheduled deletion, and errors that never carry a secret value.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AddressInfo } from 'node:net';
import { SecretsManagerVault, type ConnectionSecrets } from '../../../shared/secrets';
import { fakeSecretsManager } from '../../support/fake-secrets-manager';

const fake = fakeSecretsManager();
let client: SecretsManagerClient;

beforeAll(async () => {
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  client = new SecretsManagerClient({ endpoint, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});

afterAll(async () => {
  client.destroy();
  await new Promise<void>((resolve) => fake.server.close(() => resolve()));
});

beforeEach(() => {
  fake.secrets.clear();
  fake.calls.length = 0;
});

const PREFIX = 'sphere-connector/sandbox/connections/';
const secrets: ConnectionSecrets = {
  sequence: { clientId: 'cid', clientSecret: 'SEQ-SECRET-VALUE' },
  sphere: { apiKey: 'sph_test_SECRET_VALUE' },
  webhookSigningSecret: 'WHSEC-SECRET-VALUE',
};
const count = (target: string) => fake.calls.filter((c) => c.target === target).length;

it('creates the secret on first put, then puts new values; names it prefix + connection id', async () => {
  const vault = new SecretsManagerVault({ prefix: PREFIX, client });
  await vault.put('con_1', secrets);
  expect(fake.calls.map((c) => c.target)).toEqual(['PutSecretValue', 'CreateSecret']);
  expect(fake.secrets.has(`${PREFIX}con_1`)).toBe(true);
  expect(JSON.parse(fake.secrets.get(`${PREFIX}con_1`)!.value)).toEqual(secrets);
  await vault.put('con_1', { ...secrets, sphere: { apiKey: 'sph_test_ROTATED' } });
  expect(count('CreateSecret')).toBe(1);
  expect(fake.secrets.get(`${PREFIX}con_1`)!.versions).toBe(2);
});

it('reads through the Powertools cache; forceRefresh re-fetches (rotation without redeploy)', async () => {
  const vault = new SecretsManagerVault({ prefix: PREFIX, client, maxAgeSeconds: 300 });
  await vault.put('con_1', secrets);
  expect(await vault.get('con_1')).toEqual(secrets);
  expect(await vault.get('con_1')).toEqual(secrets);
  expect(count('GetSecretValue')).toBe(1);

  // Someone rotates the key out of band (console, another Lambda): the cache still has the old one…
  fake.secrets.get(`${PREFIX}con_1`)!.value = JSON.stringify({ ...secrets, sphere: { apiKey: 'sph_test_NEW' } });
  expect((await vault.get('con_1')).sphere.apiKey).toBe('sph_test_SECRET_VALUE');
  expect(count('GetSecretValue')).toBe(1);
  // …until the caller saw an auth failure and forces a refresh.
  expect((await vault.get('con_1', { forceRefresh: true })).sphere.apiKey).toBe('sph_test_NEW');
  expect(count('GetSecretValue')).toBe(2);
  expect((await vault.get('con_1')).sphere.apiKey).toBe('sph_test_NEW');
  expect(count('GetSecretValue')).toBe(2);
});

it('a put through the vault is visible to the next read (cache cleared)', async () => {
  const vault = new SecretsManagerVault({ prefix: PREFIX, client });
  await vault.put('con_1', secrets);
  await vault.get('con_1');
  await vault.put('con_1', { ...secrets, webhookSigningSecret: 'whsec_new' });
  expect((await vault.get('con_1')).webhookSigningSecret).toBe('whsec_new');
});

it('a missing secret is connection_secret_missing (user kind)', async () => {
  const vault = new SecretsManagerVault({ prefix: PREFIX, client });
  await expect(vault.get('ghost')).rejects.toMatchObject({ kind: 'user', code: 'connection_secret_missing' });
});

it('scheduleDeletion calls DeleteSecret with the recovery window; get then fails; put restores', async () => {
  const vault = new SecretsManagerVault({ prefix: PREFIX, client });
  await vault.put('con_1', secrets);
  await vault.get('con_1');
  await vault.scheduleDeletion('con_1', 7);
  await vault.scheduleDeletion('con_1', 7); // already scheduled: no error
  expect(fake.secrets.get(`${PREFIX}con_1`)!.deletedAt).toBeTruthy();
  const error = await vault.get('con_1').catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 'connection_secret_missing' });
  expect((error as Error).message).toMatch(/scheduled for deletion/);
  await vault.put('con_1', secrets);
  expect(count('RestoreSecret')).toBe(1);
  expect(await vault.get('con_1')).toEqual(secrets);
});

it('never leaks a secret value in errors (unparseable or wrongly shaped secret)', async () => {
  const vault = new SecretsManagerVault({ prefix: PREFIX, client });
  fake.secrets.set(`${PREFIX}bad_json`, { value: 'SEQ-SECRET-VALUE not json', versions: 1 });
  fake.secrets.set(`${PREFIX}bad_shape`, { value: JSON.stringify({ sphere: { apiKey: 'sph_test_SECRET_VALUE' } }), versions: 1 });
  for (const id of ['bad_json', 'bad_shape']) {
    const error = await vault.get(id).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'connection_secret_missing' });
    const text = `${String(error)} ${JSON.stringify(error)} ${String((error as Error).cause ?? '')}`;
    expect(text).not.toMatch(/SECRET-VALUE|SECRET_VALUE/);
  }
});

it('works with zero code change through AWS_ENDPOINT_URL_SECRETS_MANAGER', async () => {
  const saved = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
  try {
    const vault = new SecretsManagerVault({ prefix: PREFIX }); // default client, endpoint from env
    await vault.put('con_env', secrets);
    expect(await vault.get('con_env')).toEqual(secrets);
  } finally {
    if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    else process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = saved;
  }
});
