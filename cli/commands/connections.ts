/** Connection commands: connect, update (rotation, settings), list, status, test, disconnect, backfill. */
import { type Column, keyValues, progressBar, table } from '../format';
import { type Context, type Flags, type Json, UsageError, arg, print, seconds, show, showItems, str } from './context';

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

export async function connect(ctx: Context): Promise<number> {
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

export async function update(ctx: Context): Promise<number> {
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

export const list = (ctx: Context) => showItems(ctx, '/connections', CONNECTION_COLUMNS);

export const status = (ctx: Context) => show<Json>(ctx, 'GET', `/connections/${arg(ctx, 0, 'id')}`, connectionSummary);

export async function testCommand(ctx: Context): Promise<number> {
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

export const disconnect = (ctx: Context) => show<Json>(ctx, 'DELETE', `/connections/${arg(ctx, 0, 'id')}`, (body) => `Disconnected.\n${connectionSummary(body)}`);

export async function backfill(ctx: Context): Promise<number> {
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
