/**
 * Hostile path ids and bodies (issue 11 §3), through the real front door with raw HTTP (fetch would
 * resolve `.`/`..`/`%2e` segments before sending): dot segments, percent-encoded dots and slashes,
 * malformed percent-encoding and ids of 3,000–10,000 characters in every id slot of every admin
 * route, and bodies that are not valid UTF-8 (as JSON text and as binary). Each case knows its status:
 * a connection id that cannot exist → 404 `connection_not_found`; a malformed invoice id → 400
 * `invalid_request`; malformed percent-encoding → 400; invalid UTF-8 → 400 `invalid_json`. Never a
 * 5xx, and not one upstream call: no hostile id may reach Sequence or Sphere.
 */
import { request } from 'node:http';
import fc from 'fast-check';
import { type FuzzStack } from './fuzz-stack';

const ROUTES = [
  { method: 'POST', path: '/connections/{id}/invoices/{invoiceId}/tax' },
  { method: 'GET', path: '/connections/{id}/invoices/{invoiceId}/tax' },
  { method: 'POST', path: '/connections/{id}/invoices/{invoiceId}/finalize' },
  { method: 'GET', path: '/connections/{id}/failures' },
  { method: 'POST', path: '/connections/{id}/failures/retry', body: '{"all":true}' },
  { method: 'GET', path: '/connections/{id}/audit' },
  { method: 'GET', path: '/connections/{id}' },
  { method: 'PATCH', path: '/connections/{id}', body: '{"name":"Fuzz merchant"}' },
  { method: 'POST', path: '/connections/{id}/test' },
  { method: 'POST', path: '/connections/{id}/backfill' },
] as const;

type HostileId = { kind: 'dots'; value: string } | { kind: 'long'; length: number } | { kind: 'malformed'; value: string } | { kind: 'foreign'; value: string };

const hostileId: fc.Arbitrary<HostileId> = fc.oneof(
  fc.record({ kind: fc.constant('dots' as const), value: fc.constantFrom('.', '..', '%2e', '%2E', '%2e%2e', '.%2e', '%2e.', '%2E%2E', '...') }),
  fc.record({ kind: fc.constant('long' as const), length: fc.integer({ min: 3000, max: 10_000 }) }),
  fc.record({ kind: fc.constant('malformed' as const), value: fc.constantFrom('%', '%E0%A4%A', '%zz', 'a%', '%C3') }),
  fc.record({ kind: fc.constant('foreign' as const), value: fc.constantFrom('a%2F..%2Fb', '..%2F..%2Fapi', '%252e%252e', 'a%5C..', '%00', 'inv%20x', '%C3%A9t%C3%A9', 'a.b', 'a:b') }),
);

export interface PathCase {
  route: number;
  slot: 'id' | 'invoiceId';
  id: HostileId;
}

export const pathCase: fc.Arbitrary<PathCase> = fc.record({ route: fc.nat(ROUTES.length - 1), slot: fc.constantFrom('id' as const, 'invoiceId' as const), id: hostileId });

function segmentOf(id: HostileId): string {
  return id.kind === 'long' ? 'i'.repeat(id.length) : id.value;
}

export interface RawAnswer {
  status: number;
  text: string;
}

/** One request with the path exactly as given (node:http does not normalise it). */
export function rawRequest(baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<RawAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface PathFuzzReport {
  requests: number;
  byStatus: Record<string, number>;
  unexpected: { method: string; path: string; status: number; expected: number; code?: string; response: string }[];
  fiveXx: number;
  /** Requests the simulators received while the hostile requests ran: must stay 0. */
  upstreamCalls: number;
  /** The live connection's name after every invalid UTF-8 PATCH (must be unchanged). */
  nameAfter?: string;
  nameBefore?: string;
}

function upstreamCount(stack: FuzzStack): number {
  return stack.sequence.requests.length + stack.sphere.state.requests.length;
}

/** A body valid as JSON but for two bytes that are not UTF-8, inside the name. */
function invalidUtf8Body(): Buffer {
  return Buffer.concat([Buffer.from('{"name":"Fuzz '), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
}

export async function fuzzPaths(stack: FuzzStack, options: { runs: number; seed: number }): Promise<PathFuzzReport> {
  const cases = fc.sample(pathCase, { numRuns: options.runs, seed: options.seed });
  const report: PathFuzzReport = { requests: 0, byStatus: {}, unexpected: [], fiveXx: 0, upstreamCalls: 0 };
  const auth = { authorization: `Bearer ${stack.runtime.adminToken}` };
  const record = (method: string, path: string, answer: RawAnswer, expected: number, code: string) => {
    report.requests += 1;
    report.byStatus[answer.status] = (report.byStatus[answer.status] ?? 0) + 1;
    if (answer.status >= 500) report.fiveXx += 1;
    let got: string | undefined;
    try {
      got = (JSON.parse(answer.text) as { error?: { code?: string } }).error?.code;
    } catch {
      got = undefined;
    }
    if (answer.status !== expected || got !== code) report.unexpected.push({ method, path: path.slice(0, 120), status: answer.status, expected, ...(got ? { code: got } : {}), response: answer.text.slice(0, 200) });
  };
  const getName = async () => (JSON.parse((await rawRequest(stack.runtime.url, 'GET', `/connections/${stack.connectionId}`, auth)).text) as { name?: string }).name;

  report.nameBefore = await getName();
  const before = upstreamCount(stack);
  for (const c of cases) {
    const route = ROUTES[c.route]!;
    const slot = route.path.includes('{invoiceId}') ? c.slot : 'id';
    const segment = segmentOf(c.id);
    const path = route.path.replace('{id}', slot === 'id' ? segment : stack.connectionId).replace('{invoiceId}', slot === 'invoiceId' ? segment : 'inv_fuzz');
    const body = 'body' in route ? Buffer.from(route.body) : undefined;
    const answer = await rawRequest(stack.runtime.url, route.method, path, { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) }, body);
    const [expected, code] = c.id.kind === 'malformed' ? [400, 'invalid_request'] : slot === 'id' ? [404, 'connection_not_found'] : [400, 'invalid_request'];
    record(route.method, path, answer, expected, code);
  }
  // Invalid UTF-8, as a JSON text body (the gateway repairs it into U+FFFD) and as a binary one.
  for (const contentType of ['application/json', 'application/octet-stream']) {
    for (const [method, path] of [['PATCH', `/connections/${stack.connectionId}`], ['POST', `/connections/${stack.connectionId}/failures/retry`]] as const) {
      record(method, path, await rawRequest(stack.runtime.url, method, path, { ...auth, 'content-type': contentType }, invalidUtf8Body()), 400, 'invalid_json');
    }
  }
  report.upstreamCalls = upstreamCount(stack) - before;
  report.nameAfter = await getName();
  return report;
}
