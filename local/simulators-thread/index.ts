/**
 * Both simulators on a worker thread: their own event loop, as the real APIs run on other machines.
 * The tax latency bench needs this. A simulator sharing the connector's event loop sees a request
 * only once the connector's CPU lets it (the DynamoDB marshalling and the audit batch that follow a
 * wave's sends), so that CPU would be counted inside the upstream latency L instead of beside it.
 *
 * The thread is started with tsx's namespaced loader, so it works from tsx and from jest alike.
 * What the caller gets is what a remote API offers: URLs and credentials, plus `webhooksIdle()` (to
 * settle) and `stop()`. Control goes through the simulators' HTTP `/_sim/` surface.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SequenceApiEndpoint } from '../sim-client';
import type { SequenceSimulatorOptions } from '../sequence-sim/server';
import type { SphereSimulatorOptions } from '../sphere-sim/server';
import type { FromThread, SimulatorsThreadOptions, ToThread } from './protocol';

export interface ThreadedSequenceSimulator extends SequenceApiEndpoint {
  url: string;
  /** Resolves when every webhook so far has been delivered or has failed for good. */
  webhooksIdle(): Promise<void>;
  stop(): Promise<void>;
}

export interface ThreadedSphereSimulator {
  url: string;
  stop(): Promise<void>;
}

export interface ThreadedSimulators {
  sequence: ThreadedSequenceSimulator;
  sphere: ThreadedSphereSimulator;
  /** Stops both simulators and the thread; safe to call twice. */
  stop(): Promise<void>;
}

/** Only data crosses to the thread: options holding functions (clocks, randomness) stay in-process simulators' business. */
export async function startSimulatorsThread(options: { sequence?: SequenceSimulatorOptions; sphere?: SphereSimulatorOptions } = {}): Promise<ThreadedSimulators> {
  for (const [name, given] of Object.entries(options)) {
    for (const [key, value] of Object.entries(given ?? {})) {
      if (typeof value === 'function') throw new TypeError(`startSimulatorsThread: ${name}.${key} is a function, which cannot cross to a worker thread`);
    }
  }
  const workerData: SimulatorsThreadOptions = { sequence: options.sequence ?? {}, sphere: options.sphere ?? {} };
  const bootstrap = `
    const { register } = require(${JSON.stringify(require.resolve('tsx/cjs/api'))});
    register({ namespace: 'simulators-thread' }).require(${JSON.stringify(path.join(__dirname, 'worker.ts'))}, __filename);
  `;
  const worker = new Worker(bootstrap, { eval: true, workerData });
  const pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const [, p] of pending) p.reject(error);
    pending.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the simulators' thread exited (code ${code})`)));

  let ready: Extract<FromThread, { kind: 'ready' }>;
  try {
    ready = await new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the simulators' thread exited before it started (code ${code})`)));
      worker.once('message', (message: FromThread) => {
        if (message.kind === 'ready') resolve(message);
        else reject(new Error(`the simulators' thread did not start: ${message.kind === 'failed' ? message.error : message.kind}`));
      });
    });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  worker.on('message', (message: FromThread) => {
    if (message.kind !== 'done') return;
    const p = pending.get(message.id);
    pending.delete(message.id);
    if (message.error) p?.reject(new Error(message.error));
    else p?.resolve();
  });

  const ask = (op: ToThread['op']): Promise<void> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<void>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, op } satisfies ToThread);
    });
  };

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (!failure) await ask('stop').catch(() => undefined);
      await worker.terminate();
    })());
  return {
    sequence: { ...ready.sequence, webhooksIdle: () => ask('webhooksIdle'), stop },
    sphere: { ...ready.sphere, stop },
    stop,
  };
}
