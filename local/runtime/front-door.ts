/**
 * The local HTTP front door: a node:http server that behaves like the API Gateway HTTP API in
 * front of the connector's functions. Each request becomes a payload format 2.0 event (raw path
 * and query, lower-cased headers with repeated values joined by ",", cookies split out, path
 * parameters from the matched route template, body as UTF-8 text only for text/*, JSON, XML and
 * JavaScript content types and base64 otherwise), the real handler is invoked with a Lambda
 * context, and its result is mapped back the way API Gateway maps it.
 *
 * Local stand-ins for what AWS does elsewhere: admin routes need `Authorization: Bearer <token>`
 * (IAM authorisation on AWS), `GET /health` reports whether every part of the runtime is up, and
 * `/console/` serves the operator console (console/serve.ts).
 * One log line per request: method, path (no query), status, duration; never headers or bodies.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isConsolePath, serveConsole } from '../../console/serve';
import { invokeHandler, lazyHandler, LOCAL_ACCOUNT_ID } from './lambda';
import type { HttpRoute, LambdaHandler } from './types';

/** API Gateway HTTP API payload limit. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES = new Set(['application/json', 'application/xml', 'application/javascript']);

export type HealthCheck = () => Promise<boolean> | boolean;

export interface FrontDoorOptions {
  routes: HttpRoute[];
  port?: number;
  host?: string;
  adminToken: string;
  /** Component name → check; `/health` is 200 only when all pass. */
  health?: Record<string, HealthCheck>;
  maxBodyBytes?: number;
  log?: (line: string) => void;
  region?: string;
}

export interface FrontDoor {
  url: string;
  port: number;
  server: http.Server;
  stop(): Promise<void>;
}

interface CompiledRoute {
  route: HttpRoute;
  method: string;
  segments: string[];
  literalCount: number;
  greedy: boolean;
  getHandler: () => Promise<LambdaHandler>;
}

/** Does the body travel as text (true) or base64 (false)? Same rule as the HTTP API. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  return mime.startsWith('text/') || TEXT_TYPES.has(mime);
}

function compile(route: HttpRoute): CompiledRoute {
  if (!route.path.startsWith('/')) throw new Error(`Route path must start with "/": ${route.path}`);
  const segments = route.path.split('/').slice(1);
  const greedyIndex = segments.findIndex((s) => /^\{[^}]+\+\}$/.test(s));
  if (greedyIndex !== -1 && greedyIndex !== segments.length - 1) throw new Error(`Greedy parameter must be last: ${route.path}`);
  return {
    route,
    method: route.method.toUpperCase(),
    segments,
    literalCount: segments.filter((s) => !s.startsWith('{')).length,
    greedy: greedyIndex !== -1,
    getHandler: lazyHandler(route.functionName, route.load),
  };
}

function matchRoute(route: CompiledRoute, pathSegments: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  const fixed = route.greedy ? route.segments.length - 1 : route.segments.length;
  if (route.greedy ? pathSegments.length < route.segments.length : pathSegments.length !== route.segments.length) return undefined;
  for (let i = 0; i < fixed; i++) {
    const template = route.segments[i]!;
    const actual = pathSegments[i]!;
    const param = /^\{([^}]+)\}$/.exec(template);
    if (param) {
      if (actual === '') return undefined;
      params[param[1]!] = safeDecode(actual);
    } else if (template !== actual) {
      return undefined;
    }
  }
  if (route.greedy) {
    const name = route.segments[fixed]!.slice(1, -2);
    params[name] = safeDecode(pathSegments.slice(fixed).join('/'));
  }
  return params;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function apiGatewayTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} +0000`;
}

/** Constant-time bearer check (hash both sides so lengths match). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  const given = createHash('sha256').update(match?.[1]?.trim() ?? '').digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && match !== null;
}

interface BuildEventInput {
  req: http.IncomingMessage;
  body: Buffer;
  route: CompiledRoute;
  pathParameters: Record<string, string>;
  rawPath: string;
  rawQueryString: string;
  requestId: string;
  now: Date;
}

/** The API Gateway HTTP API payload format 2.0 event for one request. */
export function buildHttpApiEvent(input: BuildEventInput): APIGatewayProxyEventV2 {
  const { req, body, route, rawPath, rawQueryString, requestId, now } = input;
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies.push(...value.split(';').map((c) => c.trim()).filter(Boolean));
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  headers['x-forwarded-for'] ??= req.socket.remoteAddress ?? '127.0.0.1';
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? '');

  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString) {
    queryStringParameters = {};
    for (const [key, value] of new URLSearchParams(rawQueryString)) {
      queryStringParameters[key] = queryStringParameters[key] === undefined ? value : `${queryStringParameters[key]},${value}`;
    }
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const routeKey = `${route.method} ${route.route.path}`;
  const domainName = (headers.host ?? 'localhost').split(',')[0]!;
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const text = isTextContentType(headers['content-type']);
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0]!,
      http: { method, path: rawPath, protocol: `HTTP/${req.httpVersion}`, sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId,
      routeKey,
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(Object.keys(input.pathParameters).length > 0 ? { pathParameters: input.pathParameters } : {}),
    isBase64Encoded: body.length > 0 ? !text : false,
    ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
  };
  return event;
}

interface MappedResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Map a handler result the way the HTTP API does for payload format 2.0. */
export function mapHandlerResult(result: unknown): MappedResponse {
  const looksStructured = typeof result === 'object' && result !== null && 'statusCode' in result;
  if (!looksStructured) {
    // No statusCode: API Gateway assumes 200, JSON, and the function's (JSON) response as body.
    const body = result === undefined ? '' : JSON.stringify(result);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body, 'utf8') };
  }
  const r = result as APIGatewayProxyStructuredResultV2;
  const statusCode = Number(r.statusCode);
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) throw new Error('Handler returned an invalid statusCode');
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(r.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (r.cookies && r.cookies.length > 0) headers['set-cookie'] = r.cookies;
  const rawBody = r.body ?? '';
  const body = r.isBase64Encoded ? Buffer.from(rawBody, 'base64') : Buffer.from(typeof rawBody === 'string' ? rawBody : JSON.stringify(rawBody), 'utf8');
  return { statusCode, headers, body };
}

function sendJson(res: http.ServerResponse, statusCode: number, payload: unknown, extraHeaders: Record<string, string> = {}): void {
  const body = JSON.stringify(payload);
  res.writeHead(statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extraHeaders });
  res.end(body);
}

function sendError(res: http.ServerResponse, statusCode: number, code: string, message: string, extraHeaders: Record<string, string> = {}): void {
  sendJson(res, statusCode, { error: { code, message } }, extraHeaders);
}

/**
 * Read the whole body; null when it exceeds the limit. The rest of an oversized body is still
 * consumed (and discarded) so the client can finish sending and then read the 413.
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size > limit ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function startFrontDoor(options: FrontDoorOptions): Promise<FrontDoor> {
  const compiled = options.routes.map(compile).sort((a, b) => b.literalCount - a.literalCount || Number(a.greedy) - Number(b.greedy) || b.segments.length - a.segments.length);
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const log = options.log ?? ((line: string) => console.log(line));
  const region = options.region ?? process.env.AWS_REGION ?? 'eu-west-1';

  async function health(res: http.ServerResponse): Promise<void> {
    const components: Record<string, string> = {};
    await Promise.all(
      Object.entries(options.health ?? {}).map(async ([name, check]) => {
        let ok = false;
        try {
          ok = await check();
        } catch {
          ok = false;
        }
        components[name] = ok ? 'ok' : 'down';
      }),
    );
    const allOk = Object.values(components).every((s) => s === 'ok');
    sendJson(res, allOk ? 200 : 503, { status: allOk ? 'ok' : 'degraded', components });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, requestId: string): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const rawQueryString = q === -1 ? '' : url.slice(q + 1);
    const method = (req.method ?? 'GET').toUpperCase();

    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      await readBody(req, 0).catch(() => null);
      sendError(res, 413, 'payload_too_large', `Request body is larger than ${limit} bytes`);
      return;
    }

    if (method === 'GET' && rawPath === '/health') {
      req.resume();
      await health(res);
      return;
    }

    // The operator console's files (no secret in them): the page asks for the admin token itself.
    if (isConsolePath(method, rawPath)) {
      req.resume();
      await serveConsole(rawPath, res, { auth: 'token', target: `local connector (${req.headers.host ?? 'front door'})` });
      return;
    }

    const segments = rawPath.split('/').slice(1);
    let found: { route: CompiledRoute; params: Record<string, string> } | undefined;
    for (const route of compiled) {
      if (route.method !== 'ANY' && route.method !== method) continue;
      const params = matchRoute(route, segments);
      if (params) {
        found = { route, params };
        break;
      }
    }
    if (!found) {
      req.resume();
      sendError(res, 404, 'not_found', `No route for ${method} ${rawPath}`);
      return;
    }

    if (found.route.route.auth === 'admin' && !bearerMatches(req.headers.authorization, options.adminToken)) {
      req.resume();
      sendError(res, 401, 'unauthorized', 'Missing or invalid admin token: send "Authorization: Bearer <CONNECTOR_ADMIN_TOKEN>"', { 'www-authenticate': 'Bearer' });
      return;
    }

    const body = await readBody(req, limit);
    if (body === null) {
      sendError(res, 413, 'payload_too_large', `Request body is larger than ${limit} bytes`);
      return;
    }

    const event = buildHttpApiEvent({ req, body, route: found.route, pathParameters: found.params, rawPath, rawQueryString, requestId, now: new Date() });
    let mapped: MappedResponse;
    try {
      const handler = await found.route.getHandler();
      const result = await invokeHandler(handler, event, {
        functionName: found.route.route.functionName,
        timeoutSeconds: found.route.route.timeoutSeconds ?? 30,
        ...(found.route.route.memoryMb ? { memoryMb: found.route.route.memoryMb } : {}),
        region,
      });
      mapped = mapHandlerResult(result);
    } catch (error) {
      // Like API Gateway: the caller learns nothing about the failure; the log gets the name only.
      const name = error instanceof Error ? error.name : typeof error;
      const message = error instanceof Error ? error.message : String(error);
      log(`  ${found.route.route.functionName} failed: ${name}: ${message.split('\n')[0]}`);
      sendError(res, 500, 'internal_error', 'The connector failed unexpectedly; the error was logged. Try again, and report it if it persists.');
      return;
    }
    res.writeHead(mapped.statusCode, { ...mapped.headers, 'content-length': mapped.body.length, 'apigw-requestid': requestId });
    res.end(mapped.body);
  }

  const server = http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const requestId = `${randomBytes(6).toString('base64url')}=`;
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const path = (req.url ?? '/').split('?')[0];
      log(`${req.method} ${path} ${res.statusCode} ${ms.toFixed(1)}ms`);
    });
    handle(req, res, requestId).catch(() => {
      if (!res.headersSent) sendError(res, 500, 'internal_error', 'The local front door failed unexpectedly');
      else res.destroy();
    });
  });
  server.requestTimeout = 35_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  const displayHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${displayHost}:${port}`,
    port,
    server,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
    },
  };
}
