/**
 * The connect flow's integration harness: the local runtime (front door + dynalite + fauxqs + local
 * vault) hosting functions/admin-api, the Sequence and Sphere simulators, a backfill queue bound to
 * a recording consumer, a webhook capture server standing in for the connector's public URL, and a
 * switchable proxy in front of the Sequence simulator (to fail the policy registration only).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type HttpRoute, type LocalRuntime, type QueueBinding, startLocalRuntime } from '../../../local/runtime';
import { loadFauxqs } from '../../../local/runtime/esm';
import { type SequenceSimulator, startSequenceSimulator } from '../../../local/sequence-sim/server';
import { type SphereSimulator, startSphereSimulator } from '../../../local/sphere-sim';

const load = () => import('../../../functions/admin-api/handler');

export const CONNECT_ROUTES: HttpRoute[] = [
  { method: 'POST', path: '/connections', auth: 'admin', functionName: 'admin-api', load },
  { method: 'GET', path: '/connections', auth: 'admin', functionName: 'admin-api', load },
  { method: 'GET', path: '/connections/{id}', auth: 'admin', functionName: 'admin-api', load },
  { method: 'PATCH', path: '/connections/{id}', auth: 'admin', functionName: 'admin-api', load },
  { method: 'DELETE', path: '/connections/{id}', auth: 'admin', functionName: 'admin-api', load },
  { method: 'POST', path: '/connections/{id}/test', auth: 'admin', functionName: 'admin-api', load },
  { method: 'POST', path: '/connections/{id}/backfill', auth: 'admin', functionName: 'admin-api', load },
];

export const BACKFILL_BINDING: QueueBinding = {
  queueName: 'backfill.fifo',
  dlqName: 'backfill-dlq.fifo',
  functionName: 'backfill',
  load: () => import('../../fixtures/handlers/sqs-scripted'),
  batchSize: 10,
  visibilityTimeoutSeconds: 30,
  maxReceiveCount: 5,
  maxConcurrency: 1,
};

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

export interface ConnectStack {
  runtime: LocalRuntime;
  sequence: SequenceSimulator;
  sphere: SphereSimulator;
  dataDir: string;
  admin: (method: string, path: string, body?: unknown, token?: string | null) => Promise<{ status: number; text: string; json: Record<string, unknown> }>;
  vaultFiles: () => string[];
  stop: () => Promise<void>;
}

export async function startConnectStack(options: ConnectStackOptions = {}): Promise<ConnectStack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'connect-'));
  const sequence = await startSequenceSimulator({ port: 0, ...(options.sequence ?? {}), webhookRetryDelaysMs: [50] });
  const sphere = await startSphereSimulator({ port: 0, ...(options.sphereApiKeys ? { apiKeys: options.sphereApiKeys } : {}) });
  const runtime = await startLocalRuntime({
    port: 0,
    dataDir,
    inMemory: true,
    routes: CONNECT_ROUTES,
    queues: options.withBackfillQueue === false ? [] : [BACKFILL_BINDING],
    adminToken: ADMIN_TOKEN,
    simulators: {
      sequence: { start: async () => ({ url: sequence.url, apiUrl: sequence.apiUrl, stop: () => sequence.stop() }) },
      sphere: { start: async () => ({ url: sphere.url, stop: () => sphere.stop() }) },
    },
    log: options.log ?? (() => undefined),
    pollWaitSeconds: 1,
    ...(options.env ? { env: options.env } : {}),
  });

  // Work-around (local runtime): fauxqs queue URLs use the host `sqs.<region>.localhost`, and an
  // SQSClient configured only through AWS_ENDPOINT_URL_SQS (as dependencies() builds it) sends to the
  // queue URL's host, which this machine's resolver does not know. Resolve *.localhost to 127.0.0.1
  // in this process while the stack runs (fauxqs's own helper), so handlers can send to queues.
  const { interceptLocalhostDns } = await loadFauxqs();
  const restoreDns = interceptLocalhostDns();

  const admin: ConnectStack['admin'] = async (method, urlPath, body, token = ADMIN_TOKEN) => {
    const response = await fetch(`${runtime.url}${urlPath}`, {
      method,
      headers: {
        ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let json: Record<string, unknown> = {};
    try {
      json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      json = {};
    }
    return { status: response.status, text, json };
  };

  return {
    runtime,
    sequence,
    sphere,
    dataDir,
    admin,
    vaultFiles: () => readdirSync(runtime.vaultDir).filter((f) => f.endsWith('.json')),
    stop: async () => {
      await runtime.stop();
      restoreDns();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}


/** A POST /connections body for the simulators' default credentials. */
export function connectBody(overrides: { name?: string; sequence?: Record<string, unknown>; sphere?: Record<string, unknown>; [k: string]: unknown } = {}) {
  const { sequence, sphere, ...rest } = overrides;
  return {
    name: 'Acme Cloud (sandbox)',
    sequence: { environment: 'sandbox', clientId: 'local-client', clientSecret: 'local-secret', ...(sequence ?? {}) },
    sphere: { apiKey: 'sph_test_local', ...(sphere ?? {}) },
    // Required (no built-in default): a code of the Sphere simulator's catalogue.
    taxCodes: { default: 'txcd_10000000' },
    ...rest,
  };
}
