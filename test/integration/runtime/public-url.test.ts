/**
 * CONNECTOR_PUBLIC_URL under the local runtime: an operator's tunnel URL (for real Sequence
 * webhooks) reaches the handlers instead of being replaced by the front door's own URL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalRuntime, type HttpRoute, type LocalRuntime } from '../../../local/runtime';

const TUNNEL = 'https://connector-tunnel.example.test';

const routes: HttpRoute[] = [
  { method: 'GET', path: '/public-url/{id}', auth: 'none', functionName: 'public-url', load: () => import('../../fixtures/handlers/http-public-url') },
];

let runtime: LocalRuntime;
let dataDir: string;
let before: string | undefined;

beforeAll(async () => {
  before = process.env.CONNECTOR_PUBLIC_URL;
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'public-url-'));
  runtime = await startLocalRuntime({ port: 0, dataDir, inMemory: true, routes, queues: [], publicUrl: TUNNEL, log: () => undefined });
});

afterAll(async () => {
  await runtime?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('the handlers register webhooks at the operator’s public URL, not the front door', async () => {
  expect(runtime.publicUrl).toBe(TUNNEL);
  expect(runtime.env.CONNECTOR_PUBLIC_URL).toBe(TUNNEL);
  const response = await fetch(`${runtime.url}/public-url/conn_1`);
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ webhookUrl: `${TUNNEL}/webhooks/sequence/conn_1`, env: TUNNEL });
});

it('stopping the runtime restores the process environment it changed', async () => {
  await runtime.stop();
  expect(process.env.CONNECTOR_PUBLIC_URL).toBe(before);
});
