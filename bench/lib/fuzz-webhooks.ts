/**
 * Webhook fuzzing (issue 7): fast-check generates what a webhook request should be (valid signed
 * envelopes, replays, bad and replayed signatures, stale and future timestamps, missing and
 * malformed headers, broken JSON and wrong types under a valid signature, huge and empty bodies,
 * unknown notification types, bodies API Gateway base64-encodes, another Sequence account,
 * unknown and disconnected connections); the runner turns each into a real HTTP request through
 * the local front door and checks the status against the contract (architecture §5.2,
 * shared/webhooks/ingest.ts): 202 accepted · 200 duplicate · 400 malformed with a valid signature ·
 * 401 missing/invalid/stale signature · 404 unknown or disconnected connection · 413 over 256 KiB.
 * Never a 5xx, and nothing queued unless the signature verified: every message the recording
 * consumers saw must belong to an accepted, validly signed request, once.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { CONSUMED_NOTIFICATION_TYPES, NOTIFICATION_ROUTES } from '../../shared/webhooks/routing';
import { type FuzzStack } from './fuzz-stack';

export const WEBHOOK_BODY_LIMIT = 256 * 1024;
const TOLERANCE_MS = 5 * 60 * 1000;

export type ContentType = 'application/json' | 'application/json; charset=utf-8' | 'text/plain' | 'application/octet-stream' | 'application/x-www-form-urlencoded' | 'none';

type Mutation =
  | { kind: 'root'; value: unknown }
  | { kind: 'notificationType'; value: unknown }
  | { kind: 'dropAccount' }
  | { kind: 'account'; value: unknown }
  | { kind: 'resource'; value: unknown }
  | { kind: 'resourceId'; value: unknown }
  | { kind: 'updatedAt'; value: unknown };

export type WebhookIntent =
  | { kind: 'valid'; type: string; extra: Record<string, unknown> }
  | { kind: 'replay'; freshSignature: boolean }
  | { kind: 'unknown_type'; type: string }
  | { kind: 'bad_signature'; how: 'random_hex' | 'wrong_secret' | 'truncated' | 'uppercase_t' }
  | { kind: 'replayed_signature' }
  | { kind: 'stale'; offsetMs: number }
  | { kind: 'missing_header' }
  | { kind: 'malformed_header'; header: string }
  | { kind: 'broken_json'; text: string }
  | { kind: 'wrong_types'; mutation: Mutation }
  | { kind: 'huge'; bytes: number; signed: boolean }
  | { kind: 'empty'; signed: boolean }
  | { kind: 'wrong_account'; account: string }
  | { kind: 'missing_resource_id'; type: string }
  | { kind: 'unknown_connection'; id: string }
  | { kind: 'disconnected' };

export interface WebhookCase {
  intent: WebhookIntent;
  contentType: ContentType;
}

const consumedType = fc.constantFrom(...CONSUMED_NOTIFICATION_TYPES);
const jsonish = fc.jsonValue({ maxDepth: 2 });
const unicodeText = fc.string({ unit: 'grapheme', maxLength: 40 });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('root' as const), value: fc.oneof(fc.integer(), fc.constant(null), fc.array(jsonish, { maxLength: 3 }), unicodeText, fc.boolean()) }),
  fc.record({ kind: fc.constant('notificationType' as const), value: fc.oneof(fc.integer(), fc.constant(null), fc.constant(''), fc.array(fc.string()), fc.string({ minLength: 101, maxLength: 300 }), fc.constant(undefined)) }),
  fc.record({ kind: fc.constant('dropAccount' as const) }),
  fc.record({ kind: fc.constant('account' as const), value: fc.oneof(fc.integer(), fc.constant(null), fc.constant(''), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 })) }),
  fc.record({ kind: fc.constant('resource' as const), value: fc.oneof(fc.integer(), unicodeText, fc.array(jsonish, { maxLength: 3 }), fc.boolean()) }),
  fc.record({ kind: fc.constant('resourceId' as const), value: fc.oneof(fc.integer(), fc.constant(''), fc.boolean(), fc.dictionary(fc.string(), fc.string(), { maxKeys: 1 })) }),
  fc.record({ kind: fc.constant('updatedAt' as const), value: fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string(), { minLength: 1, maxLength: 2 })) }),
);

const brokenJson = fc.oneof(
  fc.constantFrom('{', '{"notificationType":', '[1,2', 'null,', '{"a":1}}', "{'single':'quotes'}", 'NaN', '{"notificationType":"INVOICE_CREATED",}', 'undefined', '\u0000'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
);

/** Printable ASCII only (fetch refuses other header bytes), never a valid signature. */
const malformedHeader = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 120 }),
  fc.constantFrom('t=,s=', 's=abc,t=1', 't=abc,s=00', `t=${Date.now()}`, 's=deadbeef', 't=1,s=zz', 't=-1,s=00', 't=1e3,s=00', 'v1=abc', 't=99999999999999999999,s=00'),
);

export const webhookCase: fc.Arbitrary<WebhookCase> = fc.record({
  intent: fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('valid' as const), type: consumedType, extra: fc.dictionary(fc.string({ maxLength: 12 }).filter((k) => k !== 'id' && k !== 'updatedAt' && k !== '__proto__'), jsonish, { maxKeys: 4 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('replay' as const), freshSignature: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('unknown_type' as const), type: fc.stringMatching(/^[A-Z][A-Z_]{0,59}$/).filter((t) => !Object.prototype.hasOwnProperty.call(NOTIFICATION_ROUTES, t)) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('bad_signature' as const), how: fc.constantFrom('random_hex' as const, 'wrong_secret' as const, 'truncated' as const, 'uppercase_t' as const) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('replayed_signature' as const) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('stale' as const), offsetMs: fc.oneof(fc.integer({ min: TOLERANCE_MS + 2_000, max: 30 * 86_400_000 }), fc.integer({ min: -30 * 86_400_000, max: -(TOLERANCE_MS + 2_000) })) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('missing_header' as const) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('malformed_header' as const), header: malformedHeader }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('broken_json' as const), text: brokenJson }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('wrong_types' as const), mutation }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), bytes: fc.integer({ min: WEBHOOK_BODY_LIMIT + 1, max: 3 * WEBHOOK_BODY_LIMIT }), signed: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('empty' as const), signed: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrong_account' as const), account: fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 40 })) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('missing_resource_id' as const), type: consumedType }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('unknown_connection' as const), id: fc.oneof(fc.stringMatching(/^conn_[a-f0-9]{32}$/), fc.string({ minLength: 1, maxLength: 40 })) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('disconnected' as const) }) },
  ),
  contentType: fc.constantFrom<ContentType>('application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream', 'application/x-www-form-urlencoded', 'none'),
});

export function sign(secret: string, body: Buffer, t: number): string {
  return `t=${t},s=${createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex')}`;
}

interface BuiltRequest {
  path: string;
  body: Buffer;
  headers: Record<string, string>;
  expected: number[];
  /** The resource id a 202 queues (valid consumed types only). */
  queues?: string;
}

export interface WebhookOutcome {
  intent: WebhookIntent['kind'];
  contentType: ContentType;
  status: number;
  expected: number[];
  queues?: string;
  error?: string;
}

export interface WebhookFuzzReport {
  requests: number;
  byStatus: Record<string, number>;
  byIntent: Record<string, Record<string, number>>;
  unexpected: { intent: string; contentType: string; status: number; expected: number[]; detail?: string }[];
  fiveXx: number;
  /** Accepted (202) requests of consumed types, each expected to queue exactly one message. */
  acceptedQueueing: number;
  queuedMessages: number;
  /** Messages on a queue that no accepted, validly signed request accounts for. */
  queuedWithoutSignature: number;
  /** Accepted requests whose message never arrived. */
  lostMessages: number;
  /** The same webhook queued twice. */
  duplicateMessages: number;
}

class Runner {
  private counter = 0;
  private readonly prefix = randomBytes(4).toString('hex');
  /** Accepted valid requests, for replays. */
  private readonly accepted: { path: string; body: Buffer; headers: Record<string, string> }[] = [];

  constructor(private readonly stack: FuzzStack) {}

  private nextId(): string {
    this.counter += 1;
    return `fz_${this.prefix}_${this.counter}`;
  }

  private envelope(type: string, extra: Record<string, unknown> = {}): { value: Record<string, unknown>; id: string } {
    const id = this.nextId();
    const resourceType = type.startsWith('CUSTOMER') ? 'Customer' : type.startsWith('CREDIT') ? 'CreditNote' : 'Invoice';
    return {
      id,
      value: { notificationType: type, sequenceAccountId: this.stack.accountId, resourceType, resourceId: id, resource: { ...extra, id, updatedAt: new Date().toISOString() } },
    };
  }

  build(c: WebhookCase): BuiltRequest {
    const { stack } = this;
    const path = `/webhooks/sequence/${stack.connectionId}`;
    const now = Date.now();
    const json = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'null', 'utf8');
    const signed = (body: Buffer, t = now) => ({ 'sequence-signature': sign(stack.webhookSecret, body, t) });
    const intent = c.intent;
    switch (intent.kind) {
      case 'valid': {
        const e = this.envelope(intent.type, intent.extra);
        const body = json(e.value);
        if (body.length > WEBHOOK_BODY_LIMIT) return { path, body, headers: signed(body), expected: [413] };
        return { path, body, headers: signed(body), expected: [202], queues: e.id };
      }
      case 'replay': {
        const previous = this.accepted[Math.floor(Math.random() * this.accepted.length)];
        if (!previous) return this.build({ ...c, intent: { kind: 'valid', type: 'INVOICE_UPDATED', extra: {} } });
        const headers = intent.freshSignature ? signed(previous.body) : previous.headers;
        // An exact replay older than the tolerance would be 401; the run is far shorter than 5 minutes.
        return { path: previous.path, body: previous.body, headers, expected: [200] };
      }
      case 'unknown_type': {
        const body = json(this.envelope(intent.type).value);
        return { path, body, headers: signed(body), expected: [202] };
      }
      case 'bad_signature': {
        const body = json(this.envelope('INVOICE_CREATED').value);
        const good = sign(stack.webhookSecret, body, now);
        const header =
          intent.how === 'random_hex'
            ? `t=${now},s=${randomBytes(32).toString('hex')}`
            : intent.how === 'wrong_secret'
              ? sign(`whsec_${randomBytes(16).toString('hex')}`, body, now)
              : intent.how === 'truncated'
                ? good.slice(0, good.length - 2)
                : good.replace('t=', 'T=');
        return { path, body, headers: { 'sequence-signature': header }, expected: [401] };
      }
      case 'replayed_signature': {
        const original = json(this.envelope('CUSTOMER_UPDATED').value);
        const tampered = json(this.envelope('CUSTOMER_UPDATED').value);
        return { path, body: tampered, headers: signed(original), expected: [401] };
      }
      case 'stale': {
        const body = json(this.envelope('INVOICE_UPDATED').value);
        return { path, body, headers: signed(body, now + intent.offsetMs), expected: [401] };
      }
      case 'missing_header': {
        const body = json(this.envelope('INVOICE_CREATED').value);
        return { path, body, headers: {}, expected: [401] };
      }
      case 'malformed_header': {
        const body = json(this.envelope('INVOICE_CREATED').value);
        return { path, body, headers: { 'sequence-signature': intent.header }, expected: [401] };
      }
      case 'broken_json': {
        const body = Buffer.from(intent.text, 'utf8');
        return { path, body, headers: signed(body), expected: body.length > WEBHOOK_BODY_LIMIT ? [413] : [400] };
      }
      case 'wrong_types': {
        const e = this.envelope('INVOICE_CREATED').value;
        const resource = e.resource as Record<string, unknown>;
        const m = intent.mutation;
        let value: unknown = e;
        if (m.kind === 'root') value = m.value;
        else if (m.kind === 'notificationType') e.notificationType = m.value;
        else if (m.kind === 'dropAccount') delete e.sequenceAccountId;
        else if (m.kind === 'account') e.sequenceAccountId = m.value;
        else if (m.kind === 'resource') e.resource = m.value;
        else if (m.kind === 'resourceId') resource.id = m.value;
        else resource.updatedAt = m.value;
        const body = json(value);
        return { path, body, headers: signed(body), expected: [400] };
      }
      case 'huge': {
        const e = this.envelope('INVOICE_UPDATED').value;
        (e.resource as Record<string, unknown>).memo = 'x'.repeat(intent.bytes);
        const body = json(e);
        return { path, body, headers: intent.signed ? signed(body) : {}, expected: [413] };
      }
      case 'empty': {
        const body = Buffer.alloc(0);
        return { path, body, headers: intent.signed ? signed(body) : {}, expected: intent.signed ? [400] : [401] };
      }
      case 'wrong_account': {
        const e = this.envelope('INVOICE_CREATED').value;
        e.sequenceAccountId = intent.account === stack.accountId ? `${intent.account}x` : intent.account;
        const body = json(e);
        return { path, body, headers: signed(body), expected: [400] };
      }
      case 'missing_resource_id': {
        const e = this.envelope(intent.type).value;
        delete e.resourceId;
        delete (e.resource as Record<string, unknown>).id;
        const body = json(e);
        return { path, body, headers: signed(body), expected: [400] };
      }
      case 'unknown_connection': {
        const body = json(this.envelope('INVOICE_CREATED').value);
        return { path: `/webhooks/sequence/${encodeURIComponent(intent.id)}`, body, headers: signed(body), expected: [404] };
      }
      case 'disconnected': {
        const body = json(this.envelope('INVOICE_CREATED').value);
        return { path: `/webhooks/sequence/${stack.disconnectedId}`, body, headers: signed(body), expected: [404] };
      }
    }
  }

  async send(c: WebhookCase): Promise<WebhookOutcome> {
    const req = this.build(c);
    const headers = { ...req.headers, ...(c.contentType === 'none' ? {} : { 'content-type': c.contentType }) };
    const base = { intent: c.intent.kind, contentType: c.contentType, expected: req.expected, ...(req.queues ? { queues: req.queues } : {}) };
    try {
      const response = await fetch(`${this.stack.runtime.url}${req.path}`, { method: 'POST', headers, body: req.body });
      await response.arrayBuffer();
      if (response.status === 202 && req.queues) this.accepted.push({ path: req.path, body: req.body, headers: req.headers });
      return { ...base, status: response.status };
    } catch (error) {
      return { ...base, status: 0, error: error instanceof Error ? error.message : String(error) };
    }
  }
}

async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!);
      }
    }),
  );
  return out;
}

export async function fuzzWebhooks(stack: FuzzStack, options: { runs: number; seed: number; concurrency?: number; progress?: (line: string) => void }): Promise<WebhookFuzzReport> {
  const cases = fc.sample(webhookCase, { numRuns: options.runs, seed: options.seed });
  const runner = new Runner(stack);
  stack.resetQueued();
  let done = 0;
  const outcomes = await pool(cases, options.concurrency ?? 8, async (c) => {
    const o = await runner.send(c);
    if (++done % 1000 === 0) options.progress?.(`  ${done}/${cases.length} webhook requests`);
    return o;
  });
  await stack.runtime.drain({ timeoutMs: 60_000 });

  const report: WebhookFuzzReport = {
    requests: outcomes.length,
    byStatus: {},
    byIntent: {},
    unexpected: [],
    fiveXx: 0,
    acceptedQueueing: 0,
    queuedMessages: 0,
    queuedWithoutSignature: 0,
    lostMessages: 0,
    duplicateMessages: 0,
  };
  const shouldQueue = new Set<string>();
  for (const o of outcomes) {
    report.byStatus[o.status] = (report.byStatus[o.status] ?? 0) + 1;
    const perIntent = (report.byIntent[o.intent] ??= {});
    perIntent[o.status] = (perIntent[o.status] ?? 0) + 1;
    if (o.status >= 500) report.fiveXx += 1;
    if (!o.expected.includes(o.status)) report.unexpected.push({ intent: o.intent, contentType: o.contentType, status: o.status, expected: o.expected, ...(o.error ? { detail: o.error } : {}) });
    if (o.status === 202 && o.queues) shouldQueue.add(o.queues);
  }
  report.acceptedQueueing = shouldQueue.size;
  const seen = new Map<string, number>();
  for (const [queue, messages] of Object.entries(stack.queued())) {
    for (const m of messages) {
      if (queue.startsWith('backfill')) continue; // the admin API's, not ingest's
      report.queuedMessages += 1;
      const id = String(m.invoiceId ?? m.customerId ?? m.creditNoteId ?? '');
      if (m.trigger !== 'webhook' || !shouldQueue.has(id)) report.queuedWithoutSignature += 1;
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  for (const id of shouldQueue) if (!seen.has(id)) report.lostMessages += 1;
  for (const n of seen.values()) if (n > 1) report.duplicateMessages += n - 1;
  return report;
}
