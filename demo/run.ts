/**
 * `npm run demo` (architecture §5.4): one scripted walk through the connector — connect, backfill,
 * an invoice taxed through webhooks and finalised (Sphere transaction recorded), a Canadian HST
 * invoice, an exempt customer's invoice, a reverse-charged EU business, a credit note — printed as
 * tables, ending with a summary (exit code 0 only when every step passed).
 *
 * Two modes, chosen automatically:
 *
 *  - Nothing answers at CONNECTOR_URL (default http://127.0.0.1:3000; `/health` is probed): the demo
 *    starts its own stack in this process, the same composition as `npm start` (bin/local.ts:
 *    startLocalRuntime with local/wiring.ts routes and queues, both simulators) but on free ports,
 *    with in-memory DynamoDB and a temporary data directory (your .local/ is never touched), runs the
 *    walk, and stops everything. Works from a fresh clone after `npm ci`, nothing else running.
 *
 *  - A connector answers there (`npm start` in another terminal): the demo uses it as it is, seeding
 *    and inspecting through its simulators at SEQUENCE_SIM_URL (default http://127.0.0.1:3101) and
 *    SPHERE_SIM_URL (default http://127.0.0.1:3102), with CONNECTOR_ADMIN_TOKEN (default
 *    local-admin-token) and the simulators' default credentials (SEQUENCE_CLIENT_ID/_SECRET,
 *    SPHERE_API_KEY override them), and leaves it running. If that Sequence account is already
 *    connected (an earlier demo run), the live connection is reused (its tax codes updated). The
 *    demo's records carry a per-run suffix, so it can run again and again against the same stack.
 *
 *   npm run demo                    auto (in-process unless a connector answers)
 *   npm run demo -- --in-process    always start a private stack, even if npm start is running
 *
 * Nothing secret is printed: the webhook signing secret never leaves the connector's vault.
 */
import { type DemoStack, connectorBaseUrl, findRunningStack, startDemoStack } from './stack';
import { type DemoResult, runDemoWalk } from './walk';
import { commandFlags } from '../bin/flags';

export interface RunDemoOptions {
  print?: (text: string) => void;
  /** Skip the probe of CONNECTOR_URL and always start a private stack. */
  inProcess?: boolean;
  env?: NodeJS.ProcessEnv;
}

export async function runDemo(options: RunDemoOptions = {}): Promise<DemoResult & { mode: DemoStack['mode'] }> {
  const print = options.print ?? ((text: string) => console.log(text));
  const env = options.env ?? process.env;
  const started = Date.now();
  let stack: DemoStack | undefined = options.inProcess ? undefined : await findRunningStack(env);
  if (stack) {
    print(`Using the connector already running at ${stack.targets.connectorUrl} (simulators ${stack.targets.sequenceSimUrl}, ${stack.targets.sphereSimUrl}); it keeps running afterwards.`);
  } else {
    print(options.inProcess ? 'Starting a private stack (--in-process)…' : `Nothing answers at ${connectorBaseUrl(env)}: starting a private stack in this process (free ports, in-memory data, stopped afterwards)…`);
    stack = await startDemoStack();
    print(`  connector ${stack.targets.connectorUrl} · Sequence simulator ${stack.targets.sequenceSimUrl}/api · Sphere simulator ${stack.targets.sphereSimUrl} (up in ${Date.now() - started} ms)`);
  }
  try {
    const result = await runDemoWalk(stack.targets, { print });
    print(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
    return { ...result, mode: stack.mode };
  } finally {
    if (stack.mode === 'in-process') {
      await stack.stop();
      print('Private stack stopped.');
    }
  }
}

const USAGE = 'Usage: npm run demo [-- --in-process]\n\n  --in-process   start a private stack even when a connector answers at CONNECTOR_URL (default http://127.0.0.1:3000)';

async function main(): Promise<void> {
  const result = await runDemo({ inProcess: commandFlags(USAGE, ['--in-process']).has('--in-process') });
  process.exit(result.ok ? 0 : 1);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`Demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
