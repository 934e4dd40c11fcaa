/** Messages between local/simulators-thread and its worker (structured-clone data only). */
import type { SequenceSimulatorOptions } from '../sequence-sim/server';
import type { SphereSimulatorOptions } from '../sphere-sim/server';

export interface SimulatorsThreadOptions {
  sequence: SequenceSimulatorOptions;
  sphere: SphereSimulatorOptions;
}

export type ToThread = { id: number; op: 'webhooksIdle' | 'stop' };

export type FromThread =
  | { kind: 'ready'; sequence: { url: string; apiUrl: string; clientId: string; clientSecret: string }; sphere: { url: string } }
  | { kind: 'failed'; error: string }
  | { kind: 'done'; id: number; error?: string };
