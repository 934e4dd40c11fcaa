/**
 * The admin CLI (`npx sphere-connector <command>`): argument parsing with node:util parseArgs, one
 * function per command calling the admin API (§5.1 + operations routes), human-readable tables by
 * default and the API's JSON with --json. Secrets are never printed. `connect` takes them from flags
 * or, better (shell history), from SEQUENCE_CLIENT_SECRET / SPHERE_API_KEY; `update` (rotation) only
 * from stdin or a no-echo prompt (cli/secret-input.ts), never from argv.
 *
 * Exit codes: 0 success · 1 the API answered an error (printed as `Error <status> <code>: <message>`)
 * or the work failed (a test that did not pass, a FAILED backfill, messages left in a DLQ) · 2 usage.
 */
import { parseArgs } from 'node:util';
import { AdminApiError, AdminClient, type FetchLike } from './client';
import { type Column, keyValues, progressBar, redact, table } from './format';
import { startConsoleServer } from './console-server';
import { type SecretReader } from './secret-input';
import { type RequestSigner, createSigV4Signer, regionFromApiUrl } from './sigv4';
import { runChecks } from '../shared/assumptions/checks';
import { VerifySession } from '../shared/assumptions/verify-session';

export const DEFAULT_URL = 'http://127.0.0.1:3000';
export const DEFAULT_TOKEN = 'local-admin-token';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Draw the progress bar in place (carriage return) instead of one line per change. */
  isTTY: boolean;
  sleep: (ms: number) => Promise<void>;
  fetch?: FetchLike;
  /** Builds the SigV4 signer for --aws (default: credentials from the AWS default provider chain). */
  awsSigner?: (region: string) => Promise<RequestSigner>;
  /** Reads one secret (piped stdin line, or a no-echo prompt on a terminal); needed by `update`. */
  readSecret?: SecretReader;
  /** Resolves when a long-running command (`console`) should stop, e.g. on Ctrl-C. */
  waitForStop?: () => Promise<void>;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  aws: { type: 'boolean' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  // connect
  name: { type: 'string' },
  environment: { type: 'string' },
  'sequence-client-id': { type: 'string' },
  'sequence-client-secret': { type: 'string' },
  'sphere-api-key': { type: 'string' },
  'sequence-base-url': { type: 'string' },
  'sphere-base-url': { type: 'string' },
  'tax-code-default': { type: 'string' },
  // update
  'sequence-client-secret-stdin': { type: 'boolean' },
  'sphere-api-key-stdin': { type: 'boolean' },
  'tax-code': { type: 'string', multiple: true },
  'record-transactions': { type: 'boolean' },
  'no-record-transactions': { type: 'boolean' },
  'calculate-on-draft': { type: 'boolean' },
  'no-calculate-on-draft': { type: 'boolean' },
  'allow-beside-native-integration': { type: 'boolean' },
  'no-allow-beside-native-integration': { type: 'boolean' },
  // backfill
  restart: { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  interval: { type: 'string' },
  timeout: { type: 'string' },
  // retry
  all: { type: 'boolean' },
  'resource-type': { type: 'string' },
  'resource-id': { type: 'string' },
  // tax
  show: { type: 'boolean' },
  // audit
  limit: { type: 'string' },
  // console
  port: { type: 'string' },
  // verify
  'webhook-url': { type: 'string' },
  'webhook-port': { type: 'string' },
  'webhook-wait': { type: 'string' },
} as const;

type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

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

interface Context {
  client: AdminClient;
  flags: Flags;
  args: string[];
  io: CliIo;
}

type Json = Record<string, unknown>;

function print(ctx: Context, body: unknown, human: () => string): void {
  ctx.io.stdout(ctx.flags.json ? `${JSON.stringify(redact(body), null, 2)}\n` : human());
}

function arg(ctx: Context, index: number, name: string): string {
  const value = ctx.args[index];
  if (!value) throw new UsageError(`Missing <${name}>`);
  return encodeURIComponent(value);
}

function seconds(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${name} must be a positive number of seconds`);
  return value;
}

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

function connectionSummary(c: Json): string {
  const counts = (c.counts ?? {}) as Json;
  const backfill = (c.backfill ?? {}) as Json;
  const lastError = c.lastError as Json | undefined;
  return keyValues([
    ['id', c.id],
    ['name', c.name],
    ['status', c.status],
    ['environment', c.environment],
    ['sequence account', c.sequenceAccountId],
    ['customers synced', counts.customersSynced],
    ['products synced', counts.productsSynced],
    ['invoices taxed', counts.invoicesTaxed],
    ['transactions', counts.transactionsRecorded],
    ['failures', counts.failures],
    ['backfill', `${str(backfill.state)} ${str(backfill.done)}/${str(backfill.total)}`],
    ...(lastError ? ([['last error', `${str(lastError.code)}: ${str(lastError.message)}`]] as const) : []),
    ...(Array.isArray(c.warnings) ? (c.warnings as Json[]).map((w) => ['warning', `${str(w.code)}: ${str(w.message)}`] as const) : []),
  ]);
}

const CONNECTION_COLUMNS: Column<Json>[] = [
  { header: 'ID', value: (c) => c.id },
  { header: 'NAME', value: (c) => c.name },
  { header: 'STATUS', value: (c) => c.status },
  { header: 'ENV', value: (c) => c.environment },
  { header: 'ACCOUNT', value: (c) => c.sequenceAccountId },
  { header: 'CUSTOMERS', value: (c) => (c.counts as Json | undefined)?.customersSynced },
  { header: 'INVOICES', value: (c) => (c.counts as Json | undefined)?.invoicesTaxed },
  { header: 'FAILURES', value: (c) => (c.counts as Json | undefined)?.failures },
  { header: 'BACKFILL', value: (c) => (c.backfill as Json | undefined)?.state },
];

function taxRecordText(record: Json): string {
  const lines = (record.lines ?? []) as Json[];
  return (
    keyValues([
      ['invoice', record.invoiceId],
      ['status', record.status],
      ['calculation', record.calculationId],
      ['total tax', record.totalTax],
      ...(record.reason ? ([['reason', record.reason]] as const) : []),
    ]) +
    '\n' +
    table(lines, [
      { header: 'LINE', value: (l) => l.lineItemId },
      { header: 'AMOUNT', value: (l) => l.amount },
      { header: 'RATE', value: (l) => l.taxRate },
      { header: 'TAX', value: (l) => l.taxAmount },
      { header: 'JURISDICTIONS', value: (l) => ((l.jurisdictions ?? []) as Json[]).map((j) => `${str(j.name)} ${str(j.rate)}`).join(', ') },
    ])
  );
}

async function connect(ctx: Context): Promise<number> {
  const { flags, io } = ctx;
  const clientSecret = flags['sequence-client-secret'] ?? io.env.SEQUENCE_CLIENT_SECRET;
  const apiKey = flags['sphere-api-key'] ?? io.env.SPHERE_API_KEY;
  const missing = [
    !flags.name && '--name',
    !flags['sequence-client-id'] && '--sequence-client-id',
    !clientSecret && '--sequence-client-secret (or SEQUENCE_CLIENT_SECRET)',
    !apiKey && '--sphere-api-key (or SPHERE_API_KEY)',
    // No built-in default: Sphere assigns its own product tax codes (Sphere > Products).
    !flags['tax-code-default'] && '--tax-code-default (your Sphere product tax code)',
  ].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`connect needs ${missing.join(', ')}`);
  const environment = flags.environment ?? 'sandbox';
  if (environment !== 'sandbox' && environment !== 'production') throw new UsageError('--environment must be sandbox or production');
  const body = {
    name: flags.name,
    sequence: { environment, clientId: flags['sequence-client-id'], clientSecret, ...(flags['sequence-base-url'] ? { baseUrl: flags['sequence-base-url'] } : {}) },
    sphere: { apiKey, ...(flags['sphere-base-url'] ? { baseUrl: flags['sphere-base-url'] } : {}) },
    taxCodes: { default: flags['tax-code-default'] },
  };
  const { body: connection } = await ctx.client.request<Json>('POST', '/connections', body);
  print(ctx, connection, () => `Connected.\n${connectionSummary(connection)}`);
  return 0;
}

/** `--x` / `--no-x` → true / false / undefined; both is a usage error. */
function toggle(flags: Flags, name: 'record-transactions' | 'calculate-on-draft' | 'allow-beside-native-integration'): boolean | undefined {
  const on = flags[name];
  const off = flags[`no-${name}`];
  if (on && off) throw new UsageError(`--${name} and --no-${name} contradict each other`);
  return on ? true : off ? false : undefined;
}

/** `--tax-code CATEGORY=CODE` pairs; an empty CODE removes the mapping. */
function taxCodeChanges(values: string[] | undefined): Map<string, string> {
  const changes = new Map<string, string>();
  for (const value of values ?? []) {
    const at = value.indexOf('=');
    if (at <= 0) throw new UsageError(`--tax-code must be CATEGORY=CODE (CATEGORY= to remove one), got "${value}"`);
    changes.set(value.slice(0, at), value.slice(at + 1));
  }
  return changes;
}

async function update(ctx: Context): Promise<number> {
  const { flags, io } = ctx;
  const id = arg(ctx, 0, 'id');
  if (flags['sequence-client-secret'] !== undefined || flags['sphere-api-key'] !== undefined) {
    throw new UsageError('update reads secrets from stdin, never from flags (shell history): use --sequence-client-secret-stdin / --sphere-api-key-stdin');
  }
  if (flags['sequence-client-id'] && !flags['sequence-client-secret-stdin']) {
    throw new UsageError('--sequence-client-id is a new API client: give its secret too (--sequence-client-secret-stdin)');
  }
  const recordTransactions = toggle(flags, 'record-transactions');
  const calculateOnDraft = toggle(flags, 'calculate-on-draft');
  const allowBesideNativeIntegration = toggle(flags, 'allow-beside-native-integration');
  const taxCodes = taxCodeChanges(flags['tax-code']);

  const readSecret = io.readSecret;
  if ((flags['sequence-client-secret-stdin'] || flags['sphere-api-key-stdin']) && !readSecret) throw new UsageError('this CLI cannot read secrets here (no stdin)');
  // Sequence first, then Sphere: the order the usage text promises for piped input.
  const clientSecret = flags['sequence-client-secret-stdin'] ? await readSecret!('Sequence client secret: ') : undefined;
  const apiKey = flags['sphere-api-key-stdin'] ? await readSecret!('Sphere API key: ') : undefined;

  // byTaxCategory is replaced whole by PATCH, so per-category changes are merged into the current map.
  let byTaxCategory: Record<string, string> | undefined;
  if (taxCodes.size > 0) {
    const current = (await ctx.client.request<Json>('GET', `/connections/${id}`)).body;
    byTaxCategory = { ...((current.taxCodes as { byTaxCategory?: Record<string, string> } | undefined)?.byTaxCategory ?? {}) };
    for (const [category, code] of taxCodes) {
      if (code === '') delete byTaxCategory[category];
      else byTaxCategory[category] = code;
    }
  }

  const sequence = {
    ...(flags['sequence-client-id'] ? { clientId: flags['sequence-client-id'] } : {}),
    ...(clientSecret !== undefined ? { clientSecret } : {}),
    ...(flags['sequence-base-url'] ? { baseUrl: flags['sequence-base-url'] } : {}),
  };
  const sphere = { ...(apiKey !== undefined ? { apiKey } : {}), ...(flags['sphere-base-url'] ? { baseUrl: flags['sphere-base-url'] } : {}) };
  const options = {
    ...(recordTransactions !== undefined ? { recordTransactions } : {}),
    ...(calculateOnDraft !== undefined ? { calculateOnDraft } : {}),
    ...(allowBesideNativeIntegration !== undefined ? { allowBesideNativeIntegration } : {}),
  };
  const taxCodesBody = { ...(flags['tax-code-default'] ? { default: flags['tax-code-default'] } : {}), ...(byTaxCategory ? { byTaxCategory } : {}) };
  const body = {
    ...(flags.name ? { name: flags.name } : {}),
    ...(Object.keys(sequence).length > 0 ? { sequence } : {}),
    ...(Object.keys(sphere).length > 0 ? { sphere } : {}),
    ...(Object.keys(taxCodesBody).length > 0 ? { taxCodes: taxCodesBody } : {}),
    ...(Object.keys(options).length > 0 ? { options } : {}),
  };
  if (Object.keys(body).length === 0) throw new UsageError('update needs at least one change (see the flags of update)');

  const { body: connection } = await ctx.client.request<Json>('PATCH', `/connections/${id}`, body);
  const rotated = [clientSecret !== undefined && 'Sequence client secret', apiKey !== undefined && 'Sphere API key'].filter(Boolean);
  print(ctx, connection, () => {
    const taxCodesNow = (connection.taxCodes ?? {}) as { default?: string; byTaxCategory?: Record<string, string> };
    const optionsNow = (connection.options ?? {}) as Json;
    return (
      `Updated${rotated.length > 0 ? ` (checked and stored: ${rotated.join(', ')}; revoke the old one now)` : ''}.\n` +
      connectionSummary(connection) +
      keyValues([
        ['default tax code', taxCodesNow.default],
        ['tax codes', Object.entries(taxCodesNow.byTaxCategory ?? {}).map(([k, v]) => `${k}=${v}`).join(', ') || '(none)'],
        ['record transactions', optionsNow.recordTransactions],
        ['calculate on draft', optionsNow.calculateOnDraft],
        ['allow beside a native integration', optionsNow.allowBesideNativeIntegration === true],
      ])
    );
  });
  return 0;
}

async function list(ctx: Context): Promise<number> {
  const { body } = await ctx.client.request<{ items: Json[] }>('GET', '/connections');
  print(ctx, body, () => table(body.items ?? [], CONNECTION_COLUMNS));
  return 0;
}

async function status(ctx: Context): Promise<number> {
  const { body } = await ctx.client.request<Json>('GET', `/connections/${arg(ctx, 0, 'id')}`);
  print(ctx, body, () => connectionSummary(body));
  return 0;
}

async function testCommand(ctx: Context): Promise<number> {
  const { body } = await ctx.client.request<{ sequence?: { ok: boolean; message?: string }; sphere?: { ok: boolean; message?: string } }>(
    'POST',
    `/connections/${arg(ctx, 0, 'id')}/test`,
  );
  const rows = (['sequence', 'sphere'] as const).map((side) => ({ side, ok: body[side]?.ok, message: body[side]?.message }));
  print(ctx, body, () =>
    table(rows, [
      { header: 'SERVICE', value: (r) => r.side },
      { header: 'OK', value: (r) => (r.ok ? 'yes' : 'NO') },
      { header: 'MESSAGE', value: (r) => r.message },
    ]),
  );
  return rows.every((r) => r.ok) ? 0 : 1;
}

async function disconnect(ctx: Context): Promise<number> {
  const { body } = await ctx.client.request<Json>('DELETE', `/connections/${arg(ctx, 0, 'id')}`);
  print(ctx, body, () => `Disconnected.\n${connectionSummary(body)}`);
  return 0;
}

async function backfill(ctx: Context): Promise<number> {
  const id = arg(ctx, 0, 'id');
  const intervalMs = seconds(ctx.flags.interval, 'interval', 1) * 1000;
  const timeoutMs = seconds(ctx.flags.timeout, 'timeout', 3600) * 1000;
  const started = await ctx.client.request<{ backfill: Json }>('POST', `/connections/${id}/backfill${ctx.flags.restart ? '?restart=true' : ''}`);
  if (ctx.flags['no-wait']) {
    print(ctx, started.body, () => `Backfill ${str(started.body.backfill?.state)}; follow it with: sphere-connector status ${decodeURIComponent(id)}\n`);
    return 0;
  }
  const deadline = Date.now() + timeoutMs;
  let lastLine = '';
  let connection: Json;
  for (;;) {
    connection = (await ctx.client.request<Json>('GET', `/connections/${id}`)).body;
    const progress = (connection.backfill ?? {}) as { state?: string; done?: number; total?: number };
    const line = `${progressBar(progress.done ?? 0, progress.total ?? 0)}  ${progress.state ?? ''}`;
    if (!ctx.flags.json && line !== lastLine) {
      ctx.io.stderr(ctx.io.isTTY ? `\r${line}` : `${line}\n`);
      lastLine = line;
    }
    if (progress.state === 'COMPLETED' || progress.state === 'FAILED') break;
    if (Date.now() > deadline) {
      if (!ctx.flags.json && ctx.io.isTTY) ctx.io.stderr('\n');
      ctx.io.stderr(`Still ${progress.state ?? 'running'} after ${timeoutMs / 1000} s; it continues in the background.\n`);
      return 1;
    }
    await ctx.io.sleep(intervalMs);
  }
  if (!ctx.flags.json && ctx.io.isTTY) ctx.io.stderr('\n');
  const state = (connection.backfill as Json | undefined)?.state;
  print(ctx, connection, () => `Backfill ${str(state)}.\n${connectionSummary(connection)}`);
  return state === 'COMPLETED' ? 0 : 1;
}

async function failures(ctx: Context): Promise<number> {
  const { body } = await ctx.client.request<{ items: Json[] }>('GET', `/connections/${arg(ctx, 0, 'id')}/failures`);
  print(ctx, body, () =>
    table(body.items ?? [], [
      { header: 'TYPE', value: (f) => f.resourceType },
      { header: 'RESOURCE', value: (f) => f.resourceId },
      { header: 'CODE', value: (f) => f.code },
      { header: 'RETRYABLE', value: (f) => (f.retryable ? 'yes' : 'no') },
      { header: 'ATTEMPTS', value: (f) => f.attempts },
      { header: 'LAST', value: (f) => f.lastFailedAt },
      { header: 'REASON', value: (f) => [f.reason, f.fix].filter(Boolean).join(' — ') },
    ]),
  );
  return 0;
}

async function retry(ctx: Context): Promise<number> {
  const id = arg(ctx, 0, 'id');
  const { flags } = ctx;
  const selective = flags['resource-type'] !== undefined || flags['resource-id'] !== undefined;
  if (Boolean(flags.all) === selective) throw new UsageError('retry needs either --all or --resource-type and/or --resource-id');
  const body = flags.all
    ? { all: true }
    : { ...(flags['resource-type'] ? { resourceType: flags['resource-type'] } : {}), ...(flags['resource-id'] ? { resourceId: flags['resource-id'] } : {}) };
  const answer = await ctx.client.request<Json>('POST', `/connections/${id}/failures/retry`, body);
  print(ctx, answer.body, () => keyValues(Object.entries(answer.body)));
  return 0;
}

async function tax(ctx: Context): Promise<number> {
  const path = `/connections/${arg(ctx, 0, 'id')}/invoices/${arg(ctx, 1, 'invoiceId')}/tax`;
  const { body } = await ctx.client.request<Json>(ctx.flags.show ? 'GET' : 'POST', path);
  print(ctx, body, () => taxRecordText(body));
  return 0;
}

async function finalize(ctx: Context): Promise<number> {
  const { body } = await ctx.client.request<{ invoice?: Json; taxRecord?: Json }>('POST', `/connections/${arg(ctx, 0, 'id')}/invoices/${arg(ctx, 1, 'invoiceId')}/finalize`);
  print(ctx, body, () => {
    const invoice = body.invoice ?? {};
    return `${keyValues([
      ['invoice', invoice.id],
      ['status', invoice.status],
      ['number', invoice.invoiceNumber],
      ['net total', invoice.netTotal],
      ['total tax', invoice.totalTax],
      ['gross total', invoice.grossTotal],
    ])}\n${body.taxRecord ? taxRecordText(body.taxRecord) : ''}`;
  });
  return 0;
}

async function audit(ctx: Context): Promise<number> {
  const limit = ctx.flags.limit;
  if (limit !== undefined && !/^\d+$/.test(limit)) throw new UsageError('--limit must be a positive integer');
  const { body } = await ctx.client.request<{ items: Json[] }>('GET', `/connections/${arg(ctx, 0, 'id')}/audit${limit ? `?limit=${limit}` : ''}`);
  print(ctx, body, () =>
    table(body.items ?? [], [
      { header: 'AT', value: (e) => e.at },
      { header: 'SERVICE', value: (e) => e.service },
      { header: 'METHOD', value: (e) => e.method },
      { header: 'PATH', value: (e) => e.path },
      { header: 'STATUS', value: (e) => e.status ?? e.errorCode },
      { header: 'MS', value: (e) => e.latencyMs },
      { header: 'TRY', value: (e) => e.attempt },
      { header: 'REQUEST ID', value: (e) => e.requestId },
    ]),
  );
  return 0;
}

async function dlq(ctx: Context): Promise<number> {
  const { body } = await ctx.client.request<{ items: Json[] }>('GET', '/dlq');
  print(ctx, body, () =>
    table(body.items ?? [], [
      { header: 'QUEUE', value: (q) => q.queue },
      { header: 'DLQ', value: (q) => q.deadLetterQueue },
      { header: 'MESSAGES', value: (q) => q.visible },
      { header: 'IN FLIGHT', value: (q) => q.inFlight },
    ]),
  );
  return 0;
}

async function redrive(ctx: Context): Promise<number> {
  const queue = arg(ctx, 0, 'queue');
  const total = { queue: decodeURIComponent(queue), moved: 0, failed: 0, remaining: 0 };
  // The API moves what it can in one call (202 when messages remain); keep calling while it makes progress.
  for (;;) {
    const answer = await ctx.client.request<{ moved: number; failed: number; remaining: number }>('POST', `/dlq/${queue}/redrive`);
    total.moved += answer.body.moved;
    total.failed += answer.body.failed;
    total.remaining = answer.body.remaining;
    if (answer.status !== 202 || answer.body.moved === 0) break;
    if (!ctx.flags.json) ctx.io.stderr(`moved ${total.moved}, ${total.remaining} left…\n`);
  }
  print(ctx, total, () => keyValues(Object.entries(total)));
  return total.failed === 0 && total.remaining === 0 ? 0 : 1;
}

async function consoleCommand(ctx: Context): Promise<number> {
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

/** Any occurrence of a secret in `text`, replaced: the last line of defence for what verify prints. */
function withoutSecrets(text: string, secrets: readonly string[]): string {
  return secrets.filter((x) => x.length > 0).reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

async function verify(ctx: Context): Promise<number> {
  const { flags, io } = ctx;
  if (flags['sequence-client-secret'] !== undefined || flags['sphere-api-key'] !== undefined) {
    throw new UsageError('verify reads secrets from SEQUENCE_CLIENT_SECRET / SPHERE_API_KEY or stdin, never from flags (shell history)');
  }
  const missing = [
    !flags['sequence-base-url'] && '--sequence-base-url (your Sequence sandbox API, e.g. https://sandbox.sequencehq.com/api)',
    !flags['sequence-client-id'] && '--sequence-client-id',
    !flags['sphere-base-url'] && '--sphere-base-url (e.g. https://server.getsphere.com)',
    !flags['tax-code-default'] && '--tax-code-default (a product tax code of your Sphere organisation)',
  ].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`verify needs ${missing.join(', ')}`);
  for (const name of ['sequence-base-url', 'sphere-base-url', 'webhook-url'] as const) {
    const value = flags[name];
    if (value !== undefined && !URL.canParse(value)) throw new UsageError(`--${name} must be an absolute URL, got "${value}"`);
  }
  const rawPort = flags['webhook-port'] ?? '0';
  if (!/^\d+$/.test(rawPort) || Number(rawPort) > 65535) throw new UsageError(`--webhook-port must be a port number (0-65535), got "${rawPort}"`);
  const webhookWaitMs = seconds(flags['webhook-wait'], 'webhook-wait', 30) * 1000;

  // Sequence first, then Sphere: the order the usage text promises for piped input.
  const secret = async (env: string | undefined, prompt: string): Promise<string> => {
    if (env) return env;
    if (!io.readSecret) throw new UsageError(`verify needs ${prompt.replace(/:\s*$/, '')} (env or stdin)`);
    return io.readSecret(prompt);
  };
  const sequenceClientSecret = await secret(io.env.SEQUENCE_CLIENT_SECRET, 'Sequence client secret (SEQUENCE_CLIENT_SECRET): ');
  const sphereApiKey = await secret(io.env.SPHERE_API_KEY, 'Sphere API key (SPHERE_API_KEY): ');
  const scrub = (text: string) => withoutSecrets(text, [sequenceClientSecret, sphereApiKey]);

  const session = new VerifySession({
    sequenceBaseUrl: flags['sequence-base-url']!,
    sequenceClientId: flags['sequence-client-id']!,
    sequenceClientSecret,
    sphereBaseUrl: flags['sphere-base-url']!,
    sphereApiKey,
    taxCode: flags['tax-code-default']!,
    ...(flags['webhook-url'] ? { webhookUrl: flags['webhook-url'] } : {}),
    webhookPort: Number(rawPort),
    webhookWaitMs,
  });
  const checks = await runChecks(session);
  const refutedCount = checks.filter((c) => c.verdict === 'refuted').length;
  const count = (v: string) => checks.filter((c) => c.verdict === v).length;
  const output = flags.json
    ? `${JSON.stringify({ checks: checks.map(({ id, assumption, verdict, evidence }) => ({ id, assumption, verdict, evidence })) }, null, 2)}\n`
    : table(checks, [
        { header: 'ID', value: (c) => c.id },
        { header: 'VERDICT', value: (c) => (c.verdict === 'refuted' ? 'REFUTED' : c.verdict) },
        { header: 'EVIDENCE', value: (c) => c.evidence },
      ]) +
      `\n${count('confirmed')} confirmed, ${refutedCount} refuted, ${count('unknown')} unknown.` +
      (refutedCount > 0 ? ' Each refuted assumption: see README "Assumptions about the real APIs" and its registry entry (shared/assumptions/registry.ts) before connecting.\n' : '\n');
  io.stdout(scrub(output));
  for (const leftover of session.cleanupFailures) io.stderr(scrub(`Could not remove ${leftover}: delete it by hand.\n`));
  return refutedCount > 0 ? 1 : 0;
}

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
