/**
 * The per-connection audit log through the admin API: entries written by AuditLog.record (as the
 * upstream clients do) come back newest first with method, path, status, latency and request id;
 * nothing else stored with an entry (bodies, headers, credentials) is ever shown.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_RETENTION_SECONDS } from '../../../shared/store/audit-log';
import { SK, connectionPk } from '../../../shared/store/keys';
import { type OperationsStack, startOperationsStack } from './harness';
import { connectionRecord } from '../../support/connections';

let stack: OperationsStack;
const SECRETS = ['local-secret-value-123', 'sph_test_topsecret', 'Basic bG9jYWwtY2xpZW50'];

beforeAll(async () => {
  stack = await startOperationsStack({ withSwitchableQueue: false });
  await stack.deps.connections.create(connectionRecord('conn-audit'));
  await stack.deps.connections.create(connectionRecord('conn-other'));
  const calls = [
    { service: 'sequence' as const, method: 'GET' as const, path: '/api/invoices/inv_1', status: 200, latencyMs: 12, attempt: 1, requestId: 'seq-req-1' },
    { service: 'sphere' as const, method: 'POST' as const, path: '/tax_api/calculate_tax', status: 429, latencyMs: 30, attempt: 1, requestId: 'sph-req-1', errorCode: 'rate_limited' },
    { service: 'sphere' as const, method: 'POST' as const, path: '/tax_api/calculate_tax', status: 200, latencyMs: 25, attempt: 2, requestId: 'sph-req-2' },
  ];
  for (const call of calls) {
    await stack.deps.audit.record('conn-audit', call);
    await new Promise((r) => setTimeout(r, 5)); // distinct timestamps, so "newest first" is observable
  }
  await stack.deps.audit.record('conn-other', { service: 'sequence', method: 'GET', path: '/api/customers', status: 200, latencyMs: 5, attempt: 1 });
  // An entry polluted with fields that must never be shown (as if a bug had stored them).
  await stack.deps.db.send(
    new PutCommand({
      TableName: stack.runtime.tableNames.connector,
      Item: {
        PK: connectionPk('conn-audit'),
        SK: SK.audit('2000-01-01T00:00:00.000Z', 'ffffffff'),
        ttl: Math.floor(Date.now() / 1000) + AUDIT_RETENTION_SECONDS,
        at: '2000-01-01T00:00:00.000Z',
        service: 'sequence',
        method: 'POST',
        path: `/api/oauth/token?client_secret=${SECRETS[0]}`,
        status: 401,
        latencyMs: 3,
        attempt: 1,
        body: `{"apiKey":"${SECRETS[1]}"}`,
        headers: { authorization: SECRETS[2] },
        apiKey: SECRETS[1],
      },
    }),
  );
});

afterAll(async () => {
  await stack?.stop();
});

it('lists the connection audit entries newest first, only the allowed fields', async () => {
  const answer = await stack.admin.call('GET', '/connections/conn-audit/audit');
  expect(answer.status).toBe(200);
  const items = answer.body.items as Record<string, unknown>[];
  expect(answer.body.count).toBe(4);
  expect(items.slice(0, 3)).toEqual([
    { at: expect.any(String), service: 'sphere', method: 'POST', path: '/tax_api/calculate_tax', status: 200, latencyMs: 25, attempt: 2, requestId: 'sph-req-2' },
    { at: expect.any(String), service: 'sphere', method: 'POST', path: '/tax_api/calculate_tax', status: 429, latencyMs: 30, attempt: 1, requestId: 'sph-req-1', errorCode: 'rate_limited' },
    { at: expect.any(String), service: 'sequence', method: 'GET', path: '/api/invoices/inv_1', status: 200, latencyMs: 12, attempt: 1, requestId: 'seq-req-1' },
  ]);
  const allowed = new Set(['at', 'service', 'method', 'path', 'status', 'latencyMs', 'attempt', 'requestId', 'errorCode']);
  for (const item of items) for (const key of Object.keys(item)) expect(allowed.has(key)).toBe(true);
  expect(items[3]).toEqual({ at: '2000-01-01T00:00:00.000Z', service: 'sequence', method: 'POST', path: '/api/oauth/token', status: 401, latencyMs: 3, attempt: 1 });
  for (const secret of SECRETS) expect(answer.text).not.toContain(secret);
  expect(answer.text).not.toMatch(/authorization|apiKey|clientSecret|"body"|"headers"/i);
});

it('honours limit and keeps connections apart', async () => {
  const limited = await stack.admin.call('GET', '/connections/conn-audit/audit?limit=1');
  expect(limited.status).toBe(200);
  expect(limited.body.items).toEqual([expect.objectContaining({ requestId: 'sph-req-2' })]);
  const other = await stack.admin.call('GET', '/connections/conn-other/audit');
  expect(other.body.items).toEqual([expect.objectContaining({ path: '/api/customers' })]);
});

it('rejects a bad limit (400) and an unknown connection (404)', async () => {
  const bad = await stack.admin.call('GET', '/connections/conn-audit/audit?limit=0');
  expect(bad.status).toBe(400);
  expect(bad.body).toEqual({ error: { code: 'invalid_request', message: expect.stringContaining('limit'), field: 'limit' } });
  const missing = await stack.admin.call('GET', '/connections/nope/audit');
  expect(missing.status).toBe(404);
  expect(missing.body).toEqual({ error: { code: 'connection_not_found', message: expect.stringContaining('No connection nope') } });
});
