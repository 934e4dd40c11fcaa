import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { z } from 'zod';
import { RequestError, UpstreamRateLimitedError, UserActionRequiredError } from '../../../shared/domain/errors';
import { json } from '../../../shared/runtime/api-response';
import { adminRouter, httpHandler, parseJsonBody, rawBody, routeLogKeys } from '../../../shared/runtime/http-handler';

function event(method: string, path: string, body?: string, isBase64Encoded = false): APIGatewayProxyEventV2 {
  return {
    version: '2.0', routeKey: `${method} ${path}`, rawPath: path, rawQueryString: '', headers: {}, isBase64Encoded,
    ...(body !== undefined ? { body } : {}),
    requestContext: { accountId: '1', apiId: 'a', domainName: 'x', domainPrefix: 'x', requestId: 'r', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0,
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' } },
  };
}
const context = { functionName: 'test', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

describe('admin HTTP plumbing', () => {
  const Body = z.object({ name: z.string().min(1) });
  const handler = httpHandler(
    adminRouter([
      { method: 'POST', path: '/things', handle: async ({ event: e }) => json(201, parseJsonBody(e, Body)) },
      { method: 'GET', path: '/things/{thing}', handle: async ({ params }) => json(200, { id: params.thing }) },
      { method: 'GET', path: '/user-error', handle: async () => { throw new UserActionRequiredError('customer_tax_location_invalid', 'Sphere cannot locate the address', { fix: 'Fix the postcode' }); } },
      { method: 'GET', path: '/outage', handle: async () => { throw new UpstreamRateLimitedError('sphere rate-limited', { retryAfterMs: 2500 }); } },
      { method: 'GET', path: '/bug', handle: async () => { throw new TypeError('cannot read x of undefined'); } },
      { method: 'GET', path: '/conflict', handle: async () => { throw new RequestError('invoice_not_draft', 'Only DRAFT invoices can be taxed'); } },
    ]),
  );
  const call = async (e: APIGatewayProxyEventV2) => (await handler(e, context)) as APIGatewayProxyStructuredResultV2;
  const bodyOf = (r: APIGatewayProxyStructuredResultV2) => JSON.parse(String(r.body));

  it('routes with path parameters and parses JSON bodies', async () => {
    expect(bodyOf(await call(event('GET', '/things/abc%20d')))).toEqual({ id: 'abc d' });
    const created = await call(event('POST', '/things', '{"name":"x"}'));
    expect(created.statusCode).toBe(201);
    expect(bodyOf(created)).toEqual({ name: 'x' });
  });

  it('answers bad bodies with 400 naming the field', async () => {
    const broken = await call(event('POST', '/things', '{nope'));
    expect(broken.statusCode).toBe(400);
    expect(bodyOf(broken)).toEqual({ error: { code: 'invalid_json', message: 'The request body is not valid JSON' } });
    const wrong = await call(event('POST', '/things', '{"name":3}'));
    expect(wrong.statusCode).toBe(400);
    expect(bodyOf(wrong).error).toMatchObject({ code: 'invalid_request', field: 'name' });
  });

  it('maps the taxonomy to statuses without stack traces', async () => {
    const user = await call(event('GET', '/user-error'));
    expect(user.statusCode).toBe(422);
    expect(bodyOf(user).error).toEqual({ code: 'customer_tax_location_invalid', message: 'Sphere cannot locate the address. Fix the postcode' });
    const outage = await call(event('GET', '/outage'));
    expect(outage.statusCode).toBe(503);
    expect(outage.headers?.['retry-after']).toBe('3');
    const bug = await call(event('GET', '/bug'));
    expect(bug.statusCode).toBe(500);
    expect(bug.body).not.toMatch(/cannot read|at .*\.ts/);
    expect((await call(event('GET', '/conflict'))).statusCode).toBe(409);
  });

  it('answers unknown paths 404 and wrong methods 405', async () => {
    expect((await call(event('GET', '/nowhere'))).statusCode).toBe(404);
    expect((await call(event('DELETE', '/things'))).statusCode).toBe(405);
  });

  it('decodes base64 bodies to the exact bytes', () => {
    const bytes = Buffer.from([0, 255, 10, 13, 0x7b]);
    expect(rawBody({ body: bytes.toString('base64'), isBase64Encoded: true }).equals(bytes)).toBe(true);
    expect(rawBody({ body: 'é', isBase64Encoded: false }).equals(Buffer.from('é', 'utf8'))).toBe(true);
  });
});

describe('routeLogKeys', () => {
  it('names the connection and the resource a route is about, as the workers log them', () => {
    expect(routeLogKeys({ id: 'conn_1', invoiceId: 'inv_1' })).toEqual({ connectionId: 'conn_1', resourceType: 'invoice', resourceId: 'inv_1' });
    expect(routeLogKeys({ queue: 'invoice-tax' })).toEqual({ resourceType: 'queue', resourceId: 'invoice-tax' });
    expect(routeLogKeys({ id: 'conn_1' })).toEqual({ connectionId: 'conn_1' });
    expect(routeLogKeys({})).toEqual({});
  });
});

// ---- Issue 11 §3 at the edge of every admin route: hostile path ids and bodies get a clean 4xx
// before any route (and so any DynamoDB key or upstream URL) sees them.

const seen: Record<string, string>[] = [];
const hostileHandler = httpHandler(
  adminRouter([
    { method: 'POST', path: '/connections/{id}/invoices/{invoiceId}/tax', handle: async ({ params }) => (seen.push(params), json(200, params)) },
    { method: 'GET', path: '/connections/{id}/audit', handle: async ({ params }) => (seen.push(params), json(200, params)) },
    { method: 'PATCH', path: '/connections/{id}', handle: async ({ event: e }) => json(200, parseJsonBody(e, z.object({ name: z.string() }))) },
  ]),
);
const callHostile = async (e: APIGatewayProxyEventV2) => (await hostileHandler(e, context)) as APIGatewayProxyStructuredResultV2;
const label = (id: string) => (id.length > 20 ? `of ${id.length} characters` : JSON.stringify(id));
const errorOf = (r: APIGatewayProxyStructuredResultV2) => (JSON.parse(String(r.body)) as { error: Record<string, unknown> }).error;

describe('hostile path ids', () => {
  beforeEach(() => void (seen.length = 0));

  it.each(['.', '%2e', '%2E', '..', '%2e%2e', '.%2e', 'a.b', 'x'.repeat(3000), 'y'.repeat(10_000), '%00', 'inv%2F1'].map((id) => [label(id), id]))('invoice id %s → 400 invalid_request naming invoiceId, no route reached', async (_label, invoiceId) => {
    const response = await callHostile(event('POST', `/connections/conn_1/invoices/${invoiceId}/tax`));
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'invalid_request', field: 'invoiceId' });
    expect(String(response.body).length).toBeLessThan(400);
    expect(seen).toEqual([]);
  });

  it.each(['.', '%2e%2e', 'c'.repeat(3000), 'c'.repeat(10_000), 'conn.1'].map((id) => [label(id), id]))('connection id %s → 404 connection_not_found on every route, as GET /connections/{id}', async (_label, id) => {
    for (const e of [event('POST', `/connections/${id}/invoices/inv_1/tax`), event('GET', `/connections/${id}/audit`)]) {
      const response = await callHostile(e);
      expect(response.statusCode).toBe(404);
      expect(errorOf(response)).toMatchObject({ code: 'connection_not_found' });
      expect(String(response.body)).not.toContain('ccccccccc');
    }
    expect(seen).toEqual([]);
  });

  it('answers malformed percent-encoding 400, not 500', async () => {
    const response = await callHostile(event('POST', '/connections/conn_1/invoices/%E0%A4%A/tax'));
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'invalid_request', field: 'invoiceId' });
  });

  it('lets well-formed ids through', async () => {
    const response = await callHostile(event('POST', '/connections/conn_0123abc/invoices/0190f5a2-7c1e-7b4a-9d2e-3f4a5b6c7d8e/tax'));
    expect(response.statusCode).toBe(200);
    expect(seen).toEqual([{ id: 'conn_0123abc', invoiceId: '0190f5a2-7c1e-7b4a-9d2e-3f4a5b6c7d8e' }]);
  });
});

describe('bodies that are not valid UTF-8', () => {
  const invalid = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);

  it('refuses invalid bytes in a base64 body with 400 invalid_json', async () => {
    const response = await callHostile(event('PATCH', '/connections/conn_1', invalid.toString('base64'), true));
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'invalid_json', message: expect.stringContaining('UTF-8') });
  });

  it('refuses a text body whose invalid bytes the gateway replaced with U+FFFD', async () => {
    const response = await callHostile(event('PATCH', '/connections/conn_1', invalid.toString('utf8')));
    expect(response.statusCode).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'invalid_json' });
  });

  it('still accepts the character escaped in JSON, and valid multi-byte UTF-8', async () => {
    expect((await callHostile(event('PATCH', '/connections/conn_1', '{"name":"\\ufffd"}'))).statusCode).toBe(200);
    const accented = Buffer.from('{"name":"Café Zürich 東京"}', 'utf8');
    const response = await callHostile(event('PATCH', '/connections/conn_1', accented.toString('base64'), true));
    expect(JSON.parse(String(response.body))).toEqual({ name: 'Café Zürich 東京' });
  });
});
