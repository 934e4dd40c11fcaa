/**
 * The few HTTP calls the demo makes, as an operator and a Sequence user would: the connector's admin
 * API (bearer token), Sequence's public API on the simulator (Basic auth, `Sequence-Version`), and
 * the simulators' `/_sim/*` controls for seeding and inspection. No connector internals.
 */
import { AdminClient } from '../cli/client';

/** Where everything is. Secrets here are only the simulators' documented defaults and the admin token. */
export interface DemoTargets {
  /** Connector front door, e.g. `http://127.0.0.1:3000`. */
  connectorUrl: string;
  adminToken: string;
  /** Sequence simulator root (its API is under `/api`, its controls under `/_sim`). */
  sequenceSimUrl: string;
  sphereSimUrl: string;
  sequenceClientId: string;
  sequenceClientSecret: string;
  sphereApiKey: string;
}

export const SEQUENCE_VERSION = '2024-07-30';

export class DemoHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} → HTTP ${status}${errorSummary(body)}`);
    this.name = 'DemoHttpError';
  }
}

function errorSummary(body: unknown): string {
  if (body && typeof body === 'object') {
    const error = (body as { error?: unknown }).error;
    if (error && typeof error === 'object') {
      const e = error as { code?: unknown; type?: unknown; message?: unknown };
      const code = typeof e.code === 'string' ? e.code : typeof e.type === 'string' ? e.type : '';
      const message = typeof e.message === 'string' ? e.message : '';
      return `: ${[code, message].filter(Boolean).join(': ')}`;
    }
  }
  return '';
}

export interface HttpAnswer<T> {
  status: number;
  body: T;
}

async function call<T>(url: string, method: string, headers: Record<string, string>, body: unknown, timeoutMs = 30_000): Promise<HttpAnswer<T>> {
  const response = await fetch(url, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let parsed: unknown = {};
  if (text !== '') {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { raw: text.slice(0, 200) };
    }
  }
  return { status: response.status, body: parsed as T };
}

/** Connector admin API through the operator CLI's client; answers with status and body (the caller decides what is an error). */
export function admin<T = Record<string, unknown>>(t: DemoTargets, method: string, path: string, body?: unknown): Promise<HttpAnswer<T>> {
  const client = new AdminClient({ baseUrl: t.connectorUrl, token: t.adminToken, fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(30_000) }) });
  return client.call<T>(method, path, body);
}

/** Connector admin API, expecting one of `ok` statuses. */
export async function adminOk<T = Record<string, unknown>>(t: DemoTargets, method: string, path: string, body?: unknown, ok: number[] = [200, 201, 202]): Promise<T> {
  const answer = await admin<T>(t, method, path, body);
  if (!ok.includes(answer.status)) throw new DemoHttpError(answer.status, answer.body, `connector ${method} ${path}`);
  return answer.body;
}

/** Sequence's public API on the simulator. */
export async function sequence<T = Record<string, unknown>>(t: DemoTargets, method: string, path: string, body?: unknown): Promise<T> {
  const basic = Buffer.from(`${t.sequenceClientId}:${t.sequenceClientSecret}`).toString('base64');
  const answer = await call<T>(`${t.sequenceSimUrl}/api${path}`, method, { authorization: `Basic ${basic}`, 'sequence-version': SEQUENCE_VERSION }, body);
  if (answer.status < 200 || answer.status >= 300) throw new DemoHttpError(answer.status, answer.body, `Sequence ${method} ${path}`);
  return answer.body;
}

/** A simulator's `/_sim/*` control surface (no auth). */
export async function sim<T = Record<string, unknown>>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const answer = await call<T>(`${baseUrl}${path}`, method, {}, body);
  if (answer.status < 200 || answer.status >= 300) throw new DemoHttpError(answer.status, answer.body, `simulator ${method} ${path}`);
  return answer.body;
}

/** True when something answers HTTP at `url` (any status). */
export async function answers(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Status of `GET url`, or undefined when nothing answers. */
export async function statusOf(url: string, timeoutMs = 1500): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Poll `probe` until it returns a value (not undefined/false) or the deadline passes; then `undefined`. */
export async function poll<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 150): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) return undefined;
    await sleep(everyMs);
  }
}
