/** What every command shares: the process I/O, the parsed flags, the admin client, and how a result is printed. */
import { type parseArgs } from 'node:util';
import { type AdminClient, type FetchLike } from '../client';
import { type Column, redact, table } from '../format';
import { type SecretReader } from '../secret-input';
import { type RequestSigner } from '../sigv4';

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

export const OPTIONS = {
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

export type Flags = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

export interface Context {
  client: AdminClient;
  flags: Flags;
  args: string[];
  io: CliIo;
}

export type Json = Record<string, unknown>;

export function print(ctx: Context, body: unknown, human: () => string): void {
  ctx.io.stdout(ctx.flags.json ? `${JSON.stringify(redact(body), null, 2)}\n` : human());
}

export function arg(ctx: Context, index: number, name: string): string {
  const value = ctx.args[index];
  if (!value) throw new UsageError(`Missing <${name}>`);
  return encodeURIComponent(value);
}

export function seconds(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${name} must be a positive number of seconds`);
  return value;
}

export const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** The usual command: one admin API call, its body printed (the API's JSON with --json, else `human(body)`), exit 0. */
export async function show<T>(ctx: Context, method: string, path: string, human: (body: T) => string): Promise<number> {
  const { body } = await ctx.client.request<T>(method, path);
  print(ctx, body, () => human(body));
  return 0;
}

/** A listing command: GET `path` (an `{ items }` answer) and print the items as a table of `columns`. */
export function showItems(ctx: Context, path: string, columns: Column<Json>[]): Promise<number> {
  return show<{ items?: Json[] }>(ctx, 'GET', path, (body) => table(body.items ?? [], columns));
}
