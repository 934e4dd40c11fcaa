/**
 * A Sequence sandbox simulator on node:http (architecture §5.3): the paths, Basic auth,
 * `Sequence-Version` header, field names, decimal-string money, error bodies, cursor pagination,
 * per-key rate limit with 429s, and signed webhooks of the real API (2024-07-30), plus a control
 * surface under `/_sim/` that the real service does not have.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { z } from 'zod';
import { SimHttpError, badRequest, notFound, validationError, zodValidationError } from './errors';
import { type LineTaxRule, SequenceResources, type SimEvent } from './resources';
import { type SimState, initialState, loadState, replaceState, saveState } from './store';
import { type DeliveryFaults, type WebhookDelivery, WebhookDispatcher } from './webhooks';

export { signSequenceWebhook, type WebhookDelivery } from './webhooks';
export { SIM_SEQUENCE_ACCOUNT_ID, SIM_TAX_CATEGORY_IDS, type SimState } from './store';

export const SIM_API_VERSION = '2024-07-30';
/** Versions Sequence knows; the simulator serves the 2024-07-30 shapes for all of them. */
export const KNOWN_API_VERSIONS = ['2024-07-30', '2024-05-09', '2024-01-01'];

export interface SequenceSimulatorOptions {
  /** 0 = any free port (default 0; main.ts uses 3101). */
  port?: number;
  host?: string;
  clientId?: string;
  clientSecret?: string;
  /** Per API key, per minute (default 1500, Sequence's published limit). */
  rateLimitPerMinute?: number;
  /** Optional JSON persistence of the data (not of requests/deliveries). */
  dataFile?: string;
  now?: () => number;
  /** Delays before webhook retries (default [250, 1000, 4000, 15000]). */
  webhookRetryDelaysMs?: number[];
}

export interface SimFaults {
  /** Fraction 0–1 of API calls answered with one of `statuses`. */
  errorRate: number;
  statuses: number[];
  /** Extra latency per API call: a fixed number or a [min, max] range. */
  latencyMs: number | [number, number];
  /** An extra per-key per-second limit (0 = off). */
  rateLimitPerSecond: number;
  duplicateWebhooks: boolean;
  reorderWebhooks: boolean;
  reorderWindowMs: number;
  /** Deterministic: the next N API calls fail with `statuses[0]` (then errorRate applies). */
  failNext: number;
  /** Fraction 0–1 of API calls answered 200 with a body that is not JSON. */
  malformedRate: number;
  /**
   * `Retry-After` (seconds) on 429s, rate-limited or injected. Default null: Sequence documents no
   * Retry-After, so none is sent unless a test asks (a proxy or a future API version might add one).
   */
  retryAfterSeconds: number | null;
  /**
   * How line totalTax is computed from taxRate (LineTaxRule in ./resources/context.ts). Default
   * `fraction_half_up`, the connector's assumption; the others play a Sequence whose arithmetic differs
   * (the `sequence_tax_mismatch` guard). Applies to every line computed while it is set.
   */
  lineTaxRule: LineTaxRule;
  /**
   * Whether `mark-as-sent` (invoices and credit notes) sends webhooks. Default false, as documented
   * ("Emails or notifications are not sent"); true plays a Sequence that notifies anyway.
   */
  markAsSentNotifies: boolean;
}

const DEFAULT_FAULTS: SimFaults = {
  errorRate: 0,
  statuses: [500, 502, 503],
  latencyMs: 0,
  rateLimitPerSecond: 0,
  duplicateWebhooks: false,
  reorderWebhooks: false,
  reorderWindowMs: 50,
  failNext: 0,
  malformedRate: 0,
  retryAfterSeconds: null,
  lineTaxRule: 'fraction_half_up',
  markAsSentNotifies: false,
};

const FaultsPatchSchema = z
  .object({
    errorRate: z.number().min(0).max(1),
    statuses: z.array(z.number().int().min(400).max(599)).min(1),
    latencyMs: z.union([z.number().min(0), z.tuple([z.number().min(0), z.number().min(0)])]),
    rateLimitPerSecond: z.number().int().min(0),
    duplicateWebhooks: z.boolean(),
    reorderWebhooks: z.boolean(),
    reorderWindowMs: z.number().int().min(0).max(10_000),
    failNext: z.number().int().min(0),
    malformedRate: z.number().min(0).max(1),
    retryAfterSeconds: z.number().int().min(0).max(3600).nullable(),
    lineTaxRule: z.enum(['fraction_half_up', 'fraction_round_down', 'percent']),
    markAsSentNotifies: z.boolean(),
  })
  .partial()
  .strict();

const TOO_MANY_REQUESTS = { error: { type: 'tooManyRequests', message: 'Rate limit exceeded: too many requests for this API key' } };

/**
 * The response header naming the request (its value is the request-log entry's `id`). Sequence
 * documents no such header; this is the name the connector's client reads
 * (SEQUENCE_REQUEST_ID_HEADER in shared/sequence/schemas/common.ts), so the audit log path is exercised.
 */
export const REQUEST_ID_HEADER = 'X-Request-Id';

export interface SimRequestLogEntry {
  /** Also sent back as the X-Request-Id response header. */
  id: string;
  method: string;
  path: string;
  query: string;
  status: number;
  timestamp: string;
  durationMs: number;
  /** The Sequence-Version header the caller sent (absent when it sent none). */
  sequenceVersion?: string;
  authenticated: boolean;
  fault?: 'error' | 'malformed' | 'rate_limited';
}

export interface SequenceSimulator {
  /** `http://host:port` */
  url: string;
  /** `url + '/api'`: the base URL to give a Sequence client. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
  /** Direct access to the in-memory data (the same object the server mutates). */
  state: SimState;
  resources: SequenceResources;
  requests: SimRequestLogEntry[];
  deliveries: WebhookDelivery[];
  faults: SimFaults;
  setFaults(patch: Partial<SimFaults>): SimFaults;
  reset(): void;
  /** Resolves when every webhook so far has been delivered or has failed for good. */
  webhooksIdle(): Promise<void>;
}

interface Ctx {
  params: string[];
  query: URLSearchParams;
  body: unknown;
}
interface Reply {
  status?: number;
  body: unknown;
}
type Handler = (ctx: Ctx) => Reply;

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_LOG = 10_000;

function encodeCursor(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}
function decodeCursor(cursor: string): string {
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

/** Cursor pagination over an ordered list: `limit` 1–100, `after`, `before`, `totalResultSize`. */
function paginate<T extends { id: string }>(all: T[], query: URLSearchParams, sortable = true): Reply {
  const rawLimit = query.get('limit');
  const limit = rawLimit === null ? 50 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw validationError([{ key: 'limit', message: 'limit must be between 1 and 100 (inclusive)' }]);
  }
  const sortOrder = query.get('sortOrder') ?? 'DESC';
  if (sortOrder !== 'ASC' && sortOrder !== 'DESC') throw validationError([{ key: 'sortOrder', message: 'sortOrder must be ASC or DESC' }]);
  const ordered = sortable && sortOrder === 'DESC' ? [...all].reverse() : all;
  const position = (cursor: string, key: string): number => {
    const id = decodeCursor(cursor);
    const idx = ordered.findIndex((x) => x.id === id);
    if (idx < 0) throw validationError([{ key, message: 'Invalid pagination cursor' }]);
    return idx;
  };
  let start = 0;
  let end: number;
  const after = query.get('after');
  const before = query.get('before');
  if (after) {
    start = position(after, 'after') + 1;
    end = Math.min(ordered.length, start + limit);
  } else if (before) {
    end = position(before, 'before');
    start = Math.max(0, end - limit);
  } else {
    end = Math.min(ordered.length, limit);
  }
  const items = ordered.slice(start, end);
  const pagination: Record<string, unknown> = { totalResultSize: ordered.length };
  if (end < ordered.length && items.length > 0) pagination.after = encodeCursor(items[items.length - 1].id);
  if (start > 0 && items.length > 0) pagination.before = encodeCursor(items[0].id);
  return { body: { items, pagination } };
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new SimHttpError(413, { error: { type: 'payloadTooLarge', message: 'Request body too large' } }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw validationError([{ key: '', message: 'Request body is not valid JSON' }]);
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export async function startSequenceSimulator(options: SequenceSimulatorOptions = {}): Promise<SequenceSimulator> {
  const host = options.host ?? '127.0.0.1';
  const clientId = options.clientId ?? 'local-client';
  const clientSecret = options.clientSecret ?? 'local-secret';
  const rateLimitPerMinute = options.rateLimitPerMinute ?? 1500;
  const now = options.now ?? Date.now;
  const nowIso = () => new Date(now()).toISOString();

  const state: SimState = options.dataFile ? loadState(options.dataFile, nowIso()) : initialState(nowIso());
  const faults: SimFaults = { ...DEFAULT_FAULTS };
  const requests: SimRequestLogEntry[] = [];
  const dispatcher = new WebhookDispatcher({ now, retryDelaysMs: options.webhookRetryDelaysMs });
  const windows = new Map<string, number[]>();
  let muted = false;
  let saveTimer: NodeJS.Timeout | undefined;

  const persist = () => {
    if (!options.dataFile || saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      saveState(options.dataFile as string, state);
    }, 100);
  };

  const deliveryFaults = (): DeliveryFaults => ({
    duplicateWebhooks: faults.duplicateWebhooks,
    reorderWebhooks: faults.reorderWebhooks,
    reorderWindowMs: faults.reorderWindowMs,
  });

  const emit = (event: SimEvent) => {
    if (muted) return;
    // The resource as it is now: later changes must not leak into this event's payload.
    const resource = structuredClone(event.resource);
    for (const policy of Object.values(state.policies)) {
      if (policy.channel !== 'WEBHOOK' || !policy.webhookSecret) continue;
      if (policy.notificationTypes && !policy.notificationTypes.includes(event.notificationType)) continue;
      for (const url of policy.recipients) {
        dispatcher.enqueue(
          { id: policy.id, webhookSecret: policy.webhookSecret, url },
          { notificationType: event.notificationType, sequenceAccountId: state.account.id, resourceType: event.resourceType, resourceId: resource.id, resource },
          deliveryFaults(),
        );
      }
    }
  };

  const r = new SequenceResources(() => state, now, emit, persist, () => faults.lineTaxRule);

  // --- routes -------------------------------------------------------------------------------
  const routes: { method: string; pattern: RegExp; handler: Handler }[] = [];
  const route = (method: string, path: string, handler: Handler) => {
    const pattern = new RegExp('^' + path.replace(/:[a-zA-Z]+/g, '([^/]+)') + '/?$');
    routes.push({ method, pattern, handler });
  };
  const ok = (body: unknown): Reply => ({ body });
  const created = (body: unknown): Reply => ({ status: 201, body });

  /** The routes of a collection at `path`: each operation the resource has. */
  const collection = (
    path: string,
    resource: {
      get(id: string): unknown;
      list?(query: URLSearchParams): unknown[];
      create?(body: unknown): unknown;
      update?(id: string, body: unknown): unknown;
      archive?(id: string): unknown;
      delete?(id: string): unknown;
    },
    options: { cursorPaged?: boolean } = {},
  ) => {
    const { list, create, update, archive } = resource;
    if (list) route('GET', path, ({ query }) => paginate(list.call(resource, query) as { id: string }[], query, options.cursorPaged ?? true));
    if (create) route('POST', path, ({ body }) => created(create.call(resource, body)));
    route('GET', `${path}/:id`, ({ params }) => ok(resource.get(params[0])));
    if (update) route('PUT', `${path}/:id`, ({ params, body }) => ok(update.call(resource, params[0], body)));
    if (archive) route('POST', `${path}/:id/archive`, ({ params }) => ok(archive.call(resource, params[0])));
    if (resource.delete) route('DELETE', `${path}/:id`, ({ params }) => ok(resource.delete!(params[0])));
  };

  collection('/customers', r.customers);
  collection('/products', r.products);
  collection('/prices', r.prices);
  collection('/tax-categories', r.taxCategories, { cursorPaged: false });
  collection('/tax-registrations', r.taxRegistrations);
  route('GET', '/tax-registrations/for-customer/:id', ({ params, query }) => paginate(r.taxRegistrations.forCustomer(params[0]), query));
  collection('/notifications/policies', r.policies);

  const invoices = r.invoices;
  collection('/invoices', invoices);
  route('PATCH', '/invoices/:id', ({ params, body }) => ok(invoices.update(params[0], body, true)));
  route('GET', '/invoices/:id/line-items', ({ params, query }) => (invoices.get(params[0]), paginate(invoices.lines(params[0]), query, false)));
  route('POST', '/invoices/:id/line-items', ({ params, body }) => created(invoices.createLine(params[0], body)));
  route('PUT', '/invoices/:id/line-items/:lid', ({ params, body }) => ok(invoices.updateLine(params[0], params[1], body)));
  route('DELETE', '/invoices/:id/line-items/:lid', ({ params }) => ok(invoices.deleteLine(params[0], params[1])));
  route('GET', '/invoices/:id/line-item-groups', ({ params, query }) => (invoices.get(params[0]), paginate(invoices.groups(params[0]), query, false)));
  route('POST', '/invoices/:id/line-item-groups', ({ params, body }) => created(invoices.createGroup(params[0], body)));
  route('PUT', '/invoices/:id/line-item-groups/:gid', ({ params, body }) => ok(invoices.updateGroup(params[0], params[1], body)));
  route('DELETE', '/invoices/:id/line-item-groups/:gid', ({ params }) => ok(invoices.deleteGroup(params[0], params[1])));
  route('POST', '/invoices/:id/finalize', ({ params }) => ok(invoices.finalize(params[0])));
  route('POST', '/invoices/:id/send', ({ params }) => ok(invoices.send(params[0])));
  route('POST', '/invoices/:id/finalize-and-send', ({ params }) => ok(invoices.finalizeAndSend(params[0])));
  route('POST', '/invoices/:id/mark-as-sent', ({ params }) => ok(invoices.markAsSent(params[0], faults.markAsSentNotifies)));
  route('POST', '/invoices/:id/void', ({ params }) => ok(invoices.void(params[0])));

  const creditNotes = r.creditNotes;
  collection('/credit-notes', creditNotes);
  route('GET', '/credit-notes/:id/line-items', ({ params, query }) => (creditNotes.get(params[0]), paginate(creditNotes.lines(params[0]), query, false)));
  route('POST', '/credit-notes/:id/line-items', ({ params, body }) => created(creditNotes.createLine(params[0], body)));
  route('POST', '/credit-notes/:id/finalize', ({ params }) => ok(creditNotes.finalize(params[0])));
  route('POST', '/credit-notes/:id/send', ({ params }) => ok(creditNotes.issue(params[0])));
  route('POST', '/credit-notes/:id/finalize-and-send', ({ params }) => ok(creditNotes.issue(params[0])));
  route('POST', '/credit-notes/:id/mark-as-sent', ({ params }) => ok(creditNotes.issue(params[0], { silent: !faults.markAsSentNotifies })));
  route('POST', '/credit-notes/:id/void', ({ params }) => ok(creditNotes.void(params[0])));

  route('GET', '/sequence-accounts', ({ query }) => paginate([state.account], query));
  route('GET', '/sequence-accounts/:id', ({ params }) => {
    if (params[0] !== state.account.id) throw notFound('SequenceAccount', params[0]);
    return ok(state.account);
  });

  const dispatch = (method: string, path: string, ctx: Omit<Ctx, 'params'>): Reply => {
    for (const rt of routes) {
      if (rt.method !== method) continue;
      const m = rt.pattern.exec(path);
      if (m) return rt.handler({ ...ctx, params: m.slice(1).map((p) => decodeURIComponent(p)) });
    }
    throw new SimHttpError(404, { error: { type: 'notFound', message: `No route for ${method} ${path}` } });
  };

  // --- rate limiting ------------------------------------------------------------------------
  const retryAfterHeader = (): Record<string, string> => (faults.retryAfterSeconds === null ? {} : { 'retry-after': String(faults.retryAfterSeconds) });
  const overLimit = (key: string, limit: number, windowMs: number): boolean => {
    if (limit <= 0) return false;
    const t = Date.now();
    const list = (windows.get(`${key}|${windowMs}`) ?? []).filter((x) => t - x < windowMs);
    windows.set(`${key}|${windowMs}`, list);
    if (list.length >= limit) return true;
    list.push(t);
    return false;
  };

  // --- /_sim control surface ----------------------------------------------------------------
  const reset = () => {
    replaceState(state, initialState(nowIso()));
    Object.assign(faults, DEFAULT_FAULTS);
    requests.length = 0;
    dispatcher.clear();
    windows.clear();
    persist();
  };

  const setFaults = (patch: Partial<SimFaults>): SimFaults => {
    const parsed = FaultsPatchSchema.safeParse(patch);
    if (!parsed.success) throw zodValidationError(parsed.error);
    Object.assign(faults, parsed.data);
    return { ...faults };
  };

  const seed = (raw: unknown): Record<string, unknown> => {
    const SeedSchema = z
      .object({
        emitWebhooks: z.boolean().optional(),
        taxCategories: z.array(z.record(z.string(), z.unknown())).optional(),
        customers: z.array(z.record(z.string(), z.unknown())).optional(),
        products: z.array(z.record(z.string(), z.unknown())).optional(),
        prices: z.array(z.record(z.string(), z.unknown())).optional(),
        taxRegistrations: z.array(z.record(z.string(), z.unknown())).optional(),
        invoices: z.array(z.record(z.string(), z.unknown())).optional(),
      })
      .strict();
    const parsed = SeedSchema.safeParse(raw ?? {});
    if (!parsed.success) throw zodValidationError(parsed.error);
    const body = parsed.data;
    const ids: Record<string, string[]> = { taxCategories: [], customers: [], products: [], prices: [] };
    // References like "$customers[0]" point at something created earlier in the same seed.
    const resolve = (value: unknown): unknown => {
      if (typeof value === 'string') {
        const m = /^\$(taxCategories|customers|products|prices)\[(\d+)\]$/.exec(value);
        if (m) {
          const id = ids[m[1]][Number(m[2])];
          if (id === undefined) throw badRequest(`Seed reference ${value} does not exist`);
          return id;
        }
        return value;
      }
      if (Array.isArray(value)) return value.map(resolve);
      if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
      return value;
    };
    const at = <T>(what: string, i: number, fn: () => T): T => {
      try {
        return fn();
      } catch (error) {
        if (error instanceof SimHttpError) {
          throw new SimHttpError(error.status, { ...(error.body as object), seedItem: `${what}[${i}]` });
        }
        throw error;
      }
    };
    const idOf = (item: Record<string, unknown>) => (typeof item.id === 'string' ? item.id : undefined);
    const strip = (item: Record<string, unknown>, ...keys: string[]) => Object.fromEntries(Object.entries(item).filter(([k]) => !keys.includes(k)));

    const snapshot = structuredClone(state);
    const wasMuted = muted;
    muted = !body.emitWebhooks;
    try {
      (body.taxCategories ?? []).forEach((c, i) => at('taxCategories', i, () => ids.taxCategories.push(r.taxCategories.create(resolve(strip(c, 'id')), { id: idOf(c) }).id)));
      (body.customers ?? []).forEach((c, i) => at('customers', i, () => ids.customers.push(r.customers.create(resolve(strip(c, 'id')), { id: idOf(c) }).id)));
      (body.products ?? []).forEach((p, i) => at('products', i, () => ids.products.push(r.products.create(resolve(strip(p, 'id')), { id: idOf(p) }).id)));
      (body.prices ?? []).forEach((p, i) => at('prices', i, () => ids.prices.push(r.prices.create(resolve(p)).id)));
      const taxRegistrations = (body.taxRegistrations ?? []).map((t, i) => at('taxRegistrations', i, () => r.taxRegistrations.create(resolve(t)).id));
      const invoices = (body.invoices ?? []).map((raw, i) =>
        at('invoices', i, () => {
          const inv = resolve(raw) as Record<string, unknown>;
          const { lineItems, lineItemGroups, status, linkedServices, ...header } = inv;
          const invoice = r.invoices.create(header);
          // Read-only in the API: a link another service (e.g. Sphere's own Sequence connector) made.
          if (Array.isArray(linkedServices)) state.invoices[invoice.id]!.linkedServices = linkedServices as (typeof invoice)['linkedServices'];
          const lineItemIds: string[] = [];
          const lineItemGroupIds: string[] = [];
          for (const g of (lineItemGroups as Record<string, unknown>[] | undefined) ?? []) {
            const { lineItems: groupLines, ...groupBody } = g;
            const group = r.invoices.createGroup(invoice.id, groupBody);
            lineItemGroupIds.push(group.id);
            for (const l of (groupLines as Record<string, unknown>[] | undefined) ?? []) {
              lineItemIds.push(r.invoices.createLine(invoice.id, { externalIds: [], ...l, groupId: group.id }).id);
            }
          }
          for (const l of (lineItems as Record<string, unknown>[] | undefined) ?? []) {
            lineItemIds.push(r.invoices.createLine(invoice.id, { externalIds: [], ...l }).id);
          }
          if (status === 'FINAL' || status === 'SENT' || status === 'VOIDED') r.invoices.finalize(invoice.id);
          if (status === 'SENT') r.invoices.send(invoice.id);
          if (status === 'VOIDED') r.invoices.void(invoice.id);
          if (status !== undefined && !['DRAFT', 'FINAL', 'SENT', 'VOIDED'].includes(String(status))) {
            throw validationError([{ key: 'status', message: 'status must be DRAFT, FINAL, SENT or VOIDED' }]);
          }
          return { id: invoice.id, lineItemIds, lineItemGroupIds };
        }),
      );
      return { ...ids, taxRegistrations, invoices };
    } catch (error) {
      replaceState(state, snapshot);
      throw error;
    } finally {
      muted = wasMuted;
      persist();
    }
  };

  const handleSim = async (method: string, path: string, req: http.IncomingMessage): Promise<Reply> => {
    const key = `${method} ${path.replace(/\/+$/, '')}`;
    switch (key) {
      case 'GET /_sim':
      case 'GET /_sim/health':
        return ok({ ok: true, service: 'sequence-simulator', apiVersion: SIM_API_VERSION, sequenceAccountId: state.account.id });
      case 'POST /_sim/reset':
        reset();
        return ok({ ok: true });
      case 'POST /_sim/seed':
        return created(seed(parseJson(await readBody(req))));
      case 'GET /_sim/faults':
        return ok(faults);
      case 'POST /_sim/faults':
        return ok(setFaults((parseJson(await readBody(req)) ?? {}) as Partial<SimFaults>));
      case 'GET /_sim/state':
        return ok(state);
      case 'GET /_sim/requests':
        return ok({ items: requests });
      case 'DELETE /_sim/requests':
        requests.length = 0;
        return ok({ ok: true });
      case 'GET /_sim/webhooks':
        return ok({ items: dispatcher.deliveries });
      default:
        throw new SimHttpError(404, { error: { type: 'notFound', message: `No simulator control ${key}` } });
    }
  };

  // --- the API pipeline ---------------------------------------------------------------------
  const handleApi = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> => {
    const started = Date.now();
    const method = req.method ?? 'GET';
    const path = url.pathname.slice('/api'.length) || '/';
    const versionHeader = req.headers['sequence-version'];
    const sentVersion = Array.isArray(versionHeader) ? versionHeader[0] : versionHeader;
    const entry: SimRequestLogEntry = {
      id: randomUUID(),
      method,
      path: url.pathname,
      query: url.search,
      status: 0,
      timestamp: new Date(started).toISOString(),
      durationMs: 0,
      ...(sentVersion !== undefined ? { sequenceVersion: sentVersion } : {}),
      authenticated: false,
    };
    const respond = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      entry.status = status;
      entry.durationMs = Date.now() - started;
      requests.push(entry);
      if (requests.length > MAX_LOG) requests.splice(0, requests.length - MAX_LOG);
      sendJson(res, status, body, { 'sequence-version': effectiveVersion, [REQUEST_ID_HEADER]: entry.id, ...extra });
    };
    let effectiveVersion = SIM_API_VERSION;
    try {
      const latency = Array.isArray(faults.latencyMs)
        ? faults.latencyMs[0] + Math.random() * Math.max(0, faults.latencyMs[1] - faults.latencyMs[0])
        : faults.latencyMs;
      if (latency > 0) await sleep(latency);

      // Basic auth
      const auth = req.headers.authorization ?? '';
      const m = /^Basic\s+(\S+)$/i.exec(auth);
      const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
      const sep = decoded.indexOf(':');
      const givenId = sep >= 0 ? decoded.slice(0, sep) : '';
      const givenSecret = sep >= 0 ? decoded.slice(sep + 1) : '';
      if (!m || !safeEqual(givenId, clientId) || !safeEqual(givenSecret, clientSecret)) {
        await readBody(req).catch(() => '');
        respond(401, { error: { type: 'unauthorized', message: m ? 'Invalid API credentials' : 'Missing Basic authorization header' } }, { 'www-authenticate': 'Basic realm="Sequence API"' });
        return;
      }
      entry.authenticated = true;

      // Sequence-Version: missing → the newest; unknown → 400.
      if (sentVersion !== undefined) {
        if (!KNOWN_API_VERSIONS.includes(sentVersion.trim())) {
          await readBody(req).catch(() => '');
          respond(400, { error: { type: 'UnrecognisedApiVersion', message: `Unrecognised API version "${sentVersion}". Supported versions: ${KNOWN_API_VERSIONS.join(', ')}` } });
          return;
        }
        effectiveVersion = sentVersion.trim();
      }

      // Per-key rate limits.
      if (overLimit(givenId, rateLimitPerMinute, 60_000) || overLimit(givenId, faults.rateLimitPerSecond, 1000)) {
        await readBody(req).catch(() => '');
        entry.fault = 'rate_limited';
        respond(429, TOO_MANY_REQUESTS, retryAfterHeader());
        return;
      }

      // Injected faults.
      if (faults.failNext > 0 || (faults.errorRate > 0 && Math.random() < faults.errorRate)) {
        const status = faults.failNext > 0 ? faults.statuses[0] : faults.statuses[Math.floor(Math.random() * faults.statuses.length)];
        if (faults.failNext > 0) faults.failNext -= 1;
        await readBody(req).catch(() => '');
        entry.fault = 'error';
        if (status === 429) respond(429, TOO_MANY_REQUESTS, retryAfterHeader());
        else respond(status, { error: { type: 'internalServerError', message: `Simulated failure (HTTP ${status})` } });
        return;
      }
      if (faults.malformedRate > 0 && Math.random() < faults.malformedRate) {
        await readBody(req).catch(() => '');
        entry.fault = 'malformed';
        entry.status = 200;
        entry.durationMs = Date.now() - started;
        requests.push(entry);
        const junk = '<html><body>upstream proxy says hello {"items": [</body></html>';
        res.writeHead(200, { 'content-type': 'application/json', 'sequence-version': effectiveVersion, [REQUEST_ID_HEADER]: entry.id, 'content-length': Buffer.byteLength(junk) });
        res.end(junk);
        return;
      }

      const text = method === 'GET' || method === 'DELETE' ? await readBody(req).then(() => '') : await readBody(req);
      const reply = dispatch(method, path, { query: url.searchParams, body: parseJson(text) });
      respond(reply.status ?? 200, reply.body);
    } catch (error) {
      if (error instanceof SimHttpError) {
        respond(error.status, error.body);
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      respond(500, { error: { type: 'internalServerError', message: `Simulator error: ${message}` } });
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://simulator.local');
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      void handleApi(req, res, url);
      return;
    }
    if (url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')) {
      handleSim(req.method ?? 'GET', url.pathname, req)
        .then((reply) => sendJson(res, reply.status ?? 200, reply.body))
        .catch((error: unknown) => {
          if (error instanceof SimHttpError) sendJson(res, error.status, error.body);
          else sendJson(res, 500, { error: { type: 'internalServerError', message: error instanceof Error ? error.message : String(error) } });
        });
      return;
    }
    sendJson(res, 404, { error: { type: 'notFound', message: 'The Sequence API lives under /api' } });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${hostForUrl}:${address.port}`;

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    dispatcher.stop();
    if (saveTimer) {
      clearTimeout(saveTimer);
      saveTimer = undefined;
    }
    if (options.dataFile) saveState(options.dataFile, state);
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

  return {
    url,
    apiUrl: `${url}/api`,
    clientId,
    clientSecret,
    stop,
    state,
    resources: r,
    requests,
    deliveries: dispatcher.deliveries,
    faults,
    setFaults,
    reset,
    webhooksIdle: () => dispatcher.idle(),
  };
}
