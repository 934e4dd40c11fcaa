/**
 * The console's one way to the admin API: same origin, JSON in and out. Locally (`npm start`) the
 * operator's admin token rides along from sessionStorage (this tab only); behind
 * `sphere-connector console` the local server signs the call and the page sends its session header.
 */
export interface ConsoleConfig {
  /** `token`: ask the operator for the admin token. `session`: the console server adds the credentials. */
  auth: 'token' | 'session';
  sessionToken?: string;
  /** Shown in the header: where the admin API is. */
  target: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Thrown when the token is missing or refused: the shell shows the token prompt. */
export class NeedTokenError extends Error {
  constructor(readonly refused = false) {
    super(refused ? 'The admin token was refused' : 'The admin token is needed');
  }
}

const TOKEN_KEY = 'sphere-connector-admin-token';
let config: ConsoleConfig | undefined;

export async function loadConfig(): Promise<ConsoleConfig> {
  if (config) return config;
  const answer = await fetch('config.json', { headers: { accept: 'application/json' } });
  config = (await answer.json()) as ConsoleConfig;
  return config;
}

export function setToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function hasCredentials(): boolean {
  return config?.auth === 'session' || sessionStorage.getItem(TOKEN_KEY) !== null;
}

export async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const cfg = await loadConfig();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (cfg.auth === 'session') {
    headers['x-console-session'] = cfg.sessionToken ?? '';
  } else {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) throw new NeedTokenError();
    headers.authorization = `Bearer ${token}`;
  }
  let answer: Response;
  try {
    answer = await fetch(`..${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  } catch {
    throw new ApiError(0, 'unreachable', 'The connector cannot be reached. Is it running?');
  }
  const text = await answer.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (answer.status === 401 && cfg.auth === 'token') {
    forgetToken();
    throw new NeedTokenError(true);
  }
  if (answer.status >= 400) {
    const error = (parsed as { error?: { code?: string; message?: string; field?: string }; message?: string } | undefined) ?? {};
    throw new ApiError(answer.status, error.error?.code ?? 'error', error.error?.message ?? error.message ?? `HTTP ${answer.status}`, error.error?.field);
  }
  return { status: answer.status, body: parsed as T };
}
