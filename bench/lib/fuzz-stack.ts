/**
 * The stack the fuzzers hit: the connector's real HTTP surface (local/wiring.ts routes: webhook
 * ingest and the admin API through the local front door), both simulators, and queue bindings
 * whose consumer only records (bench/lib/fuzz-recorder.ts), so every message put on a queue is
 * counted and nothing acts on it. One ACTIVE connection (created through POST /connections, its
 * webhook signing secret read back from the Sequence simulator's policy) and one DISCONNECTED one.
 */
import { randomBytes } from 'node:crypto';
import { type LocalRuntime } from '../../local/runtime';
import { SIM_SEQUENCE_ACCOUNT_ID, type SequenceSimulator } from '../../local/sequence-sim/server';
import { type SphereSimulator } from '../../local/sphere-sim/server';
import { startStack } from '../../local/stack';
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
  const stack = await startStack({
    // A high per-key limit: the fuzzer's valid POST /connections bodies check the credentials many times.
    sequence: { clientId: secrets.clientId, clientSecret: secrets.clientSecret, rateLimitPerMinute: 100_000, webhookRetryDelaysMs: [100] },
    sphere: { apiKeys: [secrets.sphereKey], writeLimitPerSecond: 1000, readLimitPerSecond: 1000 },
    queue: (q) => ({ ...q, visibilityTimeoutSeconds: 30, timeoutSeconds: 30, load: () => import('./fuzz-recorder') }),
    runtime: { log: (line) => capture.push(line), env: { POWERTOOLS_DEV: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' } },
  });
  const { runtime, sequence, sphere } = stack;
  try {
    const create = async (name: string): Promise<string> => {
      const body = { name, sequence: { environment: 'sandbox', clientId: secrets.clientId, clientSecret: secrets.clientSecret }, sphere: { apiKey: secrets.sphereKey }, taxCodes: { default: 'txcd_10000000' } };
      const created = await stack.admin.request<{ id?: string; status?: string }>('POST', '/connections', body);
      if (created.status !== 201 || created.body.status !== 'ACTIVE' || !created.body.id) throw new Error(`POST /connections → ${created.status} ${JSON.stringify(created.body)}`);
      return created.body.id;
    };
    const disconnectedId = await create('Fuzz (disconnected)');
    const deleted = await stack.admin.request('DELETE', `/connections/${disconnectedId}`);
    if (deleted.status !== 200) throw new Error(`DELETE /connections → ${deleted.status}`);
    const connectionId = await create('Fuzz merchant');
    const policy = Object.values(sequence.state.policies).find((p) => p.recipients.some((r) => r.endsWith(`/webhooks/sequence/${connectionId}`)));
    if (!policy?.webhookSecret) throw new Error('The webhook policy of the fuzz connection was not registered');
    await runtime.drain({ timeoutMs: 30_000 });
    const arnToName = new Map(Object.entries(runtime.queueArns).map(([name, arn]) => [arn, name]));
    return {
      runtime,
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
      stop: stack.stop,
    };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}
