import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { type Connection, DEFAULT_OPTIONS, zeroCounts } from '../../../shared/domain/connection';
import { loadConfig } from '../../../shared/runtime/config';
import { createDependencies } from '../../../shared/runtime/dependencies';
import { type ConnectionSecrets, type CredentialVault } from '../../../shared/secrets/vault';

const connection: Connection = {
  id: 'conn_1', name: 'acme', status: 'ACTIVE', environment: 'sandbox', sequenceAccountId: 'acc',
  sequenceBaseUrl: 'http://sequence.test/api', sphereBaseUrl: 'http://sphere.test',
  taxCodes: { default: 'txcd_10000000', byTaxCategory: {} }, options: DEFAULT_OPTIONS, counts: zeroCounts(),
  backfill: { state: 'NOT_STARTED', done: 0, total: 0 }, createdAt: '2026-11-21T00:00:00Z', updatedAt: '2026-11-21T00:00:00Z',
};

function secrets(apiKey: string): ConnectionSecrets {
  return { sequence: { clientId: 'id', clientSecret: 'secret' }, sphere: { apiKey }, webhookSigningSecret: 'whsec_x' };
}

/** A vault whose cached copy is stale: only a forced refresh sees the rotated key. */
function rotatedVault() {
  const reads: boolean[] = [];
  const vault: CredentialVault = {
    get: async (_id, opts) => {
      reads.push(opts?.forceRefresh === true);
      return secrets(opts?.forceRefresh ? 'sph_new' : 'sph_old');
    },
    put: async () => undefined,
    scheduleDeletion: async () => undefined,
  };
  return { vault, reads };
}

/** Sphere accepts only the new key. */
const sphereFetch = (async (_url: string | URL | Request, init?: RequestInit) => {
  const key = (init?.headers as Record<string, string>)['X-API-KEY'] ?? (init?.headers as Record<string, string>)['x-api-key'];
  return key === 'sph_new'
    ? new Response(JSON.stringify({ detail: 'Not found.' }), { status: 404 })
    : new Response(JSON.stringify({ type: 'api_error', code: 'unauthorized_access', message: 'Invalid API key.' }), { status: 401 });
}) as typeof fetch;

const config = loadConfig({ CONNECTOR_TABLE_NAME: 't', IDEMPOTENCY_TABLE_NAME: 'i', STAGE: 'test', SECRETS_BACKEND: 'local-vault' });

describe('withUpstream: credential rotation without a redeploy', () => {
  it('re-reads the secret past the cache once when the upstream rejects the cached credential', async () => {
    const { vault, reads } = rotatedVault();
    const deps = createDependencies(config, { vault, fetch: sphereFetch, sleep: async () => undefined });
    const used: string[] = [];
    const result = await deps.withUpstream(connection, async ({ sphere }) => {
      used.push(sphere.keyFingerprint.slice(0, 8));
      return sphere.verifyKey();
    });
    expect(result).toEqual({ ok: true });
    expect(reads).toEqual([false, true]);
    expect(new Set(used).size).toBe(2);
  });

  const revokedVault: CredentialVault = { get: async () => secrets('sph_revoked'), put: async () => undefined, scheduleDeletion: async () => undefined };
  const table = mockClient(DynamoDBDocumentClient);
  afterEach(() => table.reset());
  afterAll(() => table.restore());

  /** Updates of the connection record (the shared upstream pace also updates its own RATE# items). */
  const connectionUpdates = () => table.commandCalls(UpdateCommand).filter((call) => String(call.args[0].input.Key?.PK).startsWith('CONN#'));

  it('does not loop: a credential still rejected after the refresh surfaces as the user error, and is recorded on the connection', async () => {
    table.on(UpdateCommand).resolves({});
    const deps = createDependencies(config, { vault: revokedVault, fetch: sphereFetch, sleep: async () => undefined });
    let attempts = 0;
    await expect(
      deps.withUpstream(connection, async ({ sphere }) => {
        attempts++;
        return sphere.verifyKey();
      }),
    ).rejects.toMatchObject({ kind: 'user', code: 'sphere_credentials_rejected' });
    expect(attempts).toBe(2);
    // ACTIVE → ERROR with the reason, in one conditional update (the integration test reads it back).
    const updates = connectionUpdates();
    expect(updates).toHaveLength(1);
    const input = updates[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('#status = :active');
    expect(input.ExpressionAttributeValues?.[':e']).toMatchObject({ code: 'sphere_credentials_rejected', message: expect.stringMatching(/^Sphere refused the stored credentials/), at: expect.any(String) });
    expect(JSON.stringify(input)).not.toContain('sph_revoked');
  });

  it('a failure to record the refusal does not hide the upstream error', async () => {
    table.on(UpdateCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    const deps = createDependencies(config, { vault: revokedVault, fetch: sphereFetch, sleep: async () => undefined });
    await expect(deps.withUpstream(connection, async ({ sphere }) => sphere.verifyKey())).rejects.toMatchObject({ code: 'sphere_credentials_rejected' });
    expect(connectionUpdates()).toHaveLength(1);
  });

  it('does not re-read the secret for other errors', async () => {
    const { vault, reads } = rotatedVault();
    const deps = createDependencies(config, { vault, fetch: sphereFetch, sleep: async () => undefined });
    await expect(deps.withUpstream(connection, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(reads).toEqual([false]);
  });
});

describe('prefetchCredentials: the secret read beside the connection lookup', () => {
  it('withUpstream uses the read started ahead instead of reading again', async () => {
    const { vault, reads } = rotatedVault();
    const deps = createDependencies(config, { vault, fetch: sphereFetch, sleep: async () => undefined });
    deps.prefetchCredentials(connection.id);
    await deps.withUpstream(connection, async ({ sphere }) => sphere.keyFingerprint);
    expect(reads).toEqual([false]);
    // The prefetched read is used once; then withUpstream reads for itself.
    await deps.withUpstream(connection, async ({ sphere }) => sphere.keyFingerprint);
    expect(reads).toEqual([false, false]);
  });

  it('a failed prefetch (unknown connection) is silent; for a known one withUpstream throws the vault error', async () => {
    const missing: CredentialVault = { get: async () => { throw new Error('no stored credentials'); }, put: async () => undefined, scheduleDeletion: async () => undefined };
    const deps = createDependencies(config, { vault: missing, fetch: sphereFetch, sleep: async () => undefined });
    deps.prefetchCredentials('conn_unknown');
    deps.prefetchCredentials(connection.id);
    await expect(deps.withUpstream(connection, async () => 'reached')).rejects.toThrow('no stored credentials');
  });
});
