/**
 * `npm run sim:sphere`: the Sphere simulator on its own.
 * Env: SPHERE_SIM_PORT (default 3102), SPHERE_SIM_HOST (default 127.0.0.1),
 * SPHERE_SIM_API_KEYS (comma-separated, default sph_test_local), SPHERE_SIM_DATA_FILE (optional JSON persistence).
 */
import { DEFAULT_SPHERE_SIM_API_KEY, startSphereSimulator } from './server';

async function main(): Promise<void> {
  const port = Number(process.env.SPHERE_SIM_PORT ?? 3102);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`SPHERE_SIM_PORT must be a port number, got ${process.env.SPHERE_SIM_PORT}`);
  const apiKeys = (process.env.SPHERE_SIM_API_KEYS ?? DEFAULT_SPHERE_SIM_API_KEY).split(',').map((k) => k.trim()).filter(Boolean);
  const sim = await startSphereSimulator({
    port,
    host: process.env.SPHERE_SIM_HOST ?? '127.0.0.1',
    apiKeys,
    ...(process.env.SPHERE_SIM_DATA_FILE ? { dataFile: process.env.SPHERE_SIM_DATA_FILE } : {}),
  });
  // Never print a key: only whether the documented local default is the one in use.
  const keyNote = apiKeys.length === 1 && apiKeys[0] === DEFAULT_SPHERE_SIM_API_KEY ? ' (default local API key)' : ` (${apiKeys.length} API key(s) configured)`;
  console.log(`Sphere simulator listening on ${sim.url}${keyNote}; control surface at ${sim.url}/_sim/state`);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`Sphere simulator stopping (${signal})`);
    void sim.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
