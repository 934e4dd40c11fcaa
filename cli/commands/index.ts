/**
 * The admin CLI (`npx sphere-connector <command>`): argument parsing with node:util parseArgs, one
 * function per command calling the admin API (§5.1 + operations routes), grouped by area in this folder
 * (connections, invoices, failures, operations, console, verify; context.ts holds what they share), human-readable tables by
 * default and the API's JSON with --json. Secrets are never printed. `connect` takes them from flags
 * or, better (shell history), from SEQUENCE_CLIENT_SECRET / SPHERE_API_KEY; `update` (rotation) only
 * from stdin or a no-echo prompt (cli/secret-input.ts), never from argv.
 *
 * Exit codes: 0 success · 1 the API answered an error (printed as `Error <status> <code>: <message>`)
 * or the work failed (a test that did not pass, a FAILED backfill, messages left in a DLQ) · 2 usage.
 */
import { parseArgs } from 'node:util';
import { AdminApiError, AdminClient } from '../client';
import { type RequestSigner, createSigV4Signer, regionFromApiUrl } from '../sigv4';
import { backfill, connect, disconnect, list, status, testCommand, update } from './connections';
import { consoleCommand } from './console';
import { type CliIo, type Context, DEFAULT_TOKEN, DEFAULT_URL, type Flags, OPTIONS, UsageError } from './context';
import { failures, retry } from './failures';
import { finalize, tax } from './invoices';
import { audit, dlq, redrive } from './operations';
import { verify } from './verify';

export { type CliIo, DEFAULT_TOKEN, DEFAULT_URL, UsageError } from './context';

export const USAGE = `Usage: sphere-connector <command> [arguments] [flags]

Commands:
  connect                       connect a Sequence account to Sphere
      --name N --environment sandbox|production --sequence-client-id ID
      [--sequence-client-secret S | env SEQUENCE_CLIENT_SECRET] [--sphere-api-key K | env SPHERE_API_KEY]
      [--sequence-base-url URL] [--sphere-base-url URL] --tax-code-default CODE
  update <id>                   rotate a credential or change settings (PATCH /connections/{id})
      [--sphere-api-key-stdin] [--sequence-client-secret-stdin [--sequence-client-id ID]]
      [--name N] [--tax-code-default CODE] [--tax-code CATEGORY=CODE ...] (CATEGORY= removes one)
      [--record-transactions | --no-record-transactions] [--calculate-on-draft | --no-calculate-on-draft]
      [--allow-beside-native-integration | --no-allow-beside-native-integration]
      [--sequence-base-url URL] [--sphere-base-url URL]
      Secrets are read from stdin, one per line, Sequence first (piped), or prompted without echo
      (terminal); never from flags, which end up in shell history.
  list                          list connections
  status <id>                   show a connection (counts, backfill, last error)
  test <id>                     check both credentials
  disconnect <id>               disconnect (stops all processing for the connection)
  backfill <id> [--restart] [--no-wait] [--interval S] [--timeout S]
                                start/resume the backfill and show its progress
  failures <id>                 what failed, why, whether retryable
  retry <id> (--all | [--resource-type T] [--resource-id R])
                                re-queue failed work
  tax <id> <invoiceId> [--show] calculate tax on a DRAFT invoice now (--show: the stored result)
  finalize <id> <invoiceId>     calculate tax, then finalise the invoice
  audit <id> [--limit N]        upstream calls of the connection (newest first)
  dlq                           dead-letter queues and their depth
  redrive <queue>               move a DLQ's messages back to their queue (after fixing the cause)
  verify --sequence-base-url URL --sequence-client-id ID --sphere-base-url URL --tax-code-default CODE
         [--webhook-url URL] [--webhook-port P] [--webhook-wait S]
                                check every assumption about the real APIs against your Sequence
                                sandbox and Sphere test organisation (run it once before the first
                                connect); secrets from SEQUENCE_CLIENT_SECRET / SPHERE_API_KEY, else
                                stdin (Sequence first). Creates a test customer, invoice, product and
                                transaction and removes them (Sphere keeps its two test customers and
                                product: v1 has no delete; the next run reuses them). Exit 1 if any
                                assumption is refuted. Without --webhook-url only a Sequence on this
                                machine can reach the webhook receiver (else those checks are unknown)
  console [--port P]            the operator console on http://127.0.0.1:P/console/ (default 4000),
                                calling the admin API with these credentials (--aws: SigV4)

Global flags:
  --url URL       connector base URL (default $CONNECTOR_URL or ${DEFAULT_URL})
  --token T       admin token for the local runtime (default $CONNECTOR_ADMIN_TOKEN or ${DEFAULT_TOKEN})
  --aws           sign requests with AWS SigV4 (service execute-api, default credential chain)
  --region R      region for --aws (default: from the URL, $AWS_REGION or $AWS_DEFAULT_REGION)
  --json          print the API's JSON instead of tables
`;

const COMMANDS: Record<string, (ctx: Context) => Promise<number>> = {
  connect,
  update,
  list,
  status,
  test: testCommand,
  disconnect,
  backfill,
  failures,
  retry,
  tax,
  finalize,
  audit,
  dlq,
  redrive,
  console: consoleCommand,
  verify,
};

async function defaultAwsSigner(region: string): Promise<RequestSigner> {
  // The default chain: env vars, SSO/profile (AWS_PROFILE), web identity, container/instance metadata.
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  return createSigV4Signer({ region, service: 'execute-api', credentials: defaultProvider() });
}

/** Run the CLI; resolves to the process exit code. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed: { values: Flags; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values: flags, positionals } = parsed;
  const [command, ...args] = positionals;
  if (flags.help || !command || command === 'help') {
    io.stdout(USAGE);
    return command || flags.help ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.stderr(`Unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }

  try {
    const baseUrl = flags.url ?? io.env.CONNECTOR_URL ?? DEFAULT_URL;
    try {
      new URL(baseUrl);
    } catch {
      throw new UsageError(`--url must be an absolute URL, got "${baseUrl}"`);
    }
    let signer: RequestSigner | undefined;
    if (flags.aws) {
      const region = flags.region ?? regionFromApiUrl(baseUrl) ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
      if (!region) throw new UsageError('--aws needs a region: --region, an execute-api URL, or AWS_REGION');
      signer = await (io.awsSigner ?? defaultAwsSigner)(region);
    }
    const client = new AdminClient({
      baseUrl,
      ...(signer ? { signer } : { token: flags.token ?? io.env.CONNECTOR_ADMIN_TOKEN ?? DEFAULT_TOKEN }),
      ...(io.fetch ? { fetch: io.fetch } : {}),
    });
    return await run({ client, flags, args, io });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof AdminApiError) {
      if (flags.json) io.stderr(`${JSON.stringify({ error: { status: error.status, code: error.code, message: error.message } })}\n`);
      else io.stderr(`Error ${error.status || ''} ${error.code}: ${error.message}\n`.replace('Error  ', 'Error '));
      return 1;
    }
    io.stderr(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
