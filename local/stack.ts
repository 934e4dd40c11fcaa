/**
 * One way to start the stack in a process: the `npm start` composition (local/wiring.ts routes and
 * queues, both simulators, the embedded emulators). `npm start` runs it on fixed ports with the data
 * kept under .local/; tests, benchmarks, fuzzing and the demo run it on free ports with throwaway
 * data. Callers change only what their purpose needs (a queue's handler or timeouts, leaving a queue
 * out, simulator options, extra handler environment); everything else is the deployed wiring.
 *
 * It also applies the one DNS fix every in-process stack needs: fauxqs hands out
 * `sqs.<region>.localhost` queue URLs, which not every resolver maps to 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AdminClient } from '../cli/client';
// Types only: shared/runtime modules build the logger and metrics at module scope from process.env,
// so they are imported (below) only after the runtime has set the handlers' environment.
import type { Dependencies } from '../shared/runtime/dependencies';
import { type LocalRuntime, type LocalRuntimeOptions, type SimulatorStarter, startLocalRuntime } from './runtime';
import { loadFauxqs } from './runtime/esm';
import type { HttpRoute, QueueBinding } from './runtime/types';
import { type SequenceSimulator, type SequenceSimulatorOptions, startSequenceSimulator } from './sequence-sim/server';
import { type ThreadedSequenceSimulator, type ThreadedSphereSimulator, startSimulatorsThread } from './simulators-thread';
import { type SphereSimulator, type SphereSimulatorOptions, startSphereSimulator } from './sphere-sim/server';
import { queues as wiredQueues, routes as wiredRoutes } from './wiring';

/** The simulators' documented defaults (architecture §5.4); safe to show. */
export const SIM_DEFAULTS = { sequenceClientId: 'local-client', sequenceClientSecret: 'local-secret', sphereApiKey: 'sph_test_local' } as const;

export interface StackOptions {
  /** Front door port (default 0: any free port). */
  port?: number;
  host?: string;
  /**
   * Keep the data in this directory across runs (`npm start`; `fresh` wipes it first). Default: a
   * throwaway directory and in-memory DynamoDB, deleted by stop().
   */
  data?: { dir: string; fresh?: boolean };
  /**
   * Change one queue's binding (its handler, timeouts, concurrency), or answer `undefined` to leave
   * the queue out; called for every wired queue.
   */
  queue?: (binding: QueueBinding) => QueueBinding | undefined;
  /** The routes to host instead of the wiring's (a preset that exercises only part of the API). */
  routes?: HttpRoute[];
  /** Sequence simulator options (default: the simulator's credentials, any free port); `false`: no simulator (a real Sequence). */
  sequence?: SequenceSimulatorOptions | false;
  /** Sphere simulator options (default: the simulator's API key, any free port); `false`: no simulator (a real Sphere). */
  sphere?: SphereSimulatorOptions | false;
  /**
   * Both simulators on a worker thread of their own, as the real APIs are other machines (the tax
   * latency bench: local/simulators-thread). Their handles then offer URLs, credentials,
   * `webhooksIdle()` and `stop()` only; control goes through `/_sim/`.
   */
  simulatorsOnThread?: boolean;
  /** Passed to the runtime as they are (env, log, pollWaitSeconds, recordAwsCalls, adminToken, publicUrl, …). */
  runtime?: Omit<LocalRuntimeOptions, 'routes' | 'queues' | 'simulators' | 'dataDir' | 'fresh' | 'port' | 'host' | 'inMemory'>;
}

export interface Stack {
  runtime: LocalRuntime;
  sequence: SequenceSimulator;
  sphere: SphereSimulator;
  /** The connector's dependencies as its handlers build them (store, vault, clients), for set-up and checks. */
  deps: Dependencies;
  /** The operator CLI's client, authorised with the runtime's admin token. */
  admin: AdminClient;
  /** Every webhook delivered and every queue drained, a few rounds (work produces webhooks produces work). */
  settle(options?: { rounds?: number; timeoutMs?: number }): Promise<void>;
  /** Stops the runtime, the simulators and the DNS fix, and deletes throwaway data; safe to call twice. */
  stop(): Promise<void>;
}

/** A stack whose simulators run on their own thread (`simulatorsOnThread`). */
export type ThreadedStack = Omit<Stack, 'sequence' | 'sphere'> & { sequence: ThreadedSequenceSimulator; sphere: ThreadedSphereSimulator };

/** A stack where a simulator may be left out (`sequence: false` / `sphere: false`). */
export type StackWithUpstreams = Omit<Stack, 'sequence' | 'sphere'> & { sequence?: SequenceSimulator; sphere?: SphereSimulator };

/** A queue's binding with a shorter visibility timeout (so a failed message is retried soon); the function timeout never exceeds it. */
export function withVisibilityTimeout(binding: QueueBinding, seconds: number): QueueBinding {
  return { ...binding, visibilityTimeoutSeconds: seconds, timeoutSeconds: Math.min(binding.timeoutSeconds ?? binding.visibilityTimeoutSeconds, seconds) };
}

function simulatorStarter(sim: { url: string; apiUrl?: string; stop(): Promise<void> }): SimulatorStarter {
  return { start: async () => ({ url: sim.url, ...(sim.apiUrl ? { apiUrl: sim.apiUrl } : {}), stop: () => sim.stop() }) };
}

export function startStack(options: StackOptions & { simulatorsOnThread: true; sequence?: SequenceSimulatorOptions; sphere?: SphereSimulatorOptions }): Promise<ThreadedStack>;
export function startStack(options?: StackOptions & { simulatorsOnThread?: false; sequence?: SequenceSimulatorOptions; sphere?: SphereSimulatorOptions }): Promise<Stack>;
export function startStack(options: StackOptions): Promise<StackWithUpstreams>;
export async function startStack(options: StackOptions = {}): Promise<StackWithUpstreams | ThreadedStack> {
  const dataDir = options.data ? path.resolve(options.data.dir) : mkdtempSync(path.join(os.tmpdir(), 'sphere-connector-stack-'));
  const { interceptLocalhostDns } = await loadFauxqs();
  const restoreDns = interceptLocalhostDns();
  let sequence: SequenceSimulator | ThreadedSequenceSimulator | undefined;
  let sphere: SphereSimulator | ThreadedSphereSimulator | undefined;
  let runtime: LocalRuntime | undefined;
  let deps: Dependencies | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (deps) {
      const { flushAuditLog, resetDependencies } = await import('../shared/runtime/dependencies');
      // Audit-log writes run beside the flow: a caller's last direct call may still be writing one.
      await flushAuditLog().catch(() => undefined);
      deps.dynamo.destroy();
      deps.sqs.destroy();
      resetDependencies();
    }
    // The runtime stops the simulators it was handed; before that, they are stopped here.
    if (runtime) await runtime.stop().catch(() => undefined);
    else {
      await sequence?.stop().catch(() => undefined);
      await sphere?.stop().catch(() => undefined);
    }
    restoreDns();
    if (!options.data) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const sequenceOptions = options.sequence === false ? undefined : { port: 0, clientId: SIM_DEFAULTS.sequenceClientId, clientSecret: SIM_DEFAULTS.sequenceClientSecret, ...options.sequence };
    const sphereOptions = options.sphere === false ? undefined : { port: 0, apiKeys: [SIM_DEFAULTS.sphereApiKey], ...options.sphere };
    if (options.simulatorsOnThread) {
      if (!sequenceOptions || !sphereOptions) throw new TypeError('simulatorsOnThread runs both simulators; it cannot leave one out');
      ({ sequence, sphere } = await startSimulatorsThread({ sequence: sequenceOptions, sphere: sphereOptions }));
    } else {
      if (sequenceOptions) sequence = await startSequenceSimulator(sequenceOptions);
      if (sphereOptions) sphere = await startSphereSimulator(sphereOptions);
    }
    runtime = await startLocalRuntime({
      pollWaitSeconds: 1,
      ...options.runtime,
      port: options.port ?? 0,
      ...(options.host ? { host: options.host } : {}),
      dataDir,
      ...(options.data ? { fresh: options.data.fresh ?? false } : { inMemory: true }),
      routes: options.routes ?? wiredRoutes,
      queues: options.queue ? wiredQueues.map(options.queue).filter((q): q is QueueBinding => q !== undefined) : wiredQueues,
      // Handed over so the runtime stops them with everything else (and reports them in /health).
      simulators: { ...(sequence ? { sequence: simulatorStarter(sequence) } : {}), ...(sphere ? { sphere: simulatorStarter(sphere) } : {}) },
    });
    const { createDependencies, resetDependencies } = await import('../shared/runtime/dependencies');
    const { loadConfig } = await import('../shared/runtime/config');
    // The handlers' own dependencies are built on first use from this runtime's environment, not a previous stack's.
    resetDependencies();
    deps = createDependencies(loadConfig(process.env));
  } catch (error) {
    await stop();
    throw error;
  }
  const started = runtime;
  const settle: Stack['settle'] = async ({ rounds = 3, timeoutMs = 30_000 } = {}) => {
    for (let round = 0; round < rounds; round++) {
      await sequence?.webhooksIdle();
      await started.drain({ timeoutMs });
    }
  };
  // Which handles these are follows from `simulatorsOnThread` (the overloads say so to the caller).
  return { runtime, sequence, sphere, deps, admin: new AdminClient({ baseUrl: runtime.url, token: runtime.adminToken }), settle, stop } as StackWithUpstreams;
}
