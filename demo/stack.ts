/**
 * The demo's two ways to a stack:
 *  - `findRunningStack`: a connector already answers (`npm start` in another terminal) → use it and
 *    its simulators (SEQUENCE_SIM_URL / SPHERE_SIM_URL), leave everything running;
 *  - `startDemoStack`: nothing answers → start the same composition as `npm start` in this process
 *    (local/stack.ts: local/wiring.ts routes and queues, both simulators), on free ports, with
 *    in-memory DynamoDB and a temporary data directory (never the user's .local), and stop it after.
 */
import { DEFAULT_ADMIN_TOKEN, type LocalRuntime } from '../local/runtime';
import { type SequenceSimulator } from '../local/sequence-sim/server';
import { type SphereSimulator } from '../local/sphere-sim/server';
import { SIM_DEFAULTS, type Stack, startStack } from '../local/stack';
import { type DemoTargets, answers, sleep, statusOf } from './http';

export { SIM_DEFAULTS };

export interface DemoStack {
  mode: 'in-process' | 'existing';
  targets: DemoTargets;
  /** Stops what the demo started (nothing for an existing stack). */
  stop(): Promise<void>;
}

function trimUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/** `CONNECTOR_URL` may be given with or without `/health`. */
export function connectorBaseUrl(env: NodeJS.ProcessEnv = process.env): string {
  return trimUrl(env.CONNECTOR_URL || 'http://127.0.0.1:3000').replace(/\/health$/, '');
}

/**
 * A connector answering at CONNECTOR_URL, with the simulators it talks to. Undefined when nothing
 * answers there. Throws a clear error when the connector answers but its simulators do not (the
 * demo needs their `/_sim` controls to seed data and inspect Sphere).
 */
export async function findRunningStack(env: NodeJS.ProcessEnv = process.env): Promise<DemoStack | undefined> {
  const connectorUrl = connectorBaseUrl(env);
  let status = await statusOf(`${connectorUrl}/health`);
  if (status === undefined) return undefined;
  // Answering but still starting: give it a few seconds to report healthy.
  for (let i = 0; i < 20 && status !== 200; i++) {
    await sleep(500);
    status = await statusOf(`${connectorUrl}/health`);
  }
  if (status !== 200) throw new Error(`The connector at ${connectorUrl} answers GET /health with ${status ?? 'nothing'}; wait until npm start reports it is up, or stop it so the demo starts its own stack.`);
  const sequenceSimUrl = trimUrl(env.SEQUENCE_SIM_URL || 'http://127.0.0.1:3101');
  const sphereSimUrl = trimUrl(env.SPHERE_SIM_URL || 'http://127.0.0.1:3102');
  for (const [name, url, probe, variable] of [
    ['Sequence', sequenceSimUrl, `${sequenceSimUrl}/_sim/health`, 'SEQUENCE_SIM_URL'],
    ['Sphere', sphereSimUrl, `${sphereSimUrl}/_sim/state`, 'SPHERE_SIM_URL'],
  ] as const) {
    if (!(await answers(probe))) {
      throw new Error(
        `A connector answers at ${connectorUrl}, but no ${name} simulator at ${url} (${variable}). The demo seeds data and inspects results through the simulators: run npm start with its simulators, set ${variable}, or stop the connector so the demo starts its own stack.`,
      );
    }
  }
  return {
    mode: 'existing',
    targets: {
      connectorUrl,
      adminToken: env.CONNECTOR_ADMIN_TOKEN || DEFAULT_ADMIN_TOKEN,
      sequenceSimUrl,
      sphereSimUrl,
      sequenceClientId: env.SEQUENCE_CLIENT_ID || SIM_DEFAULTS.sequenceClientId,
      sequenceClientSecret: env.SEQUENCE_CLIENT_SECRET || SIM_DEFAULTS.sequenceClientSecret,
      sphereApiKey: env.SPHERE_API_KEY || SIM_DEFAULTS.sphereApiKey,
    },
    stop: async () => undefined,
  };
}

export interface StartDemoStackOptions {
  /** Front door port (default 0: any free port). */
  port?: number;
  /** Runtime log lines (default: dropped; the demo prints its own tables). */
  log?: (line: string) => void;
  /** Log level of the emulated Lambdas (default POWERTOOLS_LOG_LEVEL, else ERROR). */
  handlerLogLevel?: string;
  /** Drop the emulated Lambdas' routine noise while the stack runs (default true); see quietHandlerNoise. */
  quiet?: boolean;
  /** Extra environment for the emulated Lambdas (wins over the runtime's defaults). */
  env?: Record<string, string>;
  /** Record the handlers' AWS SDK calls (`runtime.awsCalls`; the IAM proof). */
  recordAwsCalls?: boolean;
}

const EMPTY_METRICS_WARNING = 'No application metrics to publish.';

/**
 * Routine lines that would interleave with the demo's tables: Powertools Metrics warns on every
 * invocation that published no metric (locally it writes through the global console, POWERTOOLS_DEV),
 * and the AWS SDK warns once that Node 20 support ends (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED,
 * its documented switch). Only these exact lines are dropped; every other warning and error still shows.
 */
function quietHandlerNoise(): () => void {
  const originalWarn = console.warn;
  const hadSdkSwitch = Object.prototype.hasOwnProperty.call(process.env, 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED');
  if (!hadSdkSwitch) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].startsWith(EMPTY_METRICS_WARNING)) return;
    originalWarn(...args);
  };
  return () => {
    console.warn = originalWarn;
    if (!hadSdkSwitch) delete process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  };
}

export interface InProcessDemoStack extends DemoStack {
  mode: 'in-process';
  runtime: LocalRuntime;
  sequence: SequenceSimulator;
  sphere: SphereSimulator;
}

/** The `npm start` composition in this process (local/stack.ts), on free ports, with throwaway data. */
export async function startDemoStack(options: StartDemoStackOptions = {}): Promise<InProcessDemoStack> {
  const restoreNoise = options.quiet === false ? () => undefined : quietHandlerNoise();
  let stack: Stack;
  try {
    stack = await startStack({
      ...(options.port !== undefined ? { port: options.port } : {}),
      runtime: {
        adminToken: DEFAULT_ADMIN_TOKEN,
        env: { POWERTOOLS_LOG_LEVEL: options.handlerLogLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'ERROR', ...options.env },
        ...(options.recordAwsCalls ? { recordAwsCalls: true } : {}),
        log: options.log ?? (() => undefined),
      },
    });
  } catch (error) {
    restoreNoise();
    throw error;
  }
  const { runtime, sequence, sphere } = stack;
  return {
    mode: 'in-process',
    runtime,
    sequence,
    sphere,
    targets: {
      connectorUrl: runtime.url,
      adminToken: runtime.adminToken,
      sequenceSimUrl: sequence.url,
      sphereSimUrl: sphere.url,
      sequenceClientId: SIM_DEFAULTS.sequenceClientId,
      sequenceClientSecret: SIM_DEFAULTS.sequenceClientSecret,
      sphereApiKey: SIM_DEFAULTS.sphereApiKey,
    },
    async stop() {
      await stack.stop(); // idempotent, and so is restoring the noise filter once more
      restoreNoise();
    },
  };
}
