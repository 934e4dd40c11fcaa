/**
 * The stack the fuzzers hit: the connector's real HTTP surface (local/wiring.ts routes: webhook
 * ingest and the admin API through the local front door), both simulators, and queue bindings
 * whose consumer only records (bench/lib/fuzz-recorder.ts), so every message put on a queue is
 * counted and nothing acts on it. One ACTIVE connection (created through POST /connections, its
 * webhook signing secret read back from the Sequence simulator's policy) and one DISCONNECTED one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type LocalRuntime, startLocalRuntime } from '../../local/runtime';
import { loadFauxqs } from '../../local/runtime/esm';
import { SIM_SEQUENCE_ACCOUNT_ID, type SequenceSimulator, startSequenceSimulator } from '../../local/sequence-sim/server';
import { type SphereSimulator, startSphereSimulator } from '../../local/sphere-sim/server';
import { queues as wiredQueues, routes as wiredRoutes } from '../../local/wiring';
import { type LogCapture } from './chaos-log-capture';
import { recordedMessages } from './fuzz-recorder';

export interface FuzzStack {
  runtime: LocalRuntime;
  sequence: SequenceSimulator;
  sphere: SphereSimulator;
  connectionId: string;
  disconnectedId: string;
  accountId: string;
  webhookSecret: string;
  secrets: { clientId: string; clientSecret: string; sphereKey: string };
  /** Messages recorded per queue name (customer-sync.fifo, …) since the last reset. */
  queued(): Record<string, Record<string, unknown>[]>;
  resetQueued(): void;
  stop(): Promise<void>;
}

export async function startFuzzStack(capture: LogCapture): Promise<FuzzStack> {
  const tag = randomBytes(8).toString('hex');
  const secrets = { clientId: `fuzz-client-${tag}`, clientSecret: `fuzz-secret-${tag}`, sphereKey: `sph_test_fuzz_${tag}` };
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'fuzz-'));
  const { interceptLocalhostDns } = await loadFauxqs();
  const restoreDns = interceptLocalhostDns();
  // A high per-key limit: the fuzzer's valid POST /connections bodies check the credentials many times.
  const sequence = await startSequenceSimulator({ port: 0, clientId: secrets.clientId, clientSecret: secrets.clientSecret, rateLimitPerMinute: 100_000, webhookRetryDelaysMs: [100] });
  const sphere = await startSphereSimulator({ port: 0, apiKeys: [secrets.sphereKey], writeLimitPerSecond: 1000, readLimitPerSecond: 1000 });
  let runtime: LocalRuntime | undefined;
  const cleanup = async () => {
    await runtime?.stop().catch(() => undefined);
    await sequence.stop();
    await sphere.stop();
    restoreDns();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    runtime = await startLocalRuntime({
      port: 0,
      dataDir,
      inMemory: true,
      routes: wiredRoutes,
      queues: wiredQueues.map((q) => ({ ...q, visibilityTimeoutSeconds: 30, timeoutSeconds: 30, load: () => import('./fuzz-recorder') })),
      simulators: {
        sequence: { start: async () => ({ url: sequence.url, apiUrl: sequence.apiUrl, stop: async () => undefined }) },
        sphere: { start: async () => ({ url: sphere.url, stop: async () => undefined }) },
      },
      log: (line) => capture.push(line),
      pollWaitSeconds: 1,
      env: { POWERTOOLS_DEV: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' },
    });
    const rt = runtime;
    const create = async (name: string): Promise<string> => {
      const response = await fetch(`${rt.url}/connections`, {
        method: 'POST',
        headers: { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, sequence: { environment: 'sandbox', clientId: secrets.clientId, clientSecret: secrets.clientSecret }, sphere: { apiKey: secrets.sphereKey }, taxCodes: { default: 'txcd_10000000' } }),
      });
      const body = (await response.json()) as { id?: string; status?: string };
      if (response.status !== 201 || body.status !== 'ACTIVE' || !body.id) throw new Error(`POST /connections → ${response.status} ${JSON.stringify(body)}`);
      return body.id;
    };
    const disconnectedId = await create('Fuzz (disconnected)');
    const deleted = await fetch(`${rt.url}/connections/${disconnectedId}`, { method: 'DELETE', headers: { authorization: `Bearer ${rt.adminToken}` } });
    if (deleted.status !== 200) throw new Error(`DELETE /connections → ${deleted.status}`);
    const connectionId = await create('Fuzz merchant');
    const policy = Object.values(sequence.state.policies).find((p) => p.recipients.some((r) => r.endsWith(`/webhooks/sequence/${connectionId}`)));
    if (!policy?.webhookSecret) throw new Error('The webhook policy of the fuzz connection was not registered');
    await rt.drain({ timeoutMs: 30_000 });
    const arnToName = new Map(Object.entries(rt.queueArns).map(([name, arn]) => [arn, name]));
    return {
      runtime: rt,
      sequence,
      sphere,
      connectionId,
      disconnectedId,
      accountId: SIM_SEQUENCE_ACCOUNT_ID,
      webhookSecret: policy.webhookSecret,
      secrets,
      queued() {
        const out: Record<string, Record<string, unknown>[]> = {};
        for (const m of recordedMessages()) (out[arnToName.get(m.queueArn) ?? m.queueArn] ??= []).push(m.body);
        return out;
      },
      resetQueued() {
        recordedMessages().length = 0;
      },
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
