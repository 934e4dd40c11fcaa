/**
 * `sphere-connector console`: the operator console on 127.0.0.1, in front of a connector's admin API.
 * The page calls this server; it forwards admin API calls with the CLI's credentials (SigV4 from the
 * operator's AWS credentials with --aws, else the bearer token), so nothing new is exposed in AWS
 * and no credential reaches the browser.
 *
 * Only the page itself may use the forwarder: every API call must carry this run's random session
 * token (a custom header, so another site's page cannot send it without a CORS preflight this server
 * never grants), and the Host header must be this server's (no DNS rebinding).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isConsolePath, serveConsole } from '../console/serve';
import { type AdminClient } from './client';

/** Admin bodies are small JSON documents; anything larger is refused before forwarding. */
const MAX_FORWARD_BYTES = 1024 * 1024;
const API_PATH = /^\/(connections|dlq)(\/|$)/;

export interface ConsoleServerOptions {
  client: AdminClient;
  /** Shown in the page header: where the admin API is and how calls are authorised. */
  target: string;
  port: number;
  host?: string;
}

export interface ConsoleServer {
  url: string;
  stop(): Promise<void>;
}

function sameSecret(given: string | undefined, expected: string): boolean {
  const a = createHash('sha256').update(given ?? '').digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given !== undefined;
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: http.IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_FORWARD_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_FORWARD_BYTES ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const sessionToken = randomBytes(24).toString('base64url');
  const host = options.host ?? '127.0.0.1';
  let allowedHosts: string[] = [];

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const method = (req.method ?? 'GET').toUpperCase();
    if (!allowedHosts.includes((req.headers.host ?? '').toLowerCase())) {
      req.resume();
      return sendError(res, 421, 'wrong_host', `Open the console at ${allowedHosts[0]}`);
    }
    if (isConsolePath(method, rawPath)) {
      req.resume();
      return serveConsole(rawPath, res, { auth: 'session', sessionToken, target: options.target });
    }
    if (!API_PATH.test(rawPath)) {
      req.resume();
      return sendError(res, 404, 'not_found', `No route for ${method} ${rawPath}; the console is at /console/`);
    }
    const session = req.headers['x-console-session'];
    if (!sameSecret(typeof session === 'string' ? session : undefined, sessionToken)) {
      req.resume();
      return sendError(res, 403, 'forbidden', 'Only the console page served here may call the admin API through it');
    }
    const body = await readBody(req);
    if (body === null) return sendError(res, 413, 'payload_too_large', `Request body is larger than ${MAX_FORWARD_BYTES} bytes`);
    const answer = await options.client.send(method, url, body.length > 0 ? body.toString('utf8') : undefined);
    res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer.text), 'cache-control': 'no-store' });
    res.end(answer.text);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      const code = (error as { code?: string }).code === 'unreachable' ? 'unreachable' : 'console_server_error';
      sendError(res, 502, code, error instanceof Error ? error.message : 'The console server could not forward the call');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  allowedHosts = [`${host}:${port}`, `localhost:${port}`];
  return {
    url: `http://${host}:${port}/console/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
