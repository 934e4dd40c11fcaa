/**
 * Sphere API client: calculate_tax + the v1 Transaction API (customers, products, transactions).
 *
 * Transport, retries (jittered backoff honouring Retry-After), timeouts and response validation
 * come from shared/http/upstream-http.ts. Rate limits [C: TXN]: v1 writes 10/s and reads 50/s per
 * API key, as two process-wide buckets keyed by a SHA-256 fingerprint of the key (never the key).
 * calculate_tax has no published limit: no bucket, but its 429s are honoured (Retry-After).
 *
 * All v1 writes are upserts by `external_id` [C], so retrying them is safe.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { type ZodType } from 'zod';
import { type SharedRateGateFactory, type TokenBucketRateLimiter, sharedRateLimiter } from '../http/rate-limiter';
import { pathSegment } from '../http/path-segment';
import { UpstreamHttp, type UpstreamRequest, type UpstreamTransportOptions } from '../http/upstream-http';
import {
  decodeCustomer,
  decodeProduct,
  decodeTransaction,
  encodeCalculateTaxRequest,
  encodeCustomer,
  encodeProduct,
  encodeTransaction,
} from './codecs';
import { SphereNotFoundError, mapSphereError } from './errors';
import { API_KEY_HEADER, REQUEST_ID_HEADER, SPHERE_PATHS, TRANSACTION_FIELDS, TRANSACTION_LINE_FIELDS, TRANSACTION_STATUSES } from './field-names';
import {
  CalculateTaxRequestWireSchema,
  CalculateTaxResponseSchema,
  CustomerRequestWireSchema,
  CustomerResponseWireSchema,
  ProductRequestWireSchema,
  ProductResponseWireSchema,
  type SphereTaxCalculation,
  TransactionRequestWireSchema,
  TransactionResponseWireSchema,
} from './schemas';
import {
  type CalculateTaxInput,
  type SphereCustomer,
  type SphereCustomerInput,
  type SphereProduct,
  type SphereProductInput,
  type SphereTransaction,
  type SphereTransactionInput,
} from './types';
import { ConnectorBugError, ConnectorError } from '../domain/errors';
import { type EchoCheckOptions, SphereFieldNotAcceptedError, assertEchoed, refusedFields } from '../domain/echo-checks';

/** Any 2xx body (including none): for answers whose shape is undocumented or checked field by field. */
const AnyBodySchema = z.unknown();

/**
 * Which fields sent must come back unchanged after each v1 write (issue 13 §2). Customers and products:
 * every field sent. Transactions: what decides the filing (type, status, customer, original
 * transaction, currency, date, line products and amounts); the address override, line ids, quantities
 * and descriptions are informational and their echo is not relied on.
 */
export const SPHERE_ECHO_CHECKED: Record<'customer' | 'product' | 'transaction', EchoCheckOptions> = {
  customer: {},
  product: {},
  transaction: {
    only: [
      TRANSACTION_FIELDS.externalId,
      TRANSACTION_FIELDS.type,
      TRANSACTION_FIELDS.status,
      TRANSACTION_FIELDS.customerId,
      TRANSACTION_FIELDS.originalTransactionId,
      TRANSACTION_FIELDS.currency,
      TRANSACTION_FIELDS.transactionDate,
      `${TRANSACTION_FIELDS.lineItems}.*.${TRANSACTION_LINE_FIELDS.productId}`,
      `${TRANSACTION_FIELDS.lineItems}.*.${TRANSACTION_LINE_FIELDS.amount}`,
    ],
    caseInsensitive: [TRANSACTION_FIELDS.currency],
  },
};

/**
 * Fields the connector sends as Sequence has them, which no merchant input can make acceptable: a 400
 * naming one is `sphere_field_not_accepted` (run `sphere-connector verify`), not the merchant's error.
 * A line quantity: usage quantities carry many decimals (assumption SPHERE-V1-LINE-QUANTITY-PRECISION).
 */
export const SPHERE_SENT_AS_IS: Record<keyof typeof SPHERE_ECHO_CHECKED, readonly string[]> = {
  customer: [],
  product: [],
  transaction: [`${TRANSACTION_FIELDS.lineItems}.*.${TRANSACTION_LINE_FIELDS.quantity}`],
};

export const DEFAULT_SPHERE_BASE_URL = 'https://server.getsphere.com';

/** Published v1 limits [C: TXN]. */
export const SPHERE_V1_WRITE_LIMIT = { limit: 10, intervalMs: 1000 } as const;
export const SPHERE_V1_READ_LIMIT = { limit: 50, intervalMs: 1000 } as const;

/**
 * The pace the write bucket keeps: 95 % of the published limit. Pacing at exactly 10/s against
 * Sphere's sliding one-second window turns any scheduling jitter (a call delayed, the next on
 * time) into an 11th call in some window, a 429 and a whole second paused (Retry-After ≥ 1 s):
 * measured, 19 × 429 and 8.2 writes/s over a 1,000-customer backfill. 9.5/s leaves 50 ms of slack
 * per window for jitter.
 */
export const SPHERE_V1_WRITE_PACE = { limit: 19, intervalMs: 2000 } as const;

/**
 * The external id `verifyKey` looks up. It is reserved: the connector never creates a customer
 * with it, so a working key always gets 404.
 */
export const KEY_CHECK_CUSTOMER_ID = '__sphere_connector_key_check__';

/** `timeoutMs` defaults to 15 s per attempt. */
export interface SphereClientOptions extends UpstreamTransportOptions {
  /** Default https://server.getsphere.com (no separate test host: test orgs use their own keys). */
  baseUrl?: string;
  apiKey: string;
  /** Override the shared per-key buckets (tests). */
  rateLimiters?: { write?: TokenBucketRateLimiter; read?: TokenBucketRateLimiter };
  /** The key's v1 budgets across processes (Lambda instances); absent: this process's buckets only. */
  sharedRateGates?: SharedRateGateFactory;
}

/** One v1 resource: where it lives, its wire schemas and its codecs. */
interface V1Resource<I extends { externalId: string }, M, W> {
  kind: 'customer' | 'product' | 'transaction';
  path: string;
  request: ZodType<Record<string, unknown>>;
  response: ZodType<W>;
  encode(input: I): unknown;
  decode(wire: W): M;
}

const v1Resource = <I extends { externalId: string }, M, W>(resource: V1Resource<I, M, W>) => resource;

const V1 = {
  customer: v1Resource({ kind: 'customer', path: SPHERE_PATHS.customers, request: CustomerRequestWireSchema, response: CustomerResponseWireSchema, encode: encodeCustomer, decode: decodeCustomer }),
  product: v1Resource({ kind: 'product', path: SPHERE_PATHS.products, request: ProductRequestWireSchema, response: ProductResponseWireSchema, encode: encodeProduct, decode: decodeProduct }),
  transaction: v1Resource({ kind: 'transaction', path: SPHERE_PATHS.transactions, request: TransactionRequestWireSchema, response: TransactionResponseWireSchema, encode: encodeTransaction, decode: decodeTransaction }),
};

/** Non-reversible fingerprint of an API key, for bucket names and logs. */
export function sphereKeyFingerprint(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

function encodeId(id: string): string {
  return pathSegment('sphere', id);
}

export class SphereClient {
  // ES private fields: the transports hold the key header, and must not show up in JSON.stringify or logs.
  readonly #calc: UpstreamHttp;
  readonly #reads: UpstreamHttp;
  readonly #writes: UpstreamHttp;
  readonly baseUrl: string;
  /** sha256 of the key; safe to log. */
  readonly keyFingerprint: string;

  constructor(options: SphereClientOptions) {
    if (!options.apiKey) throw new RangeError('SphereClient needs an API key');
    this.baseUrl = (options.baseUrl ?? DEFAULT_SPHERE_BASE_URL).replace(/\/+$/, '');
    this.keyFingerprint = sphereKeyFingerprint(options.apiKey);
    const apiKey = options.apiKey;
    const base = {
      service: 'sphere' as const,
      baseUrl: this.baseUrl,
      headers: { [API_KEY_HEADER]: apiKey },
      timeoutMs: options.timeoutMs,
      backoff: options.backoff,
      mapError: (r: Parameters<typeof mapSphereError>[0]) => mapSphereError(r, apiKey),
      fetch: options.fetch,
      sleep: options.sleep,
      random: options.random,
      onCall: options.onCall,
      requestIdHeader: REQUEST_ID_HEADER,
    };
    this.#calc = new UpstreamHttp(base);
    this.#reads = new UpstreamHttp({
      ...base,
      rateLimiter: options.rateLimiters?.read ?? sharedRateLimiter(`sphere-v1-read:${this.keyFingerprint}`, SPHERE_V1_READ_LIMIT),
      sharedRateGate: options.sharedRateGates?.(`sphere-v1-read:${this.keyFingerprint}`, SPHERE_V1_READ_LIMIT),
    });
    this.#writes = new UpstreamHttp({
      ...base,
      rateLimiter: options.rateLimiters?.write ?? sharedRateLimiter(`sphere-v1-write:${this.keyFingerprint}`, SPHERE_V1_WRITE_PACE),
      sharedRateGate: options.sharedRateGates?.(`sphere-v1-write:${this.keyFingerprint}`, SPHERE_V1_WRITE_PACE),
    });
  }

  /** What logs see: never the key. */
  toJSON(): { service: 'sphere'; baseUrl: string; keyFingerprint: string } {
    return { service: 'sphere', baseUrl: this.baseUrl, keyFingerprint: this.keyFingerprint };
  }

  /** A quote: stateless, safe to retry. Returns per-line, per-jurisdiction entries in minor units. */
  async calculateTax(input: CalculateTaxInput): Promise<SphereTaxCalculation> {
    const body = validateRequest(CalculateTaxRequestWireSchema, encodeCalculateTaxRequest(input), 'calculate_tax request');
    const result = await this.#calc.request({ method: 'POST', path: SPHERE_PATHS.calculateTax, body, schema: CalculateTaxResponseSchema });
    const sent = input.lineItems.map((l) => l.id);
    const got = result.lines.map((l) => l.id);
    if (got.length !== sent.length || got.some((id, i) => id !== sent[i])) {
      throw new ConnectorBugError('upstream_malformed_response', `Sphere returned lines [${got.join(', ')}] for request lines [${sent.join(', ')}]`, {
        upstream: { service: 'sphere', method: 'POST', path: SPHERE_PATHS.calculateTax },
      });
    }
    return result;
  }

  // ---- customers, products, transactions (v1) -------------------------------------------------

  /** Create or update by external_id [C]; every field sent must come back (sphere_field_not_accepted). */
  upsertCustomer(customer: SphereCustomerInput): Promise<SphereCustomer> {
    return this.upsert(V1.customer, customer);
  }

  /** null when Sphere has no such customer (404). */
  getCustomer(externalId: string): Promise<SphereCustomer | null> {
    return this.read(V1.customer, externalId);
  }

  upsertProduct(product: SphereProductInput): Promise<SphereProduct> {
    return this.upsert(V1.product, product);
  }

  getProduct(externalId: string): Promise<SphereProduct | null> {
    return this.read(V1.product, externalId);
  }

  /** Invoice (`debit`) or credit note (`credit` + originalTransactionId), pending or finalized; upsert by external_id. */
  createTransaction(transaction: SphereTransactionInput): Promise<SphereTransaction> {
    return this.upsert(V1.transaction, transaction);
  }

  getTransaction(externalId: string): Promise<SphereTransaction | null> {
    return this.read(V1.transaction, externalId);
  }

  private async upsert<I extends { externalId: string }, M, W>(resource: V1Resource<I, M, W>, input: I): Promise<M> {
    const body = validateRequest(resource.request, resource.encode(input), resource.kind);
    return resource.decode(await this.writeChecked(resource.kind, input.externalId, resource.path, body, resource.response));
  }

  private async read<I extends { externalId: string }, M, W>(resource: V1Resource<I, M, W>, externalId: string): Promise<M | null> {
    const wire = await this.getOrNull({ method: 'GET', path: `${resource.path}/${encodeId(externalId)}`, schema: resource.response });
    return wire === null ? null : resource.decode(wire);
  }

  /**
   * Void. Throws SphereNotFoundError when the transaction does not exist. The cancel response's shape
   * is undocumented (Sphere's only documented cancel answers `{job_id, status}`), so any 2xx body is
   * accepted and the result is read back by GET: the transaction must then be `cancelled`.
   */
  async cancelTransaction(externalId: string): Promise<SphereTransaction> {
    await this.#writes.request({ method: 'POST', path: `${SPHERE_PATHS.transactions}/${encodeId(externalId)}${SPHERE_PATHS.cancelSuffix}`, body: {}, schema: AnyBodySchema });
    const after = await this.getTransaction(externalId);
    assertEchoed('transaction', externalId, { [TRANSACTION_FIELDS.status]: TRANSACTION_STATUSES.cancelled }, after ? { [TRANSACTION_FIELDS.status]: after.status } : undefined);
    return after!;
  }

  /**
   * A v1 write (upsert): the answer is compared with what was sent before it is decoded, so a field
   * Sphere dropped or changed is `sphere_field_not_accepted` naming it, not a silently wrong record.
   */
  private async writeChecked<W>(resource: keyof typeof SPHERE_ECHO_CHECKED, externalId: string, path: string, body: Record<string, unknown>, schema: ZodType<W>): Promise<W> {
    let echoed: unknown;
    try {
      echoed = await this.#writes.request({ method: 'POST', path, body, schema: AnyBodySchema });
    } catch (error) {
      const refusal = error instanceof ConnectorError && error.upstream?.status === 400 ? error.upstream : undefined;
      const refused = refusal ? refusedFields(body, refusal.body, SPHERE_SENT_AS_IS[resource]) : [];
      if (refused.length > 0) throw new SphereFieldNotAcceptedError(resource, externalId, refused, refusal);
      throw error;
    }
    assertEchoed(resource, externalId, body, echoed, SPHERE_ECHO_CHECKED[resource]);
    const parsed = schema.safeParse(echoed);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new ConnectorBugError('upstream_malformed_response', `sphere answered POST ${path} with an unexpected body (${issues.join('; ')})`, {
        upstream: { service: 'sphere', method: 'POST', path },
      });
    }
    return parsed.data;
  }

  // ---- key check ---------------------------------------------------------------------------

  /**
   * Proves the key works without changing anything: `GET /v1/customers/<reserved id>`. That is an
   * authenticated read (50/s budget) on the API the connector needs most. A 404 (or, should the
   * id ever exist, a 200) means the key was accepted; 401/403 throw UserActionRequiredError
   * `sphere_credentials_rejected` (403 = a key not provisioned for the Transaction API [C]);
   * 5xx/timeouts throw retryable errors. calculate_tax is not used: with a valid key it would
   * need a real product and address to succeed.
   */
  async verifyKey(): Promise<{ ok: true }> {
    await this.getOrNull({ method: 'GET', path: `${SPHERE_PATHS.customers}/${encodeId(KEY_CHECK_CUSTOMER_ID)}`, schema: CustomerResponseWireSchema });
    return { ok: true };
  }

  private async getOrNull<T>(req: UpstreamRequest<T>): Promise<T | null> {
    try {
      return await this.#reads.request(req);
    } catch (error) {
      if (error instanceof SphereNotFoundError) return null;
      throw error;
    }
  }
}

/** Our own request bodies are checked before sending: a failure is a connector bug, not Sphere's. */
function validateRequest<T>(schema: ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConnectorBugError('sphere_invalid_request', `The connector built an invalid Sphere ${what} (${issues.join('; ')})`);
  }
  return parsed.data;
}
