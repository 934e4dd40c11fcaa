/**
 * Sphere sandbox simulator (architecture §5.3): node:http only.
 *
 * API surface (as ../../shared/reference/sphere-api.md documents Sphere; uncertain v1 names from
 * shared/sphere/field-names.ts):
 *   POST /tax_api/calculate_tax
 *   POST /v1/customers · GET /v1/customers/{external_id}
 *   POST /v1/products · GET /v1/products/{external_id}
 *   POST /v1/transactions · GET /v1/transactions/{external_id} · POST /v1/transactions/{external_id}/cancel
 * Auth: `X-API-KEY`; 401 `{"type":"api_error","code":"unauthorized_access",...}` on calculate_tax,
 * `{"detail":"Invalid API key."}` on v1. v1 limits per key: writes 10/s, reads 50/s (sliding 1 s
 * window) → 429 + Retry-After + RateLimit-Limit/RateLimit-Remaining + `{"error":{...}}`.
 * All API keys given share one organisation.
 *
 * Control surface (no auth; never part of the real API):
 *   POST /_sim/reset · POST /_sim/seed · POST /_sim/faults · GET /_sim/state · GET /_sim/requests
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { z } from 'zod';
import { isCurrencyCode, currencyExponent } from '../../shared/domain/currency';
import { Decimal } from '../../shared/domain/decimal';
import { decimalToMinorUnits } from '../../shared/domain/money';
import {
  CUSTOMER_FIELDS as C,
  PRODUCT_FIELDS as P,
  REQUEST_ID_HEADER,
  SPHERE_PATHS,
  TAX_ID_FIELDS as T,
  TRANSACTION_FIELDS as X,
  TRANSACTION_LINE_FIELDS as L,
  TRANSACTION_STATUSES,
  TRANSACTION_TYPES,
} from '../../shared/sphere/field-names';
import {
  type AddressWire,
  CalculateTaxRequestWireSchema,
  CustomerRequestWireSchema,
  ProductRequestWireSchema,
  type TransactionRequestWire,
  TransactionRequestWireSchema,
  type TransactionResponseWire,
} from '../../shared/sphere/schemas';
import { type SimFaults, SphereSimState } from './state';
import { calculate, type EngineContext } from './tax-engine';

export interface SphereSimulatorOptions {
  /** 0 = a free port (default). */
  port?: number;
  host?: string;
  apiKeys?: string[];
  writeLimitPerSecond?: number;
  readLimitPerSecond?: number;
  /** JSON persistence of customers, products, transactions, registrations. */
  dataFile?: string;
  now?: () => number;
  random?: () => number;
}

export interface SphereSimulator {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Direct access for tests. */
  state: SphereSimState;
}

export const DEFAULT_SPHERE_SIM_API_KEY = 'sph_test_local';
const MAX_BODY_BYTES = 5 * 1024 * 1024;

type Surface = 'calc' | 'v1';

class HttpReply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
    /** Sent verbatim instead of JSON-encoding `body` (the malformed-body fault). */
    readonly rawText?: string,
  ) {}
}

const reply = (status: number, body: unknown, headers?: Record<string, string>): HttpReply => new HttpReply(status, body, headers);

/** `error.request_id` of a v1 error body, if there is one. */
function requestIdInBody(body: unknown): string | undefined {
  const error = body !== null && typeof body === 'object' ? (body as { error?: unknown }).error : undefined;
  const id = error !== null && typeof error === 'object' ? (error as { request_id?: unknown }).request_id : undefined;
  return typeof id === 'string' ? id : undefined;
}
const notFound = (): HttpReply => reply(404, { detail: 'Not found.' });
const apiError = (status: number, code: string, message: string): HttpReply => reply(status, { type: 'api_error', code, message });

/** zod issues → DRF-style `{"field.0.sub": ["msg"]}`; root issues under `body`. */
function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
    (out[key] ??= []).push(issue.message);
  }
  return out;
}

function v1Money(minor: number, currency: string): string {
  // v1 responses are two-decimal strings [C]; JPY-style currencies still get ".00".
  const exp = isCurrencyCode(currency.toUpperCase()) ? currencyExponent(currency.toUpperCase() as Parameters<typeof currencyExponent>[0]) : 2;
  return new Decimal(minor).dividedBy(new Decimal(10).pow(exp)).toFixed(2);
}

const SeedSchema = z.object({
  customers: z.array(CustomerRequestWireSchema).optional(),
  products: z.array(ProductRequestWireSchema).optional(),
  registrations: z.array(z.string().min(2)).optional(),
  replaceRegistrations: z.boolean().optional(),
  removeRegistrations: z.array(z.string()).optional(),
  taxCodes: z.array(z.object({ code: z.string().min(1), name: z.string().default(''), taxable: z.boolean().default(true) })).optional(),
  establishment: z.object({ euCountry: z.string().length(2).optional(), uk: z.boolean().optional() }).optional(),
});

/** A patch of the current faults: only the keys given change (`rateLimitPerSecond: null` removes the override). */
const FaultsSchema = z
  .object({
    errorRate: z.number().min(0).max(1).optional(),
    statuses: z.array(z.number().int().min(400).max(599)).min(1).optional(),
    latencyMs: z.union([z.number().min(0), z.tuple([z.number().min(0), z.number().min(0)])]).optional(),
    rateLimitPerSecond: z.number().positive().nullish(),
    failNext: z.number().int().min(0).optional(),
    responseShape: z.enum(['wrapped', 'legacy']).optional(),
    malformedRate: z.number().min(0).max(1).optional(),
    malformedBody: z.enum(['not_json', 'wrong_shape']).optional(),
    ignoreExemption: z.boolean().optional(),
    dropFields: z.array(z.string().min(1)).optional(),
    creditRequiresOriginal: z.boolean().optional(),
    lineQuantityDecimals: z.object({ places: z.number().int().min(0), beyond: z.enum(['reject', 'round']) }).nullish(),
    // Part of the fault body architecture §5.3 names for both simulators; Sphere sends no webhooks,
    // so they are accepted (one body fits both) and have no effect here.
    duplicateWebhooks: z.boolean().optional(),
    reorderWebhooks: z.boolean().optional(),
  })
  .strict();

/** Like fieldErrors, but an unknown key is reported under its own name, so a typo says which fault. */
function faultErrors(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) (out[key] ??= []).push(`Unknown fault "${key}". Known: ${Object.keys(FaultsSchema.shape).join(', ')}.`);
    } else {
      const key = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
      (out[key] ??= []).push(issue.message);
    }
  }
  return out;
}

/** A proxy's error page where JSON was expected (served as application/json, as such proxies do). */
const NOT_JSON = '<html><body><h1>502 Bad Gateway</h1> upstream said {"lines": [</body></html>';

export async function startSphereSimulator(options: SphereSimulatorOptions = {}): Promise<SphereSimulator> {
  const apiKeys = options.apiKeys ?? [DEFAULT_SPHERE_SIM_API_KEY];
  const writeLimit = options.writeLimitPerSecond ?? 10;
  const readLimit = options.readLimitPerSecond ?? 50;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const state = new SphereSimState(options.dataFile);
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const isoNow = (): string => new Date(now()).toISOString();

  // ---- rate limiting ------------------------------------------------------------------------

  function rateLimit(keyIndex: number, kind: 'read' | 'write'): HttpReply | Record<string, string> {
    const limit = kind === 'read' ? readLimit : (state.faults.rateLimitPerSecond ?? writeLimit);
    const id = `${keyIndex}|${kind}`;
    const t = now();
    const window = (state.windows.get(id) ?? []).filter((ts) => ts > t - 1000);
    state.windows.set(id, window);
    if (window.length >= limit) {
      const retryAfter = Math.max(1, Math.ceil((window[0]! + 1000 - t) / 1000));
      return reply(
        429,
        {
          error: {
            code: 'rate_limit_exceeded',
            message: `Rate limit exceeded: ${limit} ${kind} requests per second per API key.`,
            retryable: true,
            retry_after_seconds: retryAfter,
            request_id: `req_${randomUUID().replace(/-/g, '')}`,
          },
        },
        { 'Retry-After': String(retryAfter), 'RateLimit-Limit': String(limit), 'RateLimit-Remaining': '0' },
      );
    }
    window.push(t);
    return { 'RateLimit-Limit': String(limit), 'RateLimit-Remaining': String(Math.max(0, limit - window.length)) };
  }

  function faultReply(surface: Surface, status: number): HttpReply {
    if (status === 429) {
      if (surface === 'calc') return reply(429, { type: 'api_error', code: 'too_many_requests', message: 'Too many requests.' }, { 'Retry-After': '1' });
      return reply(
        429,
        { error: { code: 'rate_limit_exceeded', message: 'Rate limit exceeded.', retryable: true, retry_after_seconds: 1, request_id: `req_${randomUUID().replace(/-/g, '')}` } },
        { 'Retry-After': '1' },
      );
    }
    if (surface === 'calc') return apiError(status, status >= 500 ? 'internal_server_error' : 'simulated_error', `Simulated HTTP ${status}.`);
    return reply(status, { detail: `Simulated HTTP ${status}.` });
  }

  function malformedReply(surface: Surface, headers: Record<string, string>): HttpReply {
    if (state.faults.malformedBody === 'not_json') return new HttpReply(200, undefined, headers, NOT_JSON);
    // Valid JSON, wrong shape: calculate_tax amounts as v1-style decimal strings; a v1 record whose id is a number.
    const body =
      surface === 'calc'
        ? { message: 'Tax calculated successfully', data: { lines: [{ id: 'line_1', tax_amounts: [{ amount: '6.00', taxable_amount: '100.00' }] }], sphere_tax_calculation_id: randomUUID() } }
        : { [C.externalId]: 42 };
    return new HttpReply(200, body, headers);
  }

  // ---- handlers -----------------------------------------------------------------------------

  function engineContext(): EngineContext {
    return {
      product: (id) => {
        const p = state.products.get(id);
        return p ? { taxCode: p[P.taxCode] ?? null } : undefined;
      },
      customer: (id) => {
        const c = state.customers.get(id);
        if (!c) return undefined;
        if (state.faults.ignoreExemption) return { exemption: null, taxIds: [] };
        const exemption = c[C.exemptionStatus];
        return { exemption: exemption === null || exemption === undefined ? null : String(exemption), taxIds: (c[C.taxIds] ?? []).flatMap((t) => {
          const value = t[T.value];
          return value ? [value] : [];
        }) };
      },
      registrations: state.registrations,
      taxCodes: state.taxCodes,
      establishment: state.establishment,
    };
  }

  function calculateTax(body: unknown): HttpReply {
    const parsed = CalculateTaxRequestWireSchema.safeParse(body);
    if (!parsed.success) {
      const list = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`);
      return apiError(400, 'validation_errors', `Invalid request: ${list.join('; ')}`);
    }
    const request = state.faults.ignoreExemption ? { ...parsed.data, tax_exempt: undefined, tax_id: undefined } : parsed.data;
    const result = calculate(request, engineContext());
    if (!result.ok) return apiError(400, result.error.code, result.error.message);
    const data = { lines: result.lines, sphere_tax_calculation_id: randomUUID() };
    return reply(200, state.faults.responseShape === 'legacy' ? data : { message: 'Tax calculated successfully', data });
  }

  /** The `dropFields` fault: what a DRF API does with a field it does not know (ignores it, answers 200). */
  function withoutDroppedFields<T extends object>(body: T): T {
    const drop = state.faults.dropFields;
    if (drop.length === 0) return body;
    const out = { ...body } as Record<string, unknown>;
    const linePrefix = `${X.lineItems}.`;
    for (const field of drop) {
      if (field.startsWith(linePrefix) && Array.isArray(out[X.lineItems])) {
        const name = field.slice(linePrefix.length);
        out[X.lineItems] = (out[X.lineItems] as Record<string, unknown>[]).map(({ [name]: _dropped, ...line }) => line);
      } else {
        delete out[field];
      }
    }
    return out as T;
  }

  /**
   * A v1 upsert by external_id: the record as sent (less any dropped fields), created_at kept from
   * the record it replaces and updated_at now. `refuse` answers 400 with field errors first.
   */
  function upsertRecord<W extends Record<string, unknown>>(
    schema: z.ZodType<W>,
    table: Map<string, Record<string, unknown>>,
    body: unknown,
    refuse: (record: W) => Record<string, string[]> | undefined = () => undefined,
  ): HttpReply {
    const parsed = schema.safeParse(body);
    if (!parsed.success) return reply(400, fieldErrors(parsed.error));
    const sent = withoutDroppedFields(parsed.data);
    const refused = refuse(sent);
    if (refused) return reply(400, refused);
    const id = String(sent[C.externalId]);
    const t = isoNow();
    const record = { ...sent, [C.createdAt]: table.get(id)?.[C.createdAt] ?? t, [C.updatedAt]: t };
    table.set(id, record);
    state.save();
    return reply(200, record);
  }

  const upsertCustomer = (body: unknown) => upsertRecord(CustomerRequestWireSchema, state.customers, body);

  const upsertProduct = (body: unknown) =>
    upsertRecord(ProductRequestWireSchema, state.products, body, (product) => {
      const code = product[P.taxCode];
      return code && !state.taxCodes.has(code) ? { [P.taxCode]: [`Unknown product tax code '${code}'.`] } : undefined;
    });

  function customerAddress(req: TransactionRequestWire): AddressWire | undefined {
    const explicit = req[X.customerAddress];
    if (explicit) return explicit;
    const c = state.customers.get(req[X.customerId]);
    return c?.[C.billingAddress] ?? c?.[C.shippingAddress] ?? undefined;
  }

  function createTransaction(body: unknown): HttpReply {
    const parsed = TransactionRequestWireSchema.safeParse(body);
    if (!parsed.success) return reply(400, fieldErrors(parsed.error));
    const req = withoutDroppedFields(parsed.data);
    const id = req[X.externalId];
    const currency = req[X.currency].toLowerCase();
    const errors: Record<string, string[]> = {};
    if (!isCurrencyCode(currency.toUpperCase())) errors[X.currency] = [`Unsupported currency '${req[X.currency]}'.`];
    if (!state.customers.has(req[X.customerId])) errors[X.customerId] = [`No customer with external_id '${req[X.customerId]}'.`];
    const original = req[X.originalTransactionId];
    if (req[X.type] === TRANSACTION_TYPES.credit) {
      // A credit without an original is a standalone credit (a credit note created from scratch).
      if (!original) {
        if (state.faults.creditRequiresOriginal) errors[X.originalTransactionId] = ['This field is required for credit transactions.'];
      } else if (!state.transactions.has(original)) errors[X.originalTransactionId] = [`No transaction with external_id '${original}'.`];
      else if (state.transactions.get(original)!.wire[X.type] !== TRANSACTION_TYPES.debit) errors[X.originalTransactionId] = [`Transaction '${original}' is not a debit.`];
    } else if (original) {
      errors[X.originalTransactionId] = ['Only credit transactions may reference an original transaction.'];
    }
    const quantityDecimals = state.faults.lineQuantityDecimals;
    req[X.lineItems].forEach((line, i) => {
      if (!state.products.has(line[L.productId])) errors[`${X.lineItems}.${i}.${L.productId}`] = [`No product with external_id '${line[L.productId]}'.`];
      const quantity = line[L.quantity];
      if (quantityDecimals && quantity && new Decimal(quantity).decimalPlaces() > quantityDecimals.places) {
        if (quantityDecimals.beyond === 'reject') errors[`${X.lineItems}.${i}.${L.quantity}`] = [`Ensure that there are no more than ${quantityDecimals.places} decimal places.`];
        else line[L.quantity] = new Decimal(quantity).toFixed(quantityDecimals.places);
      }
    });
    const existing = state.transactions.get(id);
    if (existing) {
      const status = existing.wire[X.status];
      if (status === TRANSACTION_STATUSES.cancelled) errors[X.status] = [`Transaction '${id}' is cancelled and cannot be modified.`];
      else if (status === TRANSACTION_STATUSES.finalized) {
        if (JSON.stringify(existing.request) === JSON.stringify(req)) return reply(200, existing.wire); // identical retry
        errors[X.status] = [`Transaction '${id}' is finalized and cannot be modified.`];
      }
    }
    if (Object.keys(errors).length > 0) return reply(400, errors);

    const upper = currency.toUpperCase() as Parameters<typeof decimalToMinorUnits>[1];
    let minorLines: { amount: number; discount: number }[];
    try {
      minorLines = req[X.lineItems].map((l) => ({
        amount: decimalToMinorUnits(l[L.amount], upper),
        discount: (() => {
          const d = l[L.discountAmount];
          return d ? decimalToMinorUnits(d, upper) : 0;
        })(),
      }));
    } catch (error) {
      return reply(400, { [`${X.lineItems}`]: [error instanceof Error ? error.message : String(error)] });
    }
    const finalized = req[X.status] === TRANSACTION_STATUSES.finalized;
    let lineTax: number[] | undefined;
    if (finalized) {
      const result = calculate(
        {
          currency,
          customer_id: req[X.customerId],
          customer_address: customerAddress(req) ?? {},
          line_items: req[X.lineItems].map((l, i) => ({ id: l[L.id] ?? `line_${i}`, product_id: l[L.productId], amount: minorLines[i]!.amount, discount_amount: minorLines[i]!.discount })),
        },
        engineContext(),
      );
      if (!result.ok) {
        const key = result.error.code === 'customer_tax_location_invalid' ? X.customerId : X.lineItems;
        return reply(400, { [key]: [result.error.message] });
      }
      lineTax = result.lines.map((l) => l.tax_amounts.reduce((s, e) => s + e.amount, 0));
    }
    const subtotal = minorLines.reduce((s, l) => s + l.amount - l.discount, 0);
    const tax = lineTax?.reduce((s, v) => s + v, 0);
    const t = isoNow();
    const wire: TransactionResponseWire = {
      [X.externalId]: id,
      [X.type]: req[X.type],
      [X.status]: req[X.status],
      [X.customerId]: req[X.customerId],
      [X.originalTransactionId]: original ?? null,
      [X.currency]: currency,
      [X.transactionDate]: req[X.transactionDate] ?? null,
      [X.lineItems]: req[X.lineItems].map((l, i) => ({
        ...l,
        [L.amount]: v1Money(minorLines[i]!.amount, currency),
        ...(l[L.discountAmount] ? { [L.discountAmount]: v1Money(minorLines[i]!.discount, currency) } : {}),
        [L.tax]: lineTax ? v1Money(lineTax[i]!, currency) : null,
      })),
      [X.subtotal]: v1Money(subtotal, currency),
      [X.tax]: tax === undefined ? null : v1Money(tax, currency),
      [X.total]: tax === undefined ? null : v1Money(subtotal + tax, currency),
      [X.createdAt]: existing?.wire[X.createdAt] ?? t,
      [X.finalizedAt]: finalized ? t : null,
      [X.cancelledAt]: null,
    };
    state.transactions.set(id, { wire, request: req });
    state.save();
    return reply(200, wire);
  }

  function cancelTransaction(id: string): HttpReply {
    const existing = state.transactions.get(id);
    if (!existing) return notFound();
    if (existing.wire[X.status] !== TRANSACTION_STATUSES.cancelled) {
      existing.wire = { ...existing.wire, [X.status]: TRANSACTION_STATUSES.cancelled, [X.cancelledAt]: isoNow() };
      state.save();
    }
    return reply(200, existing.wire);
  }

  function getRecord(map: Map<string, unknown>, id: string): HttpReply {
    const record = map.get(id);
    return record === undefined ? notFound() : reply(200, record);
  }

  // ---- routing ------------------------------------------------------------------------------

  function route(method: string, path: string, body: unknown): HttpReply {
    if (path === SPHERE_PATHS.calculateTax) return method === 'POST' ? calculateTax(body) : methodNotAllowed(method);
    const collections: Record<string, { post: (b: unknown) => HttpReply; map: () => Map<string, unknown> }> = {
      [SPHERE_PATHS.customers]: { post: upsertCustomer, map: () => state.customers },
      [SPHERE_PATHS.products]: { post: upsertProduct, map: () => state.products },
      [SPHERE_PATHS.transactions]: { post: createTransaction, map: () => new Map([...state.transactions].map(([k, v]) => [k, v.wire])) },
    };
    const trimmed = path.replace(/\/+$/, '');
    const collection = collections[trimmed];
    if (collection) return method === 'POST' ? collection.post(body) : methodNotAllowed(method); // no list endpoints in v1 [C]
    const cancel = trimmed.match(/^\/v1\/transactions\/([^/]+)\/cancel$/);
    if (cancel) return method === 'POST' ? cancelTransaction(decodeURIComponent(cancel[1]!)) : methodNotAllowed(method);
    const item = trimmed.match(/^(\/v1\/(?:customers|products|transactions))\/([^/]+)$/);
    if (item && collections[item[1]!]) {
      return method === 'GET' ? getRecord(collections[item[1]!]!.map(), decodeURIComponent(item[2]!)) : methodNotAllowed(method);
    }
    return notFound();
  }

  function methodNotAllowed(method: string): HttpReply {
    return reply(405, { detail: `Method "${method}" not allowed.` });
  }

  function control(method: string, path: string, body: unknown): HttpReply {
    if (method === 'POST' && path === '/_sim/reset') {
      state.reset();
      return reply(200, { ok: true });
    }
    if (method === 'POST' && path === '/_sim/seed') {
      const parsed = SeedSchema.safeParse(body ?? {});
      if (!parsed.success) return reply(400, fieldErrors(parsed.error));
      const seed = parsed.data;
      if (seed.taxCodes) state.addTaxCodes(seed.taxCodes);
      for (const p of seed.products ?? []) {
        const code = p[P.taxCode];
        if (code && !state.taxCodes.has(code)) return reply(400, { [P.taxCode]: [`Unknown product tax code '${code}'.`] });
      }
      const t = isoNow();
      for (const c of seed.customers ?? []) state.customers.set(c[C.externalId], { ...c, [C.createdAt]: t, [C.updatedAt]: t });
      for (const p of seed.products ?? []) state.products.set(p[P.externalId], { ...p, [P.createdAt]: t, [P.updatedAt]: t });
      if (seed.replaceRegistrations) state.registrations = new Set();
      for (const r of seed.registrations ?? []) state.registrations.add(r.toUpperCase());
      for (const r of seed.removeRegistrations ?? []) state.registrations.delete(r.toUpperCase());
      if (seed.establishment) state.establishment = { ...seed.establishment, ...(seed.establishment.euCountry ? { euCountry: seed.establishment.euCountry.toUpperCase() } : {}) };
      state.save();
      return reply(200, state.snapshot());
    }
    if (method === 'POST' && path === '/_sim/faults') {
      // Merged into the current faults, as the Sequence simulator does; POST /_sim/reset restores the defaults.
      const parsed = FaultsSchema.safeParse(body ?? {});
      if (!parsed.success) return reply(400, faultErrors(parsed.error));
      const { rateLimitPerSecond, ...patch } = parsed.data;
      const faults: SimFaults = { ...state.faults, ...(Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<SimFaults>) };
      if (rateLimitPerSecond === null) delete faults.rateLimitPerSecond;
      else if (rateLimitPerSecond !== undefined) faults.rateLimitPerSecond = rateLimitPerSecond;
      state.faults = faults;
      state.windows.clear();
      return reply(200, { faults });
    }
    if (method === 'GET' && path === '/_sim/state') return reply(200, state.snapshot());
    if (method === 'GET' && path === '/_sim/requests') return reply(200, { requests: state.requests });
    if (method === 'DELETE' && path === '/_sim/requests') {
      state.requests = [];
      return reply(200, { ok: true });
    }
    return notFound();
  }

  // The latency fault is what a call costs in total, as a real API's latency includes its own work:
  // the answer is computed at once and sent no sooner than `latency` after the request arrived, so
  // the simulator's CPU is not counted as the caller's (the latency bench measures depth).
  async function api(req: IncomingMessage, method: string, path: string, rawBody: string, keyIndex: number): Promise<HttpReply> {
    const arrived = Date.now();
    const f = state.faults;
    const latency = Array.isArray(f.latencyMs) ? f.latencyMs[0] + random() * Math.max(0, f.latencyMs[1] - f.latencyMs[0]) : f.latencyMs;
    const answer = apiAnswer(req, method, path, rawBody, keyIndex);
    const wait = arrived + latency - Date.now();
    if (wait > 0) await sleep(wait);
    return answer;
  }

  function apiAnswer(req: IncomingMessage, method: string, path: string, rawBody: string, keyIndex: number): HttpReply {
    const surface: Surface = path.startsWith('/tax_api/') ? 'calc' : 'v1';
    const f = state.faults;

    if (keyIndex < 0) {
      const missing = req.headers['x-api-key'] === undefined;
      const message = missing ? 'API key is missing.' : 'Invalid API key.';
      return surface === 'calc' ? apiError(401, 'unauthorized_access', message) : reply(401, { detail: message });
    }

    let rateHeaders: Record<string, string> = {};
    if (surface === 'v1') {
      const limited = rateLimit(keyIndex, method === 'GET' ? 'read' : 'write');
      if (limited instanceof HttpReply) return limited;
      rateHeaders = limited;
    }

    if (f.failNext > 0 || (f.errorRate > 0 && random() < f.errorRate)) {
      if (f.failNext > 0) f.failNext -= 1;
      const status = f.statuses[Math.floor(random() * f.statuses.length)] ?? 500;
      return faultReply(surface, status);
    }
    if (f.malformedRate > 0 && random() < f.malformedRate) return malformedReply(surface, rateHeaders);

    let body: unknown;
    if (rawBody.trim() !== '') {
      try {
        body = JSON.parse(rawBody);
      } catch {
        return surface === 'calc' ? apiError(400, 'validation_errors', 'Request body is not valid JSON.') : reply(400, { body: ['Request body is not valid JSON.'] });
      }
    }
    const result = route(method, path, body);
    return new HttpReply(result.status, result.body, { ...rateHeaders, ...result.headers });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = now();
    const method = (req.method ?? 'GET').toUpperCase();
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    let result: HttpReply;
    let keyIndex = -1;
    try {
      const rawBody = await readBody(req);
      if (rawBody === null) {
        result = reply(413, { detail: 'Request body too large.' });
      } else if (path.startsWith('/_sim/')) {
        let body: unknown;
        try {
          body = rawBody.trim() === '' ? undefined : JSON.parse(rawBody);
        } catch {
          body = Symbol('invalid');
        }
        result = typeof body === 'symbol' ? reply(400, { detail: 'Body is not valid JSON.' }) : control(method, path, body);
      } else {
        const header = req.headers['x-api-key'];
        const key = Array.isArray(header) ? header[0] : header;
        keyIndex = key === undefined ? -1 : apiKeys.indexOf(key);
        result = await api(req, method, path, rawBody, keyIndex);
      }
    } catch (error) {
      result = reply(500, { detail: `Simulator error: ${error instanceof Error ? error.message : String(error)}` });
    }
    const text = result.rawText ?? JSON.stringify(result.body);
    // Every API answer names its request id in a header; a v1 429 body already carries one, and the
    // header repeats it, so both places agree.
    const requestId = path.startsWith('/_sim/') ? undefined : (requestIdInBody(result.body) ?? `req_${randomUUID().replace(/-/g, '')}`);
    res.writeHead(result.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...(requestId ? { [REQUEST_ID_HEADER]: requestId } : {}),
      ...result.headers,
    });
    res.end(text);
    if (requestId) {
      state.logRequest({ method, path, status: result.status, time: new Date(started).toISOString(), durationMs: now() - started, keyIndex, requestId });
    }
  }

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    port: address.port,
    state,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
