/**
 * The connect flow's integration harness, a preset of local/stack.ts: the deployed routes and
 * simulators, the backfill queue bound to a recording consumer (the other queues left out), a
 * webhook capture server standing in for the connector's public URL, and a switchable proxy in front
 * of the Sequence simulator (to fail the policy registration only).
 */
import { readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Stack, startStack } from '../../../local/stack';

export const ADMIN_TOKEN = 'connect-test-admin-token';

export interface CapturedWebhook {
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: Buffer;
}

/** A tiny public URL stand-in: records every POST and answers 202. */
export async function startCaptureServer(): Promise<{ url: string; received: CapturedWebhook[]; stop: () => Promise<void> }> {
  const received: CapturedWebhook[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, rawBody: Buffer.concat(chunks) });
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"accepted":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Forwards to `target`; while `failPolicyCreate` is on, `POST …/notifications/policies` answers 500. */
export async function startSequenceProxy(target: string): Promise<{ apiUrl: string; control: { failPolicyCreate: boolean }; stop: () => Promise<void> }> {
  const control = { failPolicyCreate: false };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (control.failPolicyCreate && req.method === 'POST' && (req.url ?? '').startsWith('/api/notifications/policies')) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"error":{"type":"internalServerError","message":"Simulated policy failure"}}');
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
        const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
        const upstream = await fetch(`${target}${req.url ?? '/'}`, { method: req.method, headers, ...(body && body.length > 0 ? { body } : {}) });
        const text = Buffer.from(await upstream.arrayBuffer());
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        res.end(text);
      })().catch(() => {
        res.writeHead(502);
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    apiUrl: `${url}/api`,
    control,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ConnectStackOptions {
  sequence?: { clientId?: string; clientSecret?: string };
  sphereApiKeys?: string[];
  /** Extra handler environment (e.g. CONNECTOR_PUBLIC_URL). */
  env?: Record<string, string>;
  log?: (line: string) => void;
  withBackfillQueue?: boolean;
}

export interface ConnectStack extends Stack {
  /** The credential files in the local vault. */
  vaultFiles: () => string[];
}

export async function startConnectStack(options: ConnectStackOptions = {}): Promise<ConnectStack> {
  const stack = await startStack({
    sequence: { ...options.sequence, webhookRetryDelaysMs: [50] },
    ...(options.sphereApiKeys ? { sphere: { apiKeys: options.sphereApiKeys } } : {}),
    queue: (q) =>
      q.queueName === 'backfill.fifo' && options.withBackfillQueue !== false
        ? { ...q, load: () => import('../../fixtures/handlers/sqs-scripted'), visibilityTimeoutSeconds: 30, timeoutSeconds: 30, maxConcurrency: 1 }
        : undefined,
    runtime: { adminToken: ADMIN_TOKEN, log: options.log ?? (() => undefined), ...(options.env ? { env: options.env } : {}) },
  });
  return { ...stack, vaultFiles: () => readdirSync(stack.runtime.vaultDir).filter((f) => f.endsWith('.json')) };
}
