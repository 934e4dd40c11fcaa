/**
 * `npm run sim:sequence`: the Sequence sandbox simulator on its own.
 * Env: SEQUENCE_SIM_PORT (default 3101), SEQUENCE_SIM_HOST (default 127.0.0.1),
 * SEQUENCE_SIM_CLIENT_ID / SEQUENCE_SIM_CLIENT_SECRET (default local-client / local-secret),
 * SEQUENCE_SIM_DATA_FILE (optional JSON persistence), SEQUENCE_SIM_RATE_LIMIT_PER_MINUTE (default 1500).
 */
import { startSequenceSimulator } from './server';

async function main(): Promise<void> {
  const port = Number(process.env.SEQUENCE_SIM_PORT ?? 3101);
  const rate = process.env.SEQUENCE_SIM_RATE_LIMIT_PER_MINUTE;
  const sim = await startSequenceSimulator({
    port: Number.isInteger(port) ? port : 3101,
    host: process.env.SEQUENCE_SIM_HOST ?? '127.0.0.1',
    clientId: process.env.SEQUENCE_SIM_CLIENT_ID ?? 'local-client',
    clientSecret: process.env.SEQUENCE_SIM_CLIENT_SECRET ?? 'local-secret',
    ...(rate ? { rateLimitPerMinute: Number(rate) } : {}),
    ...(process.env.SEQUENCE_SIM_DATA_FILE ? { dataFile: process.env.SEQUENCE_SIM_DATA_FILE } : {}),
  });
  console.log(`Sequence simulator listening on ${sim.url}`);
  console.log(`  API base URL:   ${sim.apiUrl}   (Basic auth, client id "${sim.clientId}"; Sequence-Version: 2024-07-30)`);
  console.log(`  control surface: ${sim.url}/_sim/{reset,seed,faults,state,requests,webhooks}`);
  console.log(`  merchant:        sequence account ${sim.state.account.id} (San Francisco, CA)`);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the Sequence simulator`);
    sim.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error('The Sequence simulator failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
