/**
 * One way to start the stack in a process: the `npm start` composition (local/wiring.ts routes and
 * queues, both simulators, the embedded emulators) on free ports, with throwaway data, for tests,
 * benchmarks, fuzzing and the demo. Callers change only what their purpose needs (a queue's handler
 * or timeouts, simulator limits, extra handler environment); everything else is the deployed wiring.
 *
 * It also applies the one DNS fix every in-process stack needs: fauxqs hands out
 * `sqs.<region>.localhost` queue URLs, which not every resolver maps to 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AdminClient } from '../cli/client';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from './runtime';
import { loadFauxqs } from './runtime/esm';
import type { HttpRoute, QueueBinding } from './runtime/types';
import { type SequenceSimulator, type SequenceSimulatorOptions, startSequenceSimulator } from './sequence-sim/server';
import { type SphereSimulator, type SphereSimulatorOptions, startSphereSimulator } from './sphere-sim/server';
import { queues as wiredQueues, routes as wiredRoutes } from './wiring';

/** The simulators' documented defaults (architecture §5.4); safe to show. */
export const SIM_DEFAULTS = { sequenceClientId: 'local-client', sequenceClientSecret: 'local-secret', sphereApiKey: 'sph_test_local' } as const;

export interface StackOptions {
  /** Front door port (default 0: any free port). */
  port?: number;
  /** Change one queue's binding (its handler, timeouts, concurrency); called for every wired queue. */
  queue?: (binding: QueueBinding) => QueueBinding;
  /** The routes to host instead of the wiring's (a preset that exercises only part of the API). */
  routes?: HttpRoute[];
  /** Sequence simulator options (default: the simulator's credentials, any free port). */
  sequence?: SequenceSimulatorOptions;
  /** Sphere simulator options (default: the simulator's API key, any free port). */
  sphere?: SphereSimulatorOptions;
  /** Passed to the runtime as they are (env, log, pollWaitSeconds, recordAwsCalls, adminToken, …). */
  runtime?: Omit<LocalRuntimeOptions, 'routes' | 'queues' | 'simulators' | 'dataDir' | 'port' | 'inMemory'>;
}

export interface Stack {
  runtime: LocalRuntime;
  sequence: SequenceSimulator;
  sphere: SphereSimulator;
  /** The operator CLI's client, authorised with the runtime's admin token. */
  admin: AdminClient;
  /** Stops the runtime, the simulators and the DNS fix, and deletes the data; safe to call twice. */
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'sphere-connector-stack-'));
  const { interceptLocalhostDns } = await loadFauxqs();
  const restoreDns = interceptLocalhostDns();
  let sequence: SequenceSimulator | undefined;
  let sphere: SphereSimulator | undefined;
  let runtime: LocalRuntime | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // The runtime stops the simulators it was handed; before that, they are stopped here.
    if (runtime) await runtime.stop().catch(() => undefined);
    else {
      await sequence?.stop().catch(() => undefined);
      await sphere?.stop().catch(() => undefined);
    }
    restoreDns();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    sequence = await startSequenceSimulator({ port: 0, clientId: SIM_DEFAULTS.sequenceClientId, clientSecret: SIM_DEFAULTS.sequenceClientSecret, ...options.sequence });
    sphere = await startSphereSimulator({ port: 0, apiKeys: [SIM_DEFAULTS.sphereApiKey], ...options.sphere });
    const seq = sequence;
    const sph = sphere;
    runtime = await startLocalRuntime({
      pollWaitSeconds: 1,
      ...options.runtime,
      port: options.port ?? 0,
      dataDir,
      inMemory: true,
      routes: options.routes ?? wiredRoutes,
      queues: options.queue ? wiredQueues.map(options.queue) : wiredQueues,
      // Handed over so the runtime stops them with everything else (and reports them in /health).
      simulators: {
        sequence: { start: async () => ({ url: seq.url, apiUrl: seq.apiUrl, stop: () => seq.stop() }) },
        sphere: { start: async () => ({ url: sph.url, stop: () => sph.stop() }) },
      },
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { runtime, sequence, sphere, admin: new AdminClient({ baseUrl: runtime.url, token: runtime.adminToken }), stop };
}
