/** `console`: serves the operator console locally, calling the admin API with the CLI's credentials. */
import { startConsoleServer } from '../console-server';
import { type Context, DEFAULT_URL, UsageError } from './context';

export async function consoleCommand(ctx: Context): Promise<number> {
  const raw = ctx.flags.port ?? '4000';
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new UsageError(`--port must be a port number (0-65535), got "${raw}"`);
  const baseUrl = ctx.flags.url ?? ctx.io.env.CONNECTOR_URL ?? DEFAULT_URL;
  const server = await startConsoleServer({ client: ctx.client, port, target: `${baseUrl}${ctx.flags.aws ? ' (AWS SigV4)' : ''}` });
  ctx.io.stdout(`Operator console: ${server.url}\n  admin API ${baseUrl}${ctx.flags.aws ? ', calls signed with your AWS credentials' : ''}\n  Press Ctrl-C to stop.\n`);
  try {
    await (ctx.io.waitForStop ?? waitForSignal)();
  } finally {
    await server.stop();
  }
  return 0;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
