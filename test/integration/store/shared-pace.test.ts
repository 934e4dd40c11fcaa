/**
 * Upstream budgets shared across processes, on DynamoDB (dynalite): separate gates for one scope
 * (as in separate Lambda instances) hand out distinct slots one interval apart after the burst, and
 * two "instances" of the Sphere client writing for one key at once stay inside Sphere's 10
 * writes/s with the gates, where without them they draw 429s from the simulator. A burst-friendly
 * pace (Sequence's) reserves the next calls' slots ahead when told they are coming (prepare), which
 * the synchronous tax routes do beside the connection lookup (Dependencies.prefetchCredentials).
 */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type EmbeddedDynamo, startDynamo } from '../../../local/runtime/dynamo';
import { type SphereSimulator, startSphereSimulator } from '../../../local/sphere-sim/server';
import { TokenBucketRateLimiter } from '../../../shared/http/rate-limiter';
import { type UpstreamCallRecord } from '../../../shared/http/upstream-http';
import { SPHERE_V1_WRITE_PACE, SphereClient } from '../../../shared/sphere';
import { type Connection, DEFAULT_OPTIONS, zeroCounts } from '../../../shared/domain/connection';
import { loadConfig } from '../../../shared/runtime/config';
import { createDependencies } from '../../../shared/runtime/dependencies';
import { type CredentialVault } from '../../../shared/secrets/vault';
import { credentialFingerprint } from '../../../shared/sequence';
import { DynamoSharedPace, RATE_PACE_SK, dynamoRateGates, ratePk } from '../../../shared/store/shared-pace';
import { eventually } from '../../support/eventually';

let dynamo: EmbeddedDynamo;
let db: DynamoDBDocumentClient;
let sphere: SphereSimulator;
const KEY = 'sph_test_rate_windows';

beforeAll(async () => {
  dynamo = await startDynamo();
  db = DynamoDBDocumentClient.from(dynamo.client);
  sphere = await startSphereSimulator({ port: 0, apiKeys: [KEY] });
});

afterAll(async () => {
  await sphere?.stop();
  await dynamo?.stop();
});

it('separate gates for one scope hand out slots one interval apart between them, after the burst', async () => {
  // A frozen clock and a sleep that only notes when the call would go: the send times are what the
  // shared item handed out, whatever order the concurrent reservations ran in.
  const T0 = 1_700_000_000_000;
  const sendTimes: number[] = [];
  const options = { now: () => T0, sleep: async (ms: number) => void sendTimes.push(T0 + ms) };
  const rate = { limit: 10, intervalMs: 1000, burst: 3 }; // 100 ms apart after 3 at once; 3 slots per reservation
  const instances = [0, 1, 2].map(() => new DynamoSharedPace(db, dynamo.tables.connector, 'test-scope:abc', rate, options));
  await Promise.all(instances.map((gate) => Promise.all(Array.from({ length: 8 }, () => gate.acquire()))));
  const all = [...Array.from({ length: 24 - sendTimes.length }, () => T0), ...sendTimes].sort((a, b) => a - b);
  // The burst goes at once, then never two calls in one interval, across all three "processes".
  expect(all.filter((t) => t === T0)).toHaveLength(3);
  const later = all.filter((t) => t > T0);
  for (const t of later) expect((t - T0) % 100).toBe(0);
  expect(new Set(later).size).toBe(later.length);
  // Each process reserved 9 slots and used 8: the unused ones are gaps, not extra calls.
  expect(Math.max(...later)).toBeLessThanOrEqual(T0 + (27 - 3) * 100);
});

it('a wave of parallel calls waits for one reservation, not one per batch of slots', async () => {
  // Every reservation after the first is held back: the wave must get through on the first one.
  let reservations = 0;
  let letThrough!: () => void;
  const held = new Promise<void>((resolve) => (letThrough = resolve));
  const heldDb = {
    send: async (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
      reservations += 1;
      if (reservations > 1) await held;
      return db.send(command);
    },
  } as unknown as DynamoDBDocumentClient;
  const T0 = 1_700_000_000_000;
  const sequenceLike = { limit: 1475, intervalMs: 60_000, burst: 25 }; // 5 slots per reservation by default
  const gate = new DynamoSharedPace(heldDb, dynamo.tables.connector, 'test-scope:wave', sequenceLike, { now: () => T0, sleep: async () => undefined });
  await Promise.all(Array.from({ length: 8 }, () => gate.acquire()));
  letThrough();
  expect(reservations).toBeGreaterThanOrEqual(1);
}, 10_000);

it('prepare() reserves the next calls\' slots ahead: the calls that follow wait for no round trip of their own', async () => {
  // Every reservation after the first is held back: the calls must get through on the prepared one.
  const sends: Promise<unknown>[] = [];
  let letThrough!: () => void;
  const held = new Promise<void>((resolve) => (letThrough = resolve));
  const heldDb = {
    send: (command: Parameters<DynamoDBDocumentClient['send']>[0]) => {
      sends.push(sends.length === 0 ? db.send(command) : held.then(() => db.send(command)));
      return sends.at(-1)!;
    },
  } as unknown as DynamoDBDocumentClient;
  const sequenceLike = { limit: 1475, intervalMs: 60_000, burst: 25 };
  const gate = new DynamoSharedPace(heldDb, dynamo.tables.connector, 'test-scope:prepare', sequenceLike, { sleep: async () => undefined });

  gate.prepare();
  await eventually('the reservation prepare() started, before any call', () => sends.length === 1, { timeoutMs: 5_000, everyMs: 5 });
  // A tax calculation's first wave and the reads its record foresees (up to 10 calls) resolve only
  // if they need no reservation beyond the prepared one (any later one is held).
  await Promise.all(Array.from({ length: 10 }, () => gate.acquire()));
  letThrough();

  // A strict limit (Sphere's writes) wastes no slots on a guess: its calls reserve their own.
  const strictSends: unknown[] = [];
  const countingDb = { send: (command: Parameters<DynamoDBDocumentClient['send']>[0]) => (strictSends.push(command), db.send(command)) } as unknown as DynamoDBDocumentClient;
  const strict = new DynamoSharedPace(countingDb, dynamo.tables.connector, 'test-scope:prepare-strict', { limit: 10, intervalMs: 1000, burst: 2 }, { sleep: async () => undefined });
  strict.prepare();
  expect(strictSends).toHaveLength(0);
  await strict.acquire();
  expect(strictSends).toHaveLength(1);
});

it('lets calls through, and says so, when the table cannot be used', async () => {
  const problems: unknown[] = [];
  const gate = new DynamoSharedPace(db, 'no-such-table', 'test-scope:down', { limit: 1, intervalMs: 1000 }, { onUnavailable: (e: unknown) => problems.push(e) });
  await gate.acquire();
  await gate.acquire(); // a second call within the interval, but the budget is unknown: not held back
  expect(problems).toHaveLength(2);
  expect(String(problems[0])).toMatch(/ResourceNotFound|non-existent|not found/i);
});

describe('two processes writing to Sphere with one key', () => {
  async function writeFromTwoInstances(label: string, withGates: boolean): Promise<UpstreamCallRecord[]> {
    const calls: UpstreamCallRecord[] = [];
    const gates = withGates ? dynamoRateGates(db, dynamo.tables.connector) : undefined;
    // Each "instance" has its own in-memory bucket, as two Lambda instances do.
    const instance = () =>
      new SphereClient({
        baseUrl: sphere.url,
        apiKey: KEY,
        rateLimiters: { write: new TokenBucketRateLimiter(SPHERE_V1_WRITE_PACE) },
        ...(gates ? { sharedRateGates: gates } : {}),
        onCall: (r) => calls.push(r),
        backoff: { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 1000 },
      });
    const writers = [instance(), instance()];
    await Promise.all(
      writers.map((client, w) =>
        Promise.all(Array.from({ length: 20 }, (_, i) => client.upsertProduct({ externalId: `${label}-${w}-${i}`, name: `Product ${i}`, taxCode: 'txcd_10000000' }))),
      ),
    );
    return calls;
  }

  it('without the shared budget their sum exceeds 10 writes/s and Sphere answers 429', async () => {
    const calls = await writeFromTwoInstances('ungated', false);
    expect(calls.filter((c) => c.status === 429).length).toBeGreaterThan(0);
  });

  it('with it, every write succeeds without a 429', async () => {
    // Start from an empty rate window (the previous case filled it): setting faults clears the windows.
    const cleared = await fetch(`${sphere.url}/_sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(cleared.status).toBe(200);
    const calls = await writeFromTwoInstances('gated', true);
    expect(calls.filter((c) => c.status === 429)).toEqual([]);
    expect(calls.filter((c) => c.status !== undefined && c.status < 300)).toHaveLength(40);
  });
});

describe('the pace warm-up beside the connection lookup (Dependencies.prefetchCredentials)', () => {
  const connection: Connection = {
    id: 'conn_pacewarmup', name: 'acme', status: 'ACTIVE', environment: 'sandbox', sequenceAccountId: 'acc',
    sequenceBaseUrl: 'http://sequence.test/api', sphereBaseUrl: 'http://sphere.test',
    taxCodes: { default: 'txcd_10000000', byTaxCategory: {} }, options: DEFAULT_OPTIONS, counts: zeroCounts(),
    backfill: { state: 'NOT_STARTED', done: 0, total: 0 }, createdAt: '2026-12-03T00:00:00Z', updatedAt: '2026-12-03T00:00:00Z',
  };
  const stored = { sequence: { clientId: 'id_warm', clientSecret: 'secret_warm' }, sphere: { apiKey: 'sph_warm' }, webhookSigningSecret: 'whsec_x' };
  const vault: CredentialVault = { get: async () => stored, put: async () => undefined, scheduleDeletion: async () => undefined };
  const paceItem = () =>
    db.send(new GetCommand({ TableName: dynamo.tables.connector, Key: { PK: ratePk(`sequence:${credentialFingerprint(connection.sequenceBaseUrl, stored.sequence.clientId, stored.sequence.clientSecret)}`), SK: RATE_PACE_SK } }));

  it('reserves the first Sequence calls\' slots for a connection this container has called before, and not for one it has not', async () => {
    const deps = createDependencies(loadConfig({ CONNECTOR_TABLE_NAME: dynamo.tables.connector, IDEMPOTENCY_TABLE_NAME: dynamo.tables.idempotency, STAGE: 'test', SECRETS_BACKEND: 'local-vault' }), { dynamo: dynamo.client, vault });

    deps.prefetchCredentials(connection.id); // never called: the pace's scope (its base URL) is unknown here
    await deps.withUpstream(connection, async () => undefined); // takes that read; no call made
    expect((await paceItem()).Item).toBeUndefined();

    deps.prefetchCredentials(connection.id);
    const item = await eventually('the pace reservation the warm-up started', async () => (await paceItem()).Item);
    expect(Number(item.tat)).toBeGreaterThan(Date.now() - 60_000);
  });
});
