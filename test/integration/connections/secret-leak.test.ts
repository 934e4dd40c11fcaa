/**
 * Secrets never appear in responses, logs or errors. The whole lifecycle runs with the logger at
 * DEBUG in its Lambda (JSON to stdout) mode, bad credentials and a misplaced secret included, while
 * everything the process writes (stdout, stderr, console, the front door's log) and every HTTP
 * response body is captured; then the capture is scanned for every secret value (raw, and as the
 * Basic auth header would carry it). The table is scanned too: the connection record holds none.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { format } from 'node:util';
import { LocalFileVault } from '../../../shared/secrets/local-vault';
import { type ConnectStack, startConnectStack } from './harness';
import { connectBody } from '../../support/connections';

const tag = randomBytes(6).toString('hex');
const SEQUENCE_ID = `leak-client-${tag}`;
const SEQUENCE_SECRET = `seqsecret_${tag}_A`;
const SPHERE_KEY = `sph_test_${tag}_B`;
const SPHERE_KEY_ROTATED = `sph_test_${tag}_C`;
const WRONG_SEQUENCE_SECRET = `seqsecret_${tag}_WRONG`;
const WRONG_SPHERE_KEY = `sph_test_${tag}_WRONG`;
const MISPLACED = `misplaced_${tag}_D`;

const captured: string[] = [];
const responses: string[] = [];
let stack: ConnectStack;
let restore: (() => void)[] = [];

function captureStream(stream: NodeJS.WriteStream): () => void {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return (original as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
  return () => {
    stream.write = original as typeof stream.write;
  };
}

beforeAll(async () => {
  restore = [captureStream(process.stdout), captureStream(process.stderr)];
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      captured.push(format(...args));
    });
    restore.push(() => spy.mockRestore());
  }
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  stack = await startConnectStack({
    sequence: { clientId: SEQUENCE_ID, clientSecret: SEQUENCE_SECRET },
    sphereApiKeys: [SPHERE_KEY, SPHERE_KEY_ROTATED],
    // The Lambda logger mode: JSON lines on process.stdout, as in AWS.
    env: { POWERTOOLS_DEV: 'false', POWERTOOLS_LOG_LEVEL: 'DEBUG' },
    log: (line) => captured.push(line),
  });
});

afterAll(async () => {
  await stack?.stop();
  for (const undo of restore.reverse()) undo();
  delete process.env.POWERTOOLS_LOG_LEVEL;
});

async function call(method: string, path: string, body?: unknown) {
  const res = await stack.admin.call(method, path, body);
  responses.push(res.text);
  return res;
}

const body = (overrides: Parameters<typeof connectBody>[0] = {}) =>
  connectBody({ ...overrides, sequence: { clientId: SEQUENCE_ID, clientSecret: SEQUENCE_SECRET, ...(overrides.sequence ?? {}) }, sphere: { apiKey: SPHERE_KEY, ...(overrides.sphere ?? {}) } });

it('no secret value reaches a log line, a response body or the connection record', async () => {
  // Failures first: rejected credentials on each side, and a secret in the wrong field.
  expect((await call('POST', '/connections', body({ sequence: { clientSecret: WRONG_SEQUENCE_SECRET } }))).status).toBe(422);
  expect((await call('POST', '/connections', body({ sphere: { apiKey: WRONG_SPHERE_KEY } }))).status).toBe(422);
  expect((await call('POST', '/connections', { ...body(), clientSecret: MISPLACED })).status).toBe(400);
  expect((await call('POST', '/connections', body({ sphere: { apiKey: SPHERE_KEY, secret: MISPLACED } }))).status).toBe(400);

  // The lifecycle.
  const created = await call('POST', '/connections', body());
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const { webhookSigningSecret } = await new LocalFileVault({ dir: stack.runtime.vaultDir }).get(id);
  expect((await call('GET', `/connections/${id}`)).status).toBe(200);
  expect((await call('GET', '/connections')).status).toBe(200);
  expect((await call('POST', `/connections/${id}/test`)).status).toBe(200);
  expect((await call('PATCH', `/connections/${id}`, { sphere: { apiKey: WRONG_SPHERE_KEY } })).status).toBe(422);
  expect((await call('PATCH', `/connections/${id}`, { sphere: { apiKey: SPHERE_KEY_ROTATED } })).status).toBe(200);
  expect((await call('PATCH', `/connections/${id}`, { sequence: { clientSecret: WRONG_SEQUENCE_SECRET } })).status).toBe(422);
  expect((await call('PATCH', `/connections/${id}`, { sequence: { clientId: SEQUENCE_ID, clientSecret: SEQUENCE_SECRET } })).status).toBe(200);
  expect((await call('POST', `/connections/${id}/backfill?restart=true`)).status).toBe(202);
  expect((await call('DELETE', `/connections/${id}`)).status).toBe(200);
  expect((await call('DELETE', `/connections/${id}`)).status).toBe(200);
  expect((await call('POST', `/connections/${id}/test`)).status).toBe(409);

  const secrets = {
    SEQUENCE_SECRET,
    SPHERE_KEY,
    SPHERE_KEY_ROTATED,
    WRONG_SEQUENCE_SECRET,
    WRONG_SPHERE_KEY,
    MISPLACED,
    webhookSigningSecret,
    basicAuth: Buffer.from(`${SEQUENCE_ID}:${SEQUENCE_SECRET}`).toString('base64'),
    basicAuthWrong: Buffer.from(`${SEQUENCE_ID}:${WRONG_SEQUENCE_SECRET}`).toString('base64'),
  };

  // The capture is live: it holds the connector's own DEBUG/INFO/WARN lines for this connection.
  const logText = captured.join('\n');
  expect(logText).toContain('"level":"DEBUG"');
  expect(logText).toContain('Checking credentials for a new connection');
  expect(logText).toContain('Connection created');
  expect(logText).toContain('Connection credentials rotated');
  expect(logText).toContain('Request failed');
  expect(logText).toContain(id);
  expect(responses.join('\n')).toContain('sphere_credentials_rejected');

  const items = await stack.runtime.dynamo.client.send(new ScanCommand({ TableName: stack.runtime.tableNames.connector }));
  const tableText = JSON.stringify(items.Items ?? []);
  expect(tableText).toContain(id);

  const leaks: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (logText.includes(value)) leaks.push(`${name} in the log output`);
    if (responses.some((r) => r.includes(value))) leaks.push(`${name} in a response body`);
    if (tableText.includes(value)) leaks.push(`${name} in the connector table`);
  }
  expect(leaks).toEqual([]);
});
