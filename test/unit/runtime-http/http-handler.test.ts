import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { z } from 'zod';
import { UpstreamRateLimitedError, UserActionRequiredError } from '../../../shared/domain/errors';
import { HttpError, json } from '../../../shared/runtime/api-response';
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
      { method: 'GET', path: '/things/{id}', handle: async ({ params }) => json(200, { id: params.id }) },
      { method: 'GET', path: '/user-error', handle: async () => { throw new UserActionRequiredError('customer_tax_location_invalid', 'Sphere cannot locate the address', { fix: 'Fix the postcode' }); } },
      { method: 'GET', path: '/outage', handle: async () => { throw new UpstreamRateLimitedError('sphere rate-limited', { retryAfterMs: 2500 }); } },
      { method: 'GET', path: '/bug', handle: async () => { throw new TypeError('cannot read x of undefined'); } },
      { method: 'GET', path: '/conflict', handle: async () => { throw new HttpError(409, 'invoice_not_draft', 'Only DRAFT invoices can be taxed'); } },
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
