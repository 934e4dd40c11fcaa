/**
 * Admin API fuzzing (issue 7): fast-check generates bodies for POST /connections,
 * PATCH /connections/{id}, POST /connections/{id}/failures/retry and POST /connections/{id}/backfill
 * — malformed JSON, non-objects, missing fields, wrong types, unknown fields (a secret in the wrong
 * place), huge strings, unicode — against the live, an unknown and a disconnected connection, with
 * and without the admin token. Each case knows its intent, so the status is checked exactly (§5.1):
 * 401 without the token; 400 for a body that is not what the route accepts (naming the field);
 * 404 for an unknown connection; 409 for a disconnected one or a Sequence account already
 * connected; 422 for well-formed credentials the upstream refuses; 200/202 otherwise. Never a 5xx,
 * and no credential given in a body ever comes back in a response.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { SEQUENCE_ID_PATTERN } from '../../shared/domain/ids';
import { type FuzzStack } from './fuzz-stack';

type Route = 'create' | 'patch' | 'retry' | 'backfill';
type Target = 'live' | 'unknown' | 'disconnected';
type Auth = 'ok' | 'missing' | 'wrong';

export type BodyIntent =
  | { kind: 'malformed_json'; text: string }
  | { kind: 'non_object'; value: unknown }
  | { kind: 'empty' }
  | { kind: 'valid'; variant: number; unicode: string; flag: boolean }
  | { kind: 'wrong_credentials'; which: 'sequence' | 'sphere'; value: string }
  | { kind: 'missing_field'; field: number }
  | { kind: 'wrong_type'; field: number; value: unknown }
  | { kind: 'extra_field'; path: number; key: string; value: string }
  | { kind: 'huge_string'; field: number; length: number }
  | { kind: 'whitespace_credential'; field: number; ws: string };

export interface AdminCase {
  route: Route;
  target: Target;
  auth: Auth;
  body: BodyIntent;
}

const ws = fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u2003', '\u3000');
const nonBlankUnicode = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => s.trim().length > 0 && s.length <= 200);
const keyName = fc.oneof(fc.constantFrom('password', 'clientSecret', 'apiKey', 'secret', 'token', 'webhookSecret', 'admin', 'constructor'), fc.string({ minLength: 1, maxLength: 20 })).filter((k) => k !== '__proto__');

export const adminCase: fc.Arbitrary<AdminCase> = fc.record({
  route: fc.constantFrom<Route>('create', 'create', 'patch', 'patch', 'retry', 'backfill'),
  target: fc.constantFrom<Target>('live', 'live', 'live', 'unknown', 'disconnected'),
  auth: fc.constantFrom<Auth>('ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'missing', 'wrong'),
  body: fc.oneof(
    fc.record({ kind: fc.constant('malformed_json' as const), text: fc.oneof(fc.constantFrom('{', '{"name":', '[', '{"all":true', "{'all':true}", '{"a":1}}', 'tru'), fc.string({ minLength: 1, maxLength: 80 }).filter((s) => { try { JSON.parse(s); return false; } catch { return true; } })) }),
    fc.record({ kind: fc.constant('non_object' as const), value: fc.oneof(fc.integer(), fc.constant(null), fc.boolean(), fc.string({ maxLength: 30 }), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })) }),
    fc.record({ kind: fc.constant('empty' as const) }),
    fc.record({ kind: fc.constant('valid' as const), variant: fc.nat(9), unicode: nonBlankUnicode, flag: fc.boolean() }),
    fc.record({ kind: fc.constant('wrong_credentials' as const), which: fc.constantFrom('sequence' as const, 'sphere' as const), value: fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/) }),
    fc.record({ kind: fc.constant('missing_field' as const), field: fc.nat(9) }),
    fc.record({ kind: fc.constant('wrong_type' as const), field: fc.nat(9), value: fc.oneof(fc.integer(), fc.constant(null), fc.double({ noNaN: true }), fc.array(fc.string(), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { minKeys: 1, maxKeys: 2 })) }),
    fc.record({ kind: fc.constant('extra_field' as const), path: fc.nat(3), key: keyName, value: fc.string({ minLength: 8, maxLength: 40 }) }),
    fc.record({ kind: fc.constant('huge_string' as const), field: fc.nat(9), length: fc.integer({ min: 600, max: 200_000 }) }),
    fc.record({ kind: fc.constant('whitespace_credential' as const), field: fc.nat(2), ws }),
  ),
});

interface Built {
  method: string;
  path: string;
  body?: string;
  headers: Record<string, string>;
  expected: number[];
  /** Values sent that must never come back in the response. */
  mustNotEcho: string[];
}

/** Mutable JSON helpers. */
type Obj = Record<string, unknown>;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export class AdminCaseBuilder {
  constructor(private readonly stack: FuzzStack) {}

  private createBody(): Obj {
    const s = this.stack.secrets;
    return { name: 'Fuzz create', sequence: { environment: 'sandbox', clientId: s.clientId, clientSecret: s.clientSecret }, sphere: { apiKey: s.sphereKey }, taxCodes: { default: 'txcd_10000000' } };
  }

  /** The fields each route's body has, as paths into the valid body (for missing/wrong type/huge). */
  private fields(route: Route): string[][] {
    if (route === 'create') return [['name'], ['sequence'], ['sequence', 'environment'], ['sequence', 'clientId'], ['sequence', 'clientSecret'], ['sphere'], ['sphere', 'apiKey'], ['taxCodes'], ['taxCodes', 'default']];
    if (route === 'patch') return [['name'], ['options', 'calculateOnDraft'], ['taxCodes', 'default'], ['options']];
    return [['all']];
  }

  private validBody(route: Route, intent: Extract<BodyIntent, { kind: 'valid' }>): Obj {
    if (route === 'create') {
      const body = this.createBody();
      if (intent.variant % 2 === 0) body.name = intent.unicode;
      if (intent.variant % 3 === 0) body.taxCodes = { default: 'txcd_10000000', byTaxCategory: { [`cat-${intent.variant}`]: 'txcd_10103001' } };
      if (intent.variant % 5 === 0) body.options = { recordTransactions: intent.flag, calculateOnDraft: !intent.flag };
      return body;
    }
    if (route === 'patch') {
      const variants: Obj[] = [
        { name: intent.unicode },
        { options: { calculateOnDraft: intent.flag } },
        { options: { recordTransactions: true } },
        { taxCodes: { default: 'txcd_10000000' } },
        { taxCodes: { byTaxCategory: { [`cat-${intent.variant}`]: 'txcd_20030000' } } },
        {},
        { name: intent.unicode, options: { calculateOnDraft: true } },
      ];
      return variants[intent.variant % variants.length]!;
    }
    if (route === 'retry') {
      const variants: Obj[] = [{ all: true }, { resourceType: 'invoice' }, { resourceId: `inv_${intent.variant}` }, { resourceType: 'customer', resourceId: intent.unicode }];
      return variants[intent.variant % variants.length]!;
    }
    return {};
  }

  build(c: AdminCase): Built {
    const { stack } = this;
    const id = c.target === 'live' ? stack.connectionId : c.target === 'disconnected' ? stack.disconnectedId : `conn_${randomBytes(16).toString('hex')}`;
    const path = c.route === 'create' ? '/connections' : c.route === 'patch' ? `/connections/${id}` : c.route === 'retry' ? `/connections/${id}/failures/retry` : `/connections/${id}/backfill`;
    const method = c.route === 'patch' ? 'PATCH' : 'POST';
    const headers: Record<string, string> = {};
    if (c.auth === 'ok') headers.authorization = `Bearer ${stack.runtime.adminToken}`;
    if (c.auth === 'wrong') headers.authorization = `Bearer ${randomBytes(12).toString('hex')}`;
    const mustNotEcho: string[] = [];

    // What the body is, and whether the route accepts it ('ok'), refuses it (400) or refuses the credentials (422).
    let text: string | undefined;
    let verdict: 'ok' | 'bad' | 'credentials' = 'bad';
    const b = c.body;
    const base = (): Obj => (c.route === 'create' ? this.createBody() : c.route === 'patch' ? { name: 'Fuzz merchant', options: { calculateOnDraft: true } } : c.route === 'retry' ? { all: true } : {});
    const setAt = (obj: Obj, p: string[], value: unknown) => {
      let o = obj;
      for (const k of p.slice(0, -1)) o = (o[k] ??= {}) as Obj;
      o[p[p.length - 1]!] = value;
    };
    const deleteAt = (obj: Obj, p: string[]) => {
      let o: Obj | undefined = obj;
      for (const k of p.slice(0, -1)) o = o?.[k] as Obj | undefined;
      if (o) delete o[p[p.length - 1]!];
    };
    switch (b.kind) {
      case 'malformed_json':
        text = b.text;
        break;
      case 'non_object':
        text = JSON.stringify(b.value);
        break;
      case 'empty':
        text = undefined;
        // No body: POST /connections and PATCH need one; retry needs a selection; backfill takes none.
        verdict = 'bad';
        break;
      case 'valid': {
        const body = this.validBody(c.route, b);
        text = JSON.stringify(body);
        // A retry selection's resourceId is a Sequence id: anything else is refused (400), not searched for.
        verdict = typeof body.resourceId === 'string' && !SEQUENCE_ID_PATTERN.test(body.resourceId) ? 'bad' : 'ok';
        break;
      }
      case 'wrong_credentials': {
        if (c.route !== 'create' && c.route !== 'patch') {
          text = JSON.stringify(base());
          verdict = 'ok';
          break;
        }
        const body = c.route === 'create' ? this.createBody() : {};
        if (b.which === 'sequence') setAt(body, ['sequence', 'clientSecret'], b.value);
        else setAt(body, ['sphere', 'apiKey'], b.value);
        mustNotEcho.push(b.value);
        text = JSON.stringify(body);
        verdict = 'credentials';
        break;
      }
      case 'missing_field': {
        const fields = this.fields(c.route);
        const body = clone(base());
        const p = fields[b.field % fields.length]!;
        deleteAt(body, p);
        text = JSON.stringify(body);
        // PATCH fields are all optional; a retry body without `all` is an empty selection (400).
        verdict = c.route === 'patch' ? 'ok' : 'bad';
        break;
      }
      case 'wrong_type': {
        const fields = this.fields(c.route);
        const body = clone(base());
        setAt(body, fields[b.field % fields.length]!, b.value);
        text = JSON.stringify(body);
        break;
      }
      case 'extra_field': {
        const body = clone(base());
        const parents = c.route === 'create' ? [[], ['sequence'], ['sphere'], []] : c.route === 'patch' ? [[], ['options'], ['taxCodes'], []] : [[], [], [], []];
        const parent = parents[b.path % parents.length]!;
        let o = body;
        for (const k of parent) o = (o[k] ??= {}) as Obj;
        if (Object.prototype.hasOwnProperty.call(o, b.key)) o[`${b.key}_extra`] = b.value;
        else o[b.key] = b.value;
        mustNotEcho.push(b.value);
        text = JSON.stringify(body);
        break;
      }
      case 'huge_string': {
        const fields = this.fields(c.route);
        const body = clone(base());
        const p = fields[b.field % fields.length]!;
        const huge = `H${randomBytes(4).toString('hex')}${'y'.repeat(b.length)}`;
        setAt(body, p, huge);
        text = JSON.stringify(body);
        break;
      }
      case 'whitespace_credential': {
        if (c.route !== 'create') {
          text = JSON.stringify(base());
          verdict = 'ok';
          break;
        }
        const body = this.createBody();
        const p = [['sequence', 'clientId'], ['sequence', 'clientSecret'], ['sphere', 'apiKey']][b.field % 3]!;
        const value = `abc${b.ws}def${randomBytes(3).toString('hex')}`;
        setAt(body, p, value);
        text = JSON.stringify(body);
        break;
      }
    }
    if (text !== undefined) headers['content-type'] = 'application/json';

    let expected: number[];
    if (c.auth !== 'ok') expected = [401];
    else if (c.route === 'backfill') {
      // The backfill route takes no body: only the connection decides.
      expected = c.target === 'live' ? [202] : c.target === 'unknown' ? [404] : [409];
    } else if (verdict === 'bad') expected = [400];
    else if (c.route === 'create') expected = verdict === 'credentials' ? [422] : [409]; // the simulators' account is connected already
    else if (c.target === 'unknown') expected = [404];
    else if (c.target === 'disconnected') expected = c.route === 'retry' ? [404] : [409];
    else if (c.route === 'patch') expected = verdict === 'credentials' ? [422] : [200];
    else expected = [404]; // retry on the live connection: a well-formed selection, and no failure matches it
    return { method, path, ...(text !== undefined ? { body: text } : {}), headers, expected, mustNotEcho };
  }
}

export interface AdminFuzzReport {
  requests: number;
  byStatus: Record<string, number>;
  byRoute: Record<string, Record<string, number>>;
  unexpected: { route: string; target: string; auth: string; body: string; status: number; expected: number[]; response: string }[];
  fiveXx: number;
  echoedSecrets: number;
  badErrorShape: number;
}

export async function fuzzAdmin(stack: FuzzStack, options: { runs: number; seed: number; concurrency?: number; progress?: (line: string) => void }): Promise<AdminFuzzReport> {
  const cases = fc.sample(adminCase, { numRuns: options.runs, seed: options.seed });
  const builder = new AdminCaseBuilder(stack);
  const report: AdminFuzzReport = { requests: 0, byStatus: {}, byRoute: {}, unexpected: [], fiveXx: 0, echoedSecrets: 0, badErrorShape: 0 };
  const ours = [stack.secrets.clientSecret, stack.secrets.sphereKey, stack.webhookSecret, stack.runtime.adminToken];
  let next = 0;
  await Promise.all(
    Array.from({ length: options.concurrency ?? 4 }, async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const req = builder.build(c);
        let status = 0;
        let text = '';
        try {
          const response = await fetch(`${stack.runtime.url}${req.path}`, { method: req.method, headers: req.headers, ...(req.body !== undefined ? { body: req.body } : {}) });
          status = response.status;
          text = await response.text();
        } catch (error) {
          text = error instanceof Error ? error.message : String(error);
        }
        report.requests += 1;
        if (report.requests % 500 === 0) options.progress?.(`  ${report.requests}/${cases.length} admin requests`);
        report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
        const perRoute = (report.byRoute[c.route] ??= {});
        perRoute[status] = (perRoute[status] ?? 0) + 1;
        if (status >= 500) report.fiveXx += 1;
        if (!req.expected.includes(status)) {
          report.unexpected.push({ route: c.route, target: c.target, auth: c.auth, body: (req.body ?? '(none)').slice(0, 160), status, expected: req.expected, response: text.slice(0, 240) });
        }
        if ([...ours, ...req.mustNotEcho].some((s) => s.length >= 8 && text.includes(s))) report.echoedSecrets += 1;
        if (status >= 400) {
          try {
            const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
            if (typeof parsed.error?.code !== 'string' || typeof parsed.error?.message !== 'string') report.badErrorShape += 1;
          } catch {
            report.badErrorShape += 1;
          }
        }
      }
    }),
  );
  return report;
}
