/**
 * `sphere-connector console`: the console server on 127.0.0.1 in front of an admin API. Stands in
 * for API Gateway with a recording HTTP server and signs with the real SigV4 signer (static test
 * credentials), so what reaches "AWS" is checked: the page's calls arrive signed, and nothing
 * without this run's session token, from another Host, or outside the admin API is forwarded.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AdminClient } from '../../../cli/client';
import { type CliIo, runCli } from '../../../cli/commands';
import { type ConsoleServer, startConsoleServer } from '../../../cli/console-server';
import { createSigV4Signer } from '../../../cli/sigv4';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let upstream: http.Server;
let upstreamUrl: string;
let received: Received[] = [];
let server: ConsoleServer;
let origin: string;
let sessionToken: string;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = req.url?.startsWith('/connections/missing') ? 404 : 201;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 404 ? '{"error":{"code":"connection_not_found","message":"No connection missing"}}' : '{"id":"conn_1","status":"ACTIVE"}');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const signer = createSigV4Signer({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDCONSOLETEST', secretAccessKey: 'console-test-secret' } });
  server = await startConsoleServer({ client: new AdminClient({ baseUrl: upstreamUrl, signer }), target: `${upstreamUrl} (AWS SigV4)`, port: 0 });
  origin = new URL(server.url).origin;
  const config = (await (await fetch(`${origin}/console/config.json`)).json()) as { auth: string; sessionToken: string; target: string };
  expect(config).toMatchObject({ auth: 'session', target: `${upstreamUrl} (AWS SigV4)` });
  sessionToken = config.sessionToken;
});

afterAll(async () => {
  await server?.stop();
  await new Promise<void>((resolve) => upstream?.close(() => resolve()));
});

beforeEach(() => {
  received = [];
});

it('forwards the page’s admin calls signed with SigV4 and relays the answer', async () => {
  const body = JSON.stringify({ name: 'Acme' });
  const answer = await fetch(`${origin}/connections?x=1`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-console-session': sessionToken }, body });
  expect(answer.status).toBe(201);
  expect(await answer.json()).toEqual({ id: 'conn_1', status: 'ACTIVE' });
  expect(received).toHaveLength(1);
  const call = received[0]!;
  expect(call).toMatchObject({ method: 'POST', url: '/connections?x=1', body });
  expect(call.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDCONSOLETEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=\S*host\S*, Signature=[0-9a-f]{64}$/);
  expect(call.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  expect(call.headers['x-console-session']).toBeUndefined();

  const missing = await fetch(`${origin}/connections/missing`, { headers: { 'x-console-session': sessionToken } });
  expect(missing.status).toBe(404);
  expect(await missing.json()).toEqual({ error: { code: 'connection_not_found', message: 'No connection missing' } });
});

it('forwards nothing without the session token, and nothing outside the admin API', async () => {
  expect((await fetch(`${origin}/connections`)).status).toBe(403);
  expect((await fetch(`${origin}/connections`, { headers: { 'x-console-session': 'guess' } })).status).toBe(403);
  expect((await fetch(`${origin}/health`, { headers: { 'x-console-session': sessionToken } })).status).toBe(404);
  expect(received).toEqual([]);
});

it('answers only requests addressed to itself (no DNS rebinding)', async () => {
  const { port } = new URL(origin);
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/connections', headers: { host: `evil.example:${port}`, 'x-console-session': sessionToken } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  expect(status).toBe(421);
  expect(received).toEqual([]);
});

it('is started by `sphere-connector console --port`, prints where, and stops when told', async () => {
  let output = '';
  let pageStatus = 0;
  const io: CliIo = {
    stdout: (text) => (output += text),
    stderr: (text) => (output += text),
    env: {},
    isTTY: false,
    sleep: async () => undefined,
    waitForStop: async () => {
      const url = /Operator console: (\S+)/.exec(output)?.[1];
      pageStatus = url ? (await fetch(url)).status : 0;
    },
  };
  expect(await runCli(['console', '--port', '0', '--url', upstreamUrl, '--token', 't'], io)).toBe(0);
  expect(output).toMatch(/Operator console: http:\/\/127\.0\.0\.1:\d+\/console\//);
  expect(pageStatus).toBe(200);
  expect(await runCli(['console', '--port', 'eighty'], { ...io, stdout: () => undefined, stderr: () => undefined })).toBe(2);
});
