/**
 * The local front door against real handlers: API Gateway HTTP API payload 2.0 events (raw body
 * bytes, base64 rules, path parameters, query strings), admin auth, error mapping, size limit,
 * and /health.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startLocalRuntime, type HttpRoute, type LocalRuntime } from '../../../local/runtime';

const ADMIN = 'test-admin-token';

const routes: HttpRoute[] = [
  { method: 'POST', path: '/webhooks/sequence/{connectionId}', auth: 'none', functionName: 'webhook-ingest', load: () => import('../../fixtures/handlers/http-echo') },
  { method: 'GET', path: '/connections/{id}/invoices/{invoiceId}/tax', auth: 'admin', functionName: 'admin-api', load: () => import('../../fixtures/handlers/http-echo') },
  { method: 'GET', path: '/connections/{id}', auth: 'admin', functionName: 'admin-api', load: () => import('../../fixtures/handlers/http-echo') },
  { method: 'GET', path: '/connections/special', auth: 'none', functionName: 'special', load: () => import('../../fixtures/handlers/http-bare') },
  { method: 'POST', path: '/crash', auth: 'none', functionName: 'crash', load: () => import('../../fixtures/handlers/http-crash') },
];

/** A stand-in simulator: any HTTP server that answers. */
function fakeSimulator() {
  return {
    start: async () => {
      const server = http.createServer((_req, res) => res.end('{}'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      return { url, apiUrl: `${url}/api`, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    },
  };
}

let runtime: LocalRuntime;
let dataDir: string;
const logLines: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'front-door-'));
  runtime = await startLocalRuntime({
    port: 0,
    dataDir,
    inMemory: true,
    routes,
    queues: [],
    adminToken: ADMIN,
    maxBodyBytes: 1024 * 1024,
    simulators: { sequence: fakeSimulator(), sphere: fakeSimulator() },
    log: (line) => logLines.push(line),
  });
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Echo {
  rawBodyBase64: string;
  isBase64Encoded: boolean;
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  pathParameters: Record<string, string> | null;
  queryStringParameters: Record<string, string> | null;
  headers: Record<string, string>;
  requestContext: { http: { method: string; path: string; sourceIp: string; userAgent: string }; stage: string; routeKey: string; requestId: string; timeEpoch: number; time: string };
  functionName: string;
  awsRequestId: string;
  remainingMs: number;
}

async function post(pathAndQuery: string, body: Buffer | string | undefined, headers: Record<string, string> = {}) {
  const response = await fetch(`${runtime.url}${pathAndQuery}`, { method: 'POST', headers, ...(body !== undefined ? { body } : {}) });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Echo & { error?: { code: string; message: string } } };
}

describe('webhook-shaped requests reach the handler with the exact raw bytes', () => {
  it('passes a JSON body as a UTF-8 string, byte for byte (whitespace, key order, unicode)', async () => {
    const raw = Buffer.from('{ "b":1,\n  "a": "Zürich €",   "n": 1.10 }\n', 'utf8');
    const r = await post('/webhooks/sequence/con_123', raw, { 'content-type': 'application/json; charset=utf-8', 'Sequence-Signature': 't=1,s=abc' });
    expect(r.status).toBe(200);
    expect(r.json.isBase64Encoded).toBe(false);
    expect(Buffer.from(r.json.rawBodyBase64, 'base64').equals(raw)).toBe(true);
    expect(r.json.pathParameters).toEqual({ connectionId: 'con_123' });
    expect(r.json.routeKey).toBe('POST /webhooks/sequence/{connectionId}');
    expect(r.json.headers['sequence-signature']).toBe('t=1,s=abc');
    expect(r.json.functionName).toBe('webhook-ingest');
    expect(r.json.remainingMs).toBeGreaterThan(25_000);
    expect(r.headers.get('x-handled-by')).toBe('webhook-ingest');
  });

  it('base64-encodes a non-text content type (form) and a missing content type', async () => {
    const form = Buffer.from('a=1&b=%C3%BC+x', 'utf8');
    const r1 = await post('/webhooks/sequence/c1', form, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(r1.json.isBase64Encoded).toBe(true);
    expect(Buffer.from(r1.json.rawBodyBase64, 'base64').equals(form)).toBe(true);

    const noType = await new Promise<Echo>((resolve, reject) => {
      // fetch always adds a content type for string bodies; use node:http to send none.
      const req = http.request(`${runtime.url}/webhooks/sequence/c1`, { method: 'POST', headers: { 'content-length': '5' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Echo));
      });
      req.on('error', reject);
      req.end('hello');
    });
    expect(noType.isBase64Encoded).toBe(true);
    expect(Buffer.from(noType.rawBodyBase64, 'base64').toString('utf8')).toBe('hello');
  });

  it('keeps arbitrary binary bytes intact (invalid UTF-8 included)', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a, 0x0d, 0x7f, ...Array.from({ length: 256 }, (_, i) => i)]);
    const r = await post('/webhooks/sequence/c1', bytes, { 'content-type': 'application/octet-stream' });
    expect(r.json.isBase64Encoded).toBe(true);
    expect(Buffer.from(r.json.rawBodyBase64, 'base64').equals(bytes)).toBe(true);
  });

  it('treats text/* as text and has no body for an empty request', async () => {
    const r = await post('/webhooks/sequence/c1', 'plain text', { 'content-type': 'text/plain' });
    expect(r.json.isBase64Encoded).toBe(false);
    expect(Buffer.from(r.json.rawBodyBase64, 'base64').toString()).toBe('plain text');
    const empty = await post('/webhooks/sequence/c1', undefined);
    expect(empty.json.isBase64Encoded).toBe(false);
    expect(empty.json.rawBodyBase64).toBe('');
  });
});

describe('routing, path parameters and query strings', () => {
  const auth = { authorization: `Bearer ${ADMIN}` };

  it('fills pathParameters from the template and decodes them; raw query kept, repeated keys joined', async () => {
    const response = await fetch(`${runtime.url}/connections/con%201/invoices/inv_9/tax?expand=lines&x=1&x=2&e=%C3%BC`, { headers: auth });
    expect(response.status).toBe(200);
    const echo = (await response.json()) as Echo;
    expect(echo.pathParameters).toEqual({ id: 'con 1', invoiceId: 'inv_9' });
    expect(echo.rawPath).toBe('/connections/con%201/invoices/inv_9/tax');
    expect(echo.rawQueryString).toBe('expand=lines&x=1&x=2&e=%C3%BC');
    expect(echo.queryStringParameters).toEqual({ expand: 'lines', x: '1,2', e: 'ü' });
    expect(echo.routeKey).toBe('GET /connections/{id}/invoices/{invoiceId}/tax');
    expect(echo.requestContext.stage).toBe('$default');
    expect(echo.requestContext.http.method).toBe('GET');
    expect(echo.requestContext.http.sourceIp).toBe('127.0.0.1');
    expect(echo.requestContext.requestId).toBeTruthy();
    expect(echo.headers.authorization).toBe(`Bearer ${ADMIN}`);
    expect(echo.queryStringParameters).not.toBeNull();
  });

  it('prefers a literal route over a parameter and maps a bare object result to 200 JSON', async () => {
    const response = await fetch(`${runtime.url}/connections/special`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ hello: 'world' });
  });

  it('answers 404 with the error shape for an unknown route or method', async () => {
    for (const [method, p] of [['GET', '/nope'], ['DELETE', '/connections/x/invoices/y/tax']] as const) {
      const response = await fetch(`${runtime.url}${p}`, { method, headers: auth });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });
});

describe('admin auth', () => {
  it.each([
    ['missing', undefined],
    ['wrong token', 'Bearer nope'],
    ['wrong scheme', `Basic ${ADMIN}`],
    ['longer token', `Bearer ${ADMIN}x`],
  ])('401 when the bearer is %s, without reaching the handler', async (_label, header) => {
    const response = await fetch(`${runtime.url}/connections/c1`, { headers: header ? { authorization: header } : {} });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('unauthorized');
    expect(body.error.message).not.toContain(ADMIN);
  });

  it('passes with the right token', async () => {
    const response = await fetch(`${runtime.url}/connections/c1`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(response.status).toBe(200);
  });

  it('does not require a token on public routes', async () => {
    expect((await post('/webhooks/sequence/c1', '{}', { 'content-type': 'application/json' })).status).toBe(200);
  });
});

describe('errors and limits', () => {
  it('maps a handler crash to 500 internal_error without stack or message', async () => {
    const response = await fetch(`${runtime.url}/crash`, { method: 'POST' });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { code: 'internal_error', message: expect.any(String) } });
    expect(text).not.toMatch(/kaboom|secret-detail|\.ts:\d+|at /);
  });

  it('answers 413 to a body over the limit (declared length and chunked)', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 0x61);
    const r1 = await fetch(`${runtime.url}/webhooks/sequence/c1`, { method: 'POST', body: big, headers: { 'content-type': 'application/json' } });
    expect(r1.status).toBe(413);
    expect(((await r1.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');

    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${runtime.url}/webhooks/sequence/c1`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 5; i++) req.write(Buffer.alloc(300 * 1024, 0x62));
      req.end();
    });
    expect(chunked).toBe(413);
  });

  it('accepts a body exactly at the limit', async () => {
    const exact = Buffer.alloc(1024 * 1024, 0x63);
    const r = await post('/webhooks/sequence/c1', exact, { 'content-type': 'application/octet-stream' });
    expect(r.status).toBe(200);
    expect(Buffer.from(r.json.rawBodyBase64, 'base64').equals(exact)).toBe(true);
  });
});

describe('health and logging', () => {
  it('GET /health is 200 with every component ok', async () => {
    const response = await fetch(`${runtime.url}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', components: { dynamodb: 'ok', sqs: 'ok', sequence: 'ok', sphere: 'ok', pollers: 'ok' } });
  });

  it('logs one line per request without headers, query or bodies', () => {
    expect(logLines.some((l) => /^GET \/connections\/con%201\/invoices\/inv_9\/tax 200 \d+\.\dms$/.test(l))).toBe(true);
    const all = logLines.join('\n');
    expect(all).not.toContain(ADMIN);
    expect(all).not.toContain('expand=lines');
    expect(all).not.toContain('Zürich');
  });

  it('set the handler environment for the emulators', () => {
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(runtime.dynamoEndpoint);
    expect(process.env.AWS_ENDPOINT_URL_SQS).toBe(runtime.sqsEndpoint);
    expect(process.env.SECRETS_BACKEND).toBe('local-vault');
    expect(process.env.CONNECTOR_PUBLIC_URL).toBe(runtime.url);
    expect(runtime.publicUrl).toBe(runtime.url);
    expect(process.env.SEQUENCE_BASE_URL).toMatch(/\/api$/);
  });
});
