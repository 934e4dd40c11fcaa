/**
 * The HTTP side of every function: middy with Powertools (logger context, metrics), and a router
 * for the admin API. Handlers stay thin: parse, call shared/, map the result; anything thrown is
 * answered by `toErrorResponse` with the §5.1 error body and no stack trace.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { type ZodType } from 'zod';
import { ConnectionNotFoundError } from '../connections/lookup';
import { ConnectorError, RequestError, classifyError, invalidRequest } from '../domain/errors';
import { describeRejectedId, isConnectionId, isSequenceId } from '../domain/ids';
import { decodeUtf8 } from '../domain/utf8';
import { errorResponse, toErrorResponse } from './api-response';
import { instrumentedHandler } from './invocation';
import { logger } from './observability';

export type HttpLambda = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyResultV2>;

/** Wrap an HTTP handler with the house middleware and the one error mapping. */
export function httpHandler(fn: HttpLambda) {
  return instrumentedHandler(async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyResultV2> => {
    try {
      return await fn(event, context);
    } catch (error) {
      const classified = classifyError(error);
      if (classified.kind !== 'bug') logger.warn('Request failed', { error: classified });
      else logger.error('Request failed unexpectedly', { error: classified, stack: error instanceof Error ? error.stack : undefined });
      return toErrorResponse(error);
    }
  });
}

/** The raw request body as bytes, honouring API Gateway's `isBase64Encoded`. */
export function rawBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

/**
 * The body as text; 400 `invalid_json` when it is not valid UTF-8. A body the gateway passed as
 * text (a JSON content type) has already been decoded by it, with each invalid byte replaced by
 * U+FFFD: a raw U+FFFD is that trace (JSON can still carry the character escaped, `\ufffd`).
 */
export function bodyText(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): string {
  const text = decodeUtf8(rawBody(event));
  if (text === undefined || (!event.isBase64Encoded && text.includes('\uFFFD'))) {
    throw new RequestError('invalid_json', 'The request body is not valid UTF-8; send JSON encoded as UTF-8');
  }
  return text;
}

/** Parse a JSON body against a schema; 400 naming the field on any problem. */
export function parseJsonBody<T>(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>, schema: ZodType<T>): T {
  const text = bodyText(event);
  let value: unknown;
  try {
    value = text.length === 0 ? undefined : JSON.parse(text);
  } catch {
    throw new RequestError('invalid_json', 'The request body is not valid JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalidRequest(issue.path.length > 0 ? issue.path.join('.') : 'body', issue.message);
  }
  return parsed.data;
}

export interface AdminRequest {
  event: APIGatewayProxyEventV2;
  context: Context;
  params: Record<string, string>;
}

export interface AdminRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Template as in the HTTP API: `/connections/{id}/test`. */
  path: string;
  handle: (request: AdminRequest) => Promise<APIGatewayProxyResultV2>;
}

function decodeSegment(name: string, segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidRequest(name, 'the path segment is not valid percent-encoding');
  }
}

function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/').filter(Boolean);
  const p = path.split('/').filter(Boolean);
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i]!;
    if (seg.startsWith('{') && seg.endsWith('}')) params[seg.slice(1, -1)] = p[i]!;
    else if (seg !== p[i]) return undefined;
  }
  return params;
}

/**
 * Every id in an admin path is checked before any route sees it, one pattern per id kind
 * (shared/domain/ids.ts): a connection id that cannot exist is an unknown connection (404, as GET
 * /connections/{id} always answered), an invoice id that cannot exist is a bad request (400).
 */
const PATH_ID_CHECKS: Record<string, (value: string) => ConnectorError | undefined> = {
  id: (value) => (isConnectionId(value) ? undefined : new ConnectionNotFoundError(value)),
  invoiceId: (value) => (isSequenceId(value) ? undefined : invalidRequest('invoiceId', `${describeRejectedId(value)} is not a Sequence invoice id (1-128 letters, digits, "_" or "-")`)),
};

function checkPathIds(params: Record<string, string>): void {
  for (const [name, value] of Object.entries(params)) {
    const problem = PATH_ID_CHECKS[name]?.(value);
    if (problem) throw problem;
  }
}

/**
 * The ids a route names, as log keys: the same `connectionId` / `resourceType` / `resourceId` the
 * queue workers log, so one CloudWatch Logs query finds a resource across every function.
 */
export function routeLogKeys(params: Record<string, string>): Record<string, string> {
  const keys: Record<string, string> = {};
  if (params.id) keys.connectionId = params.id;
  if (params.invoiceId) Object.assign(keys, { resourceType: 'invoice', resourceId: params.invoiceId });
  else if (params.queue) Object.assign(keys, { resourceType: 'queue', resourceId: params.queue });
  return keys;
}

/**
 * One admin function serves several routes (API Gateway sends them all to it). Routing uses the
 * path (API Gateway has already matched the route key); 404/405 are answered in the §5.1 shape.
 */
export function adminRouter(routes: readonly AdminRoute[]): HttpLambda {
  return async (event, context) => {
    const method = event.requestContext.http.method.toUpperCase();
    const path = event.rawPath ?? event.requestContext.http.path;
    let pathMatched = false;
    for (const route of routes) {
      const params = matchTemplate(route.path, path);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const decoded: Record<string, string> = {};
      for (const [name, segment] of Object.entries(params)) decoded[name] = decodeSegment(name, segment);
      const ids = { ...decoded, ...(event.pathParameters as Record<string, string> | undefined) };
      checkPathIds(ids);
      // Removed again by the wrapper's resetKeys at the end of the invocation.
      logger.appendKeys({ route: `${route.method} ${route.path}`, ...routeLogKeys(ids) });
      return route.handle({ event, context, params: ids });
    }
    return pathMatched ? errorResponse(405, 'method_not_allowed', `${method} is not supported on ${path}`) : errorResponse(404, 'not_found', `No admin route for ${method} ${path}`);
  };
}
