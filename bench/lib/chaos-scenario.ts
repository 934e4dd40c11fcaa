/**
 * The chaos scenario (issue 7), shared by `npm run chaos` (bench/chaos.ts, full sizes) and the
 * reduced run in npm test (test/integration/chaos/). It runs the WHOLE connector as `npm start`
 * does (local/wiring.ts routes and queue bindings on the local runtime, both simulators), connects
 * through the admin API, and drives a merchant's month through Sequence while Sphere fails:
 *
 *  1. seed Sequence (customers, products, prices, tax categories, VAT registrations; bench/lib/chaos-data.ts)
 *  2. POST /connections (the simulators' credentials; the policy points at the front door)
 *  3. faults on: Sphere 5xx + 429 (+ Retry-After) + latency; Sequence webhooks duplicated and reordered
 *  4. the backfill runs; then some customers are created / renamed live (CUSTOMER_* webhooks)
 *  5. DRAFT invoices with line items are created in Sequence (INVOICE_* webhooks → tax)
 *  6. some invoices are finalised through the admin finalize route, some in Sequence directly
 *  7. voids (of finalised invoices and of drafts) and credit notes (created, lined, finalised)
 *  8. faults off, POST /failures/retry {all: true}, drain
 *  9. verify every invariant against both simulators' state and the admin API
 *
 * Merchant actions in Sequence go through the simulator's resources in-process (the same code its
 * HTTP API runs, firing the same webhooks): they are the merchant's UI, not the connector's API key,
 * so they must not use up the key's rate limit the connector is paced by.
 *
 * Queue visibility timeouts are scaled down (options.visibilityTimeoutSeconds) so a failed message
 * is retried in seconds, not the stack's minutes; everything else is wiring.ts as is.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type LocalRuntime, type QueueBinding } from '../../local/runtime';
import { type SequenceSimulator } from '../../local/sequence-sim/server';
import { type SphereSimulator } from '../../local/sphere-sim/server';
import { startStack } from '../../local/stack';
import { type AdminAnswer, type AdminClient } from '../../cli/client';
import { calculate, DEFAULT_ESTABLISHMENT, DEFAULT_REGISTRATIONS, defaultTaxCodes, type EngineContext } from '../../local/sphere-sim/tax-engine';
import { type CurrencyCode } from '../../shared/domain/currency';
import { Decimal } from '../../shared/domain/decimal';
import { decimalToMinorUnits } from '../../shared/domain/money';
import { ADDRESS_FIELDS as A, CUSTOMER_FIELDS as C, PRODUCT_FIELDS as P, TAX_ID_FIELDS as T, TRANSACTION_FIELDS as X } from '../../shared/sphere/field-names';
import {
  CATEGORY_IDS,
  type ChaosData,
  type ChaosSizes,
  type CustomerSpec,
  EXTRA_CATEGORY_IDS,
  type ExpectedFailure,
  type InvoiceSpec,
  TAX_CODE_MAPPING,
  UNKNOWN_SPHERE_TAX_CODE,
  generateChaosData,
  taxCodeFor,
} from './chaos-data';
import { type LogCapture, secretHits } from './chaos-log-capture';
import { eventually, GiveUp } from '../../test/support/eventually';

export interface ChaosFaults {
  /** Share of Sphere API calls answered 500/502/503. */
  sphere5xxRate: number;
  /** Share of Sphere API calls answered 429 with Retry-After: 1. */
  sphere429Rate: number;
  sphereLatencyMs: [number, number];
  duplicateWebhooks: boolean;
  reorderWebhooks: boolean;
  reorderWindowMs: number;
}

export const ISSUE_FAULTS: ChaosFaults = {
  sphere5xxRate: 0.2,
  sphere429Rate: 0.1,
  sphereLatencyMs: [0, 200],
  duplicateWebhooks: true,
  reorderWebhooks: true,
  reorderWindowMs: 150,
};

export interface ChaosOptions {
  sizes: ChaosSizes;
  seed?: number;
  faults?: ChaosFaults;
  /** Queue visibility timeout (s) = retry delay of a failed message (default 30). */
  visibilityTimeoutSeconds?: number;
  /** Longest wait for the queues to drain in one settle (default 15 min). */
  settleTimeoutMs?: number;
  /** Where the run's log output is being captured (scanned for secrets at the end). */
  capture: LogCapture;
  progress?: (line: string) => void;
}

export interface Problem {
  check: string;
  detail: string;
}

export interface ChaosCounts {
  customers: number;
  products: number;
  invoices: number;
  drafts: number;
  finalised: number;
  voided: number;
  creditNotes: number;
  sphereCustomers: number;
  sphereProducts: number;
  sphereTransactions: number;
  cancelled: number;
  failures: Record<string, number>;
  expectedFailures: number;
  unexpectedFailures: number;
  missingFailures: number;
  dlqMessages: number;
  secretHits: number;
  taxMismatches: number;
  duplicates: number;
  webhooksDelivered: number;
  webhookDuplicatesSent: number;
  sphereCalls: number;
  /** Calls the connector made to the Sequence API, by method and path shape. */
  sequenceCalls: Record<string, number>;
  sphereFaultsInjected: Record<string, number>;
  logLines: number;
}

export interface ChaosResult {
  sizes: ChaosSizes;
  seed: number;
  faults: ChaosFaults;
  durationsMs: Record<string, number>;
  counts: ChaosCounts;
  problems: Problem[];
  passed: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function weightedStatuses(f: ChaosFaults): number[] {
  const total = f.sphere5xxRate + f.sphere429Rate;
  if (total === 0) return [500];
  const n5 = Math.round((30 * f.sphere5xxRate) / total);
  return Array.from({ length: 30 }, (_, i) => (i < n5 ? [500, 502, 503][i % 3]! : 429));
}

async function simCall<T = Record<string, unknown>>(baseUrl: string, method: string, simPath: string, body?: unknown): Promise<T> {
  const response = await fetch(`${baseUrl}${simPath}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${simPath} → ${response.status}: ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** Mutable state of one run, threaded through the phases. */
interface Run {
  data: ChaosData;
  options: ChaosOptions;
  faults: ChaosFaults;
  runtime: LocalRuntime;
  /** The operator CLI's client (local/stack.ts), answering errors too. */
  admin: AdminClient;
  sequence: SequenceSimulator;
  sphere: SphereSimulator;
  secrets: { clientId: string; clientSecret: string; sphereKey: string };
  connectionId: string;
  customerIds: string[];
  productIds: string[];
  priceIds: string[];
  invoiceIds: string[];
  creditNotes: { invoiceIndex: number; id: string }[];
  renamed: Map<string, string>;
  problems: Problem[];
  durations: Record<string, number>;
  progress: (line: string) => void;
}

/** An admin call that a client would retry on 503 (Retry-After) — the connector's documented contract. */
async function adminRetrying<T>(run: Run, method: string, adminPath: string, body?: unknown, attempts = 12): Promise<AdminAnswer<T>> {
  for (let i = 1; ; i++) {
    const reply = await run.admin.call<T>(method, adminPath, body);
    if (reply.status !== 503 || i >= attempts) return reply;
    const after = Number(reply.headers.get('retry-after') ?? '1');
    await sleep(Math.min(5, Number.isFinite(after) && after > 0 ? after : 1) * 1000);
  }
}

async function timed<T>(run: Run, phase: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  run.progress(`▶ ${phase}`);
  // Long phases print what the workers have done so far, every 30 s.
  const ticker = setInterval(() => {
    const done = run.runtime.pollers.map((p) => `${p.binding.functionName} ${p.stats.deleted}`).join(', ');
    run.progress(`  … ${phase}: ${run.sequence.deliveries.length} webhooks sent; messages done: ${done}`);
  }, 30_000);
  ticker.unref();
  try {
    return await work();
  } finally {
    clearInterval(ticker);
    run.durations[phase] = Date.now() - started;
    run.progress(`  ${phase}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

/**
 * A cap, not an estimate: Sequence's 1,500 requests/min per key paces the connector at about 13
 * calls per customer and 60 per invoice under these faults.
 */
function defaultSettleTimeoutMs(sizes: ChaosSizes): number {
  return 10 * 60_000 + sizes.customers * 1_000 + sizes.invoices * 5_000;
}

/** Every webhook delivered and every queue drained, until a round changes nothing (work → webhooks → work). */
async function settle(run: Run): Promise<void> {
  const timeoutMs = run.options.settleTimeoutMs ?? defaultSettleTimeoutMs(run.data.sizes);
  let stableRounds = 0;
  while (stableRounds < 2) {
    const before = run.sequence.deliveries.length;
    await run.sequence.webhooksIdle();
    await run.runtime.drain({ timeoutMs });
    await run.sequence.webhooksIdle();
    stableRounds = run.sequence.deliveries.length === before ? stableRounds + 1 : 0;
  }
}

function customerBody(spec: CustomerSpec, name = spec.legalName, line1 = spec.address.line1): Record<string, unknown> {
  return {
    legalName: name,
    address: { ...spec.address, line1 },
    contacts: [{ name: 'Billing', email: `billing+${spec.key}@example.com`, billingPreference: 'PRIMARY' }],
    taxStatus: spec.taxStatus,
  };
}

// ---- phases ----------------------------------------------------------------------------------

async function seedSequence(run: Run): Promise<void> {
  const { data } = run;
  const seeded = data.customers.map((c, i) => ({ c, i })).filter(({ c }) => !c.createdLive);
  run.customerIds = data.customers.map(() => randomUUID());
  run.productIds = data.products.map(() => randomUUID());
  const body = {
    taxCategories: [
      { id: EXTRA_CATEGORY_IDS.training, name: 'Training', description: 'Instructor-led training (exempt)' },
      { id: EXTRA_CATEGORY_IDS.legacy, name: 'Legacy hardware', description: 'Mapped to a Sphere code that does not exist' },
    ],
    customers: seeded.map(({ c, i }) => ({ id: run.customerIds[i], ...customerBody(c) })),
    products: data.products.map((p, i) => ({ id: run.productIds[i], name: p.name, taxCategoryId: CATEGORY_IDS[p.taxCategory] })),
    prices: data.products.map((_, i) => ({
      productId: run.productIds[i],
      name: 'Monthly',
      currency: 'USD',
      structure: { pricingType: 'FIXED', price: '1.00' },
      billingFrequency: 'MONTHLY',
      billingType: 'IN_ADVANCE',
    })),
    taxRegistrations: seeded.flatMap(({ c, i }) => (c.registration ? [{ ...c.registration, customerId: run.customerIds[i] }] : [])),
  };
  const result = await simCall<{ prices: string[] }>(run.sequence.url, 'POST', '/_sim/seed', body);
  run.priceIds = result.prices;
}

async function connect(run: Run): Promise<void> {
  // Connect checks every code with Sphere and would refuse the unknown one, so it is mapped afterwards
  // (PATCH does not check codes; "Test credentials" would report it): a code that went bad later.
  const accepted = Object.fromEntries(Object.entries(TAX_CODE_MAPPING.byTaxCategory).filter(([, code]) => code !== UNKNOWN_SPHERE_TAX_CODE));
  const reply = await adminRetrying<{ id: string; status: string }>(run, 'POST', '/connections', {
    name: 'Chaos merchant',
    sequence: { environment: 'sandbox', clientId: run.secrets.clientId, clientSecret: run.secrets.clientSecret },
    sphere: { apiKey: run.secrets.sphereKey },
    taxCodes: { ...TAX_CODE_MAPPING, byTaxCategory: accepted },
  });
  if (reply.status !== 201 || reply.body.status !== 'ACTIVE') throw new Error(`POST /connections → ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`);
  run.connectionId = reply.body.id;
  const mapped = await adminRetrying<{ id: string }>(run, 'PATCH', `/connections/${reply.body.id}`, { taxCodes: TAX_CODE_MAPPING });
  if (mapped.status !== 200) throw new Error(`PATCH /connections/${reply.body.id} → ${mapped.status} ${JSON.stringify(mapped.body).slice(0, 300)}`);
}

async function faultsOn(run: Run): Promise<void> {
  const f = run.faults;
  await simCall(run.sphere.url, 'POST', '/_sim/faults', { errorRate: f.sphere5xxRate + f.sphere429Rate, statuses: weightedStatuses(f), latencyMs: f.sphereLatencyMs });
  await simCall(run.sequence.url, 'POST', '/_sim/faults', { duplicateWebhooks: f.duplicateWebhooks, reorderWebhooks: f.reorderWebhooks, reorderWindowMs: f.reorderWindowMs });
}

async function faultsOff(run: Run): Promise<void> {
  // /_sim/faults merges: switch off exactly what faultsOn switched on.
  await simCall(run.sphere.url, 'POST', '/_sim/faults', { errorRate: 0, latencyMs: 0 });
  await simCall(run.sequence.url, 'POST', '/_sim/faults', { duplicateWebhooks: false, reorderWebhooks: false });
}

async function waitForBackfill(run: Run): Promise<void> {
  let last = '';
  try {
    await eventually(
      'the backfill to complete',
      async () => {
        const reply = await run.admin.call<{ backfill: { state: string; done: number; total: number } }>('GET', `/connections/${run.connectionId}`);
        const b = reply.body.backfill;
        const line = `  backfill ${b.state} ${b.done}/${b.total}`;
        if (line !== last) run.progress(line);
        last = line;
        if (b.state === 'FAILED') throw new GiveUp('The backfill FAILED');
        return b.state === 'COMPLETED';
      },
      { timeoutMs: run.options.settleTimeoutMs ?? defaultSettleTimeoutMs(run.data.sizes), everyMs: 1000 },
    );
  } catch (error) {
    if (error instanceof GiveUp) throw error;
    throw new Error(`The backfill did not complete (${last.trim()}): ${(error as Error).message}`);
  }
  await settle(run);
}

async function liveCustomers(run: Run): Promise<void> {
  const r = run.sequence.resources;
  run.data.customers.forEach((c, i) => {
    if (!c.createdLive) return;
    r.customers.create(customerBody(c), { id: run.customerIds[i] });
    if (c.registration) r.taxRegistrations.create({ ...c.registration, customerId: run.customerIds[i] });
  });
  let n = 0;
  for (const [i, c] of run.data.customers.entries()) {
    if (!c.updated) continue;
    const name = `${c.legalName} (renamed)`;
    r.customers.update(run.customerIds[i]!, customerBody(c, name, `${c.address.line1}, Suite ${100 + i}`));
    run.renamed.set(run.customerIds[i]!, name);
    if (++n % 10 === 0) await sleep(20);
  }
}

async function createInvoices(run: Run): Promise<void> {
  const r = run.sequence.resources;
  for (const [k, inv] of run.data.invoices.entries()) {
    const invoice = r.invoices.create({ customerId: run.customerIds[inv.customer], currency: inv.currency });
    run.invoiceIds.push(invoice.id);
    const groups = new Map<string, string>();
    for (const line of inv.lines) {
      let groupId: string | undefined;
      if (line.groupCategory) {
        groupId = groups.get(line.groupCategory);
        if (!groupId) {
          groupId = r.invoices.createGroup(invoice.id, { title: `${line.groupCategory} services`, taxCategoryId: CATEGORY_IDS[line.groupCategory] }).id;
          groups.set(line.groupCategory, groupId);
        }
      }
      r.invoices.createLine(invoice.id, {
        title: line.title,
        quantity: line.quantity,
        rate: line.rate,
        taxRate: '0',
        externalIds: [],
        ...(line.product !== undefined ? { priceId: run.priceIds[line.product] } : {}),
        ...(groupId ? { groupId } : {}),
      });
    }
    // Real traffic is spread out: a few invoices per reorder window.
    if (k % 5 === 4) await sleep(25);
    if (k % 100 === 99) run.progress(`  ${k + 1} invoices created`);
  }
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const isFinalised = (fate: InvoiceSpec['fate']) => fate === 'finalize_admin' || fate === 'finalize_sequence' || fate === 'finalize_then_void' || fate === 'finalize_then_credit';

async function finalise(run: Run): Promise<void> {
  const r = run.sequence.resources;
  const viaAdmin = run.data.invoices.map((inv, i) => ({ inv, i })).filter(({ inv }) => isFinalised(inv.fate) && inv.fate !== 'finalize_sequence');
  let done = 0;
  await pool(viaAdmin, 2, async ({ i }) => {
    const id = run.invoiceIds[i]!;
    const reply = await adminRetrying<{ error?: { code: string } }>(run, 'POST', `/connections/${run.connectionId}/invoices/${id}/finalize`);
    if (reply.status !== 200) run.problems.push({ check: 'finalize', detail: `invoice ${run.data.invoices[i]!.key} → ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}` });
    if (++done % 50 === 0) run.progress(`  ${done}/${viaAdmin.length} finalised through the admin API`);
  });
  for (const [i, inv] of run.data.invoices.entries()) if (inv.fate === 'finalize_sequence') r.invoices.finalize(run.invoiceIds[i]!);
  // A deliberately invalid invoice must be refused (422, with the reason) and stay a draft.
  for (const [i, inv] of run.data.invoices.entries()) {
    if (!inv.invalid) continue;
    const reply = await adminRetrying<{ error?: { code: string; message: string } }>(run, 'POST', `/connections/${run.connectionId}/invoices/${run.invoiceIds[i]}/finalize`);
    const expected = expectedInvoiceCode(inv);
    if (reply.status !== 422 || reply.body.error?.code !== expected) {
      run.problems.push({ check: 'finalize-invalid', detail: `invoice ${inv.key} (${inv.invalid}) → ${reply.status} ${reply.body.error?.code ?? ''}, expected 422 ${expected}` });
    }
  }
}

async function voidsAndCredits(run: Run): Promise<void> {
  const r = run.sequence.resources;
  for (const [i, inv] of run.data.invoices.entries()) {
    const id = run.invoiceIds[i]!;
    if (inv.fate === 'void_draft' || inv.fate === 'finalize_then_void') {
      if (inv.fate === 'finalize_then_void' && r.invoices.get(id).status !== 'FINAL') continue; // reported by the finalize phase
      r.invoices.void(id);
    } else if (inv.fate === 'finalize_then_credit') {
      const invoice = r.invoices.get(id);
      if (invoice.status !== 'FINAL') continue;
      const first = r.invoices.lines(id)[0]!;
      const cn = r.creditNotes.create({ currency: invoice.currency, customerId: invoice.customerId, invoiceId: id });
      const rate = Decimal.min(new Decimal(first.rate), new Decimal('25.00')).toFixed(2);
      r.creditNotes.createLine(cn.id, { title: `Refund: ${first.title}`, quantity: '1', rate, taxRate: first.taxRate, externalIds: [], lineItemId: first.id });
      r.creditNotes.finalize(cn.id);
      run.creditNotes.push({ invoiceIndex: i, id: cn.id });
    } else {
      continue;
    }
    if (i % 10 === 9) await sleep(20);
  }
}

async function retryFailures(run: Run): Promise<void> {
  const reply = await run.admin.call<{ requeued?: number; matched?: number }>('POST', `/connections/${run.connectionId}/failures/retry`, { all: true });
  if (reply.status !== 202 && reply.status !== 404) run.problems.push({ check: 'failures/retry', detail: `→ ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}` });
  run.progress(`  retry all: ${reply.status} ${JSON.stringify(reply.body)}`);
  await settle(run);
}

// ---- verification ----------------------------------------------------------------------------

function expectedInvoiceCode(inv: InvoiceSpec): string {
  switch (inv.invalid) {
    case 'address':
      return 'customer_tax_location_invalid';
    case 'tax_code':
      return 'validation_errors';
    case 'missing_category':
      return 'product_missing_tax_category';
    default:
      return '';
  }
}

function expectedFailures(run: Run): (ExpectedFailure & { resourceId: string })[] {
  const out: (ExpectedFailure & { resourceId: string })[] = [];
  run.data.products.forEach((p, i) => {
    if (p.invalid) out.push({ resourceType: 'product', resourceKey: p.key, resourceId: run.productIds[i]!, code: 'validation_errors', why: `tax category mapped to a code Sphere does not know` });
  });
  run.data.invoices.forEach((inv, i) => {
    if (inv.invalid) out.push({ resourceType: 'invoice', resourceKey: inv.key, resourceId: run.invoiceIds[i]!, code: expectedInvoiceCode(inv), why: inv.invalid });
  });
  return out;
}

interface SphereState {
  customers: Record<string, unknown>[];
  products: Record<string, unknown>[];
  transactions: Record<string, unknown>[];
  counts: Record<string, number>;
}

const EXEMPTION_WIRE = { TAXED: 'none', TAX_EXEMPT: 'exempt', REVERSE_CHARGED: 'reverse' } as const;

/** Independent expectation: Sphere's engine (pure) fed with what the connector should have sent. */
function engineFor(run: Run): EngineContext {
  const productCode = new Map<string, string>();
  run.data.products.forEach((p, i) => productCode.set(run.productIds[i]!, taxCodeFor(CATEGORY_IDS[p.taxCategory])));
  for (const id of Object.values(CATEGORY_IDS)) productCode.set(`standin:${id}`, taxCodeFor(id));
  const customers = new Map<string, { exemption: string; taxIds: string[] }>();
  run.data.customers.forEach((c, i) => customers.set(run.customerIds[i]!, { exemption: EXEMPTION_WIRE[c.taxStatus], taxIds: c.registration ? [c.registration.taxIdentifier] : [] }));
  return {
    product: (id) => (productCode.has(id) ? { taxCode: productCode.get(id)! } : undefined),
    customer: (id) => customers.get(id),
    registrations: new Set(DEFAULT_REGISTRATIONS),
    taxCodes: defaultTaxCodes(),
    establishment: { ...DEFAULT_ESTABLISHMENT },
  };
}

interface TaxRecordWire {
  status: string;
  totalTax: string;
  lines: { lineItemId: string; taxAmount: string }[];
  errorCode?: string;
}

async function verify(run: Run, counts: ChaosCounts): Promise<void> {
  const { problems } = run;
  const fail = (check: string, detail: string): void => {
    problems.push({ check, detail });
  };
  const seq = run.sequence.state;
  const r = run.sequence.resources;
  const sphere = await simCall<SphereState>(run.sphere.url, 'GET', '/_sim/state');
  const spCustomers = new Map(sphere.customers.map((c) => [String(c[C.externalId]), c]));
  const spProducts = new Map(sphere.products.map((p) => [String(p[P.externalId]), p]));
  const spTransactions = new Map(sphere.transactions.map((t) => [String(t[X.externalId]), t]));
  counts.sphereCustomers = spCustomers.size;
  counts.sphereProducts = spProducts.size;
  counts.sphereTransactions = spTransactions.size;
  counts.customers = Object.keys(seq.customers).length;
  counts.products = Object.keys(seq.products).length;

  // Customers: each once, in its final state; the renamed ones kept their new name in Sequence.
  for (const [i, spec] of run.data.customers.entries()) {
    const id = run.customerIds[i]!;
    const c = seq.customers[id];
    const s = spCustomers.get(id);
    if (!c) {
      fail('customer', `${spec.key} missing in Sequence`);
      continue;
    }
    if (run.renamed.has(id) && c.legalName !== run.renamed.get(id)) fail('customer-lost-update', `${spec.key}: Sequence name is "${c.legalName}", the merchant set "${run.renamed.get(id)}"`);
    if (!s) {
      fail('customer', `${spec.key} not in Sphere`);
      continue;
    }
    const address = (s[C.billingAddress] ?? {}) as Record<string, unknown>;
    const taxIds = ((s[C.taxIds] ?? []) as Record<string, unknown>[]).map((t) => String(t[T.value])).sort();
    const regs = Object.values(seq.taxRegistrations).filter((t) => t.customerId === id).map((t) => t.taxIdentifier).sort();
    const diffs: string[] = [];
    if (s[C.name] !== c.legalName) diffs.push(`name ${JSON.stringify(s[C.name])} ≠ ${JSON.stringify(c.legalName)}`);
    if (address[A.line1] !== c.address.line1) diffs.push(`line1 ${JSON.stringify(address[A.line1])} ≠ ${JSON.stringify(c.address.line1)}`);
    if (address[A.postalCode] !== c.address.postcode || address[A.city] !== c.address.town || address[A.country] !== c.address.country) diffs.push('address');
    if (s[C.exemptionStatus] !== EXEMPTION_WIRE[c.taxStatus]) diffs.push(`exemption ${String(s[C.exemptionStatus])} ≠ ${EXEMPTION_WIRE[c.taxStatus]}`);
    if (JSON.stringify(taxIds) !== JSON.stringify(regs)) diffs.push(`tax ids ${taxIds.join(',')} ≠ ${regs.join(',')}`);
    if (diffs.length > 0) fail('customer-state', `${spec.key}: ${diffs.join('; ')}`);
  }
  const knownCustomers = new Set(run.customerIds);
  const strayCustomers = [...spCustomers.keys()].filter((id) => !knownCustomers.has(id));
  if (strayCustomers.length > 0) fail('customer-duplicates', `${strayCustomers.length} Sphere customer(s) that are no Sequence customer`);
  counts.duplicates += strayCustomers.length;

  // Products: each valid one once with its mapped code; the invalid ones absent (and failed).
  for (const [i, spec] of run.data.products.entries()) {
    const s = spProducts.get(run.productIds[i]!);
    if (spec.invalid) {
      if (s) fail('product', `${spec.key} (invalid) exists in Sphere`);
      continue;
    }
    if (!s) fail('product', `${spec.key} not in Sphere`);
    else if (s[P.taxCode] !== taxCodeFor(CATEGORY_IDS[spec.taxCategory])) fail('product-state', `${spec.key}: tax code ${String(s[P.taxCode])}`);
  }
  const knownProducts = new Set(run.productIds);
  const strayProducts = [...spProducts.keys()].filter((id) => !knownProducts.has(id) && !id.startsWith('sequence-tax-category:'));
  if (strayProducts.length > 0) fail('product-duplicates', `${strayProducts.length} unexpected Sphere product(s)`);
  counts.duplicates += strayProducts.length;

  // Invoices.
  const engine = engineFor(run);
  const expectedTransactions = new Set<string>();
  let recordedExpected = 0;
  await pool([...run.data.invoices.entries()], 4, async ([i, spec]) => {
    const id = run.invoiceIds[i]!;
    const invoice = seq.invoices[id];
    if (!invoice) return fail('invoice', `${spec.key} missing`);
    const lines = r.invoices.lines(id);
    const txn = spTransactions.get(id);
    const cur = invoice.currency as CurrencyCode;
    if (spec.invalid) {
      if (invoice.status !== 'DRAFT') fail('invoice-invalid', `${spec.key} is ${invoice.status}, expected to stay DRAFT`);
      if (txn) fail('invoice-invalid', `${spec.key} was recorded in Sphere`);
      return;
    }
    const expectedStatus = spec.fate === 'draft' ? 'DRAFT' : spec.fate === 'void_draft' || spec.fate === 'finalize_then_void' ? 'VOIDED' : 'FINAL';
    if (invoice.status !== expectedStatus) fail('invoice-status', `${spec.key} is ${invoice.status}, expected ${expectedStatus}`);

    // Independent recalculation of every line with Sphere's (pure) engine.
    const groups = new Map(r.invoices.groups(id).map((g) => [g.id, g.taxCategory?.id]));
    const a = invoice.customerBillingAddress!;
    const result = calculate(
      {
        currency: cur.toLowerCase(),
        customer_id: invoice.customerId,
        customer_address: { line1: a.line1, city: a.town, state: a.state ?? null, postal_code: a.postcode, country: a.country },
        line_items: lines.map((l) => ({
          id: l.id,
          product_id: l.productId ?? `standin:${l.groupId ? groups.get(l.groupId) : ''}`,
          amount: decimalToMinorUnits(l.netTotal, cur),
        })),
      } as Parameters<typeof calculate>[0],
      engine,
    );
    if (!result.ok) return fail('tax-engine', `${spec.key}: the independent calculation failed (${result.error.code})`);
    const expectedLine = new Map(result.lines.map((l) => [l.id, l.tax_amounts.reduce((s, e) => s + e.amount, 0)]));
    let mismatched = false;
    for (const l of lines) {
      const actual = decimalToMinorUnits(l.totalTax, cur);
      if (actual !== expectedLine.get(l.id)) {
        mismatched = true;
        fail('tax', `${spec.key} line "${l.title}" (${invoice.status}): Sequence ${l.totalTax} ${cur}, Sphere ${expectedLine.get(l.id)} minor units`);
      }
    }
    // The stored tax record agrees with Sequence, line by line.
    const record = await run.admin.call<TaxRecordWire>('GET', `/connections/${run.connectionId}/invoices/${id}/tax`);
    if (spec.fate !== 'void_draft') {
      if (record.status !== 200 || record.body.status !== 'CALCULATED') {
        mismatched = true;
        fail('tax-record', `${spec.key}: GET …/tax → ${record.status} ${record.body.status ?? ''} ${record.body.errorCode ?? ''}`);
      } else {
        const stored = new Map(record.body.lines.map((l) => [l.lineItemId, l.taxAmount]));
        for (const l of lines) {
          if (!stored.has(l.id) || !new Decimal(stored.get(l.id)!).equals(new Decimal(l.totalTax))) {
            mismatched = true;
            fail('tax-record', `${spec.key} line "${l.title}": record ${stored.get(l.id)} ≠ Sequence ${l.totalTax}`);
          }
        }
      }
    }
    if (mismatched) counts.taxMismatches += 1;

    // Transactions: finalised → one finalized debit with Sequence's tax; voided after finalising → cancelled; drafts → none.
    if (spec.fate === 'draft' || spec.fate === 'void_draft') {
      if (txn) fail('transaction', `${spec.key} (${spec.fate}) has a Sphere transaction`);
      return;
    }
    expectedTransactions.add(id);
    recordedExpected += 1;
    if (!txn) return fail('transaction', `${spec.key} (${spec.fate}) is not recorded in Sphere`);
    const wantStatus = spec.fate === 'finalize_then_void' ? 'cancelled' : 'finalized';
    if (txn[X.type] !== 'debit' || txn[X.status] !== wantStatus) fail('transaction', `${spec.key}: ${String(txn[X.type])}/${String(txn[X.status])}, expected debit/${wantStatus}`);
    if (txn[X.tax] === null || !new Decimal(String(txn[X.tax])).equals(new Decimal(invoice.totalTax))) {
      fail('transaction-tax', `${spec.key}: Sphere transaction tax ${String(txn[X.tax])} ≠ Sequence ${invoice.totalTax}`);
      counts.taxMismatches += 1;
    }
  });
  for (const cn of run.creditNotes) {
    expectedTransactions.add(cn.id);
    recordedExpected += 1;
    const txn = spTransactions.get(cn.id);
    const key = run.data.invoices[cn.invoiceIndex]!.key;
    if (!txn) fail('credit-note', `credit note of ${key} is not recorded in Sphere`);
    else if (txn[X.type] !== 'credit' || txn[X.status] !== 'finalized' || txn[X.originalTransactionId] !== run.invoiceIds[cn.invoiceIndex]) {
      fail('credit-note', `credit note of ${key}: ${String(txn[X.type])}/${String(txn[X.status])} → ${String(txn[X.originalTransactionId])}`);
    }
  }
  const strayTransactions = [...spTransactions.keys()].filter((id) => !expectedTransactions.has(id));
  if (strayTransactions.length > 0) fail('transaction-duplicates', `${strayTransactions.length} unexpected Sphere transaction(s)`);
  const connection = await run.admin.call<{ counts: { transactionsRecorded: number } }>('GET', `/connections/${run.connectionId}`);
  const recordedCount = connection.body.counts.transactionsRecorded;
  if (recordedCount !== recordedExpected) fail('transaction-count', `counts.transactionsRecorded = ${recordedCount}, expected ${recordedExpected} (each document recorded exactly once)`);
  counts.duplicates += strayTransactions.length + Math.max(0, recordedCount - recordedExpected);
  counts.cancelled = sphere.transactions.filter((t) => t[X.status] === 'cancelled').length;

  const statuses = Object.values(seq.invoices).map((i) => i.status);
  counts.invoices = statuses.length;
  counts.drafts = statuses.filter((s) => s === 'DRAFT').length;
  counts.finalised = run.data.invoices.filter((i) => !i.invalid && isFinalised(i.fate)).length;
  counts.voided = statuses.filter((s) => s === 'VOIDED').length;
  counts.creditNotes = run.creditNotes.length;

  // Failures: exactly the seeded invalid records, each with its code and a reason.
  const failures = await run.admin.call<{ items: { resourceType: string; resourceId: string; code: string; reason: string }[] }>('GET', `/connections/${run.connectionId}/failures`);
  const expected = expectedFailures(run);
  const expectedKey = new Map(expected.map((e) => [`${e.resourceType}|${e.resourceId}`, e]));
  counts.expectedFailures = expected.length;
  for (const f of failures.body.items ?? []) {
    counts.failures[f.code] = (counts.failures[f.code] ?? 0) + 1;
    const e = expectedKey.get(`${f.resourceType}|${f.resourceId}`);
    if (!e) {
      counts.unexpectedFailures += 1;
      fail('unexpected-failure', `${f.resourceType} ${f.resourceId}: ${f.code} — ${f.reason.slice(0, 200)}`);
    } else if (e.code !== f.code) {
      counts.unexpectedFailures += 1;
      fail('failure-code', `${e.resourceType} ${e.resourceKey} (${e.why}): ${f.code}, expected ${e.code}`);
    } else if (!f.reason || f.reason.trim() === '') {
      fail('failure-reason', `${e.resourceType} ${e.resourceKey}: no reason`);
    }
    expectedKey.delete(`${f.resourceType}|${f.resourceId}`);
  }
  for (const e of expectedKey.values()) {
    counts.missingFailures += 1;
    fail('missing-failure', `${e.resourceType} ${e.resourceKey} (${e.why}) has no failure record (expected ${e.code})`);
  }

  // DLQs empty.
  const dlq = await run.admin.call<{ items: { queue: string; visible: number; inFlight: number }[] }>('GET', '/dlq');
  counts.dlqMessages = (dlq.body.items ?? []).reduce((s, q) => s + q.visible + q.inFlight, 0);
  if (dlq.status !== 200) fail('dlq', `GET /dlq → ${dlq.status}`);
  if (counts.dlqMessages > 0) fail('dlq', `${counts.dlqMessages} message(s) in DLQs: ${JSON.stringify(dlq.body.items)}`);

  // Secrets in logs.
  const webhookSecrets = Object.values(seq.policies).flatMap((p) => (p.webhookSecret ? [p.webhookSecret] : []));
  const { clientId, clientSecret, sphereKey } = run.secrets;
  const hits = secretHits(run.options.capture.lines, [clientSecret, sphereKey, ...webhookSecrets, Buffer.from(`${clientId}:${clientSecret}`).toString('base64')]);
  counts.secretHits = hits.total;
  counts.logLines = run.options.capture.lines.length;
  if (hits.total > 0) fail('secrets', `${hits.total} log line(s) contain a secret value: ${hits.samples.join(' | ')}`);
  if (webhookSecrets.length === 0) fail('secrets', 'no webhook signing secret found to scan for');
}

// ---- the run ---------------------------------------------------------------------------------

function scaledQueue(visibility: number): (q: QueueBinding) => QueueBinding {
  return (q) => ({ ...q, visibilityTimeoutSeconds: visibility, timeoutSeconds: Math.min(q.timeoutSeconds ?? q.visibilityTimeoutSeconds, visibility) });
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const seed = options.seed ?? 7;
  const faults = options.faults ?? ISSUE_FAULTS;
  const data = generateChaosData(options.sizes, seed);
  const progress = options.progress ?? (() => undefined);
  const tag = randomBytes(8).toString('hex');
  const secrets = { clientId: `chaos-client-${tag}`, clientSecret: `chaos-secret-${tag}`, sphereKey: `sph_test_chaos_${tag}` };
  const started = Date.now();
  const stack = await startStack({
    sequence: { clientId: secrets.clientId, clientSecret: secrets.clientSecret, webhookRetryDelaysMs: [250, 1000, 3000, 8000, 15000] },
    sphere: { apiKeys: [secrets.sphereKey] },
    queue: scaledQueue(options.visibilityTimeoutSeconds ?? 30),
    runtime: {
      log: (line) => options.capture.push(line),
      // Logs as in Lambda (JSON lines on stdout), at INFO: what the secret scan reads.
      env: { POWERTOOLS_DEV: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' },
    },
  });
  const { runtime, sequence, sphere } = stack;
  const counts: ChaosCounts = {
    customers: 0, products: 0, invoices: 0, drafts: 0, finalised: 0, voided: 0, creditNotes: 0,
    sphereCustomers: 0, sphereProducts: 0, sphereTransactions: 0, cancelled: 0,
    failures: {}, expectedFailures: 0, unexpectedFailures: 0, missingFailures: 0,
    dlqMessages: 0, secretHits: 0, taxMismatches: 0, duplicates: 0,
    webhooksDelivered: 0, webhookDuplicatesSent: 0, sphereCalls: 0, sequenceCalls: {}, sphereFaultsInjected: {}, logLines: 0,
  };
  const run: Run = {
    data, options, faults, sequence, sphere, secrets, progress,
    runtime,
    admin: stack.admin,
    connectionId: '', customerIds: [], productIds: [], priceIds: [], invoiceIds: [], creditNotes: [],
    renamed: new Map(), problems: [], durations: {},
  };
  try {
    await phases(run, counts);
  } catch (error) {
    run.problems.push({ check: 'run', detail: error instanceof Error ? error.message : String(error) });
  } finally {
    run.durations.total = Date.now() - started;
    await stack.stop();
  }
  return { sizes: options.sizes, seed, faults, durationsMs: run.durations, counts, problems: run.problems, passed: run.problems.length === 0 };
}

async function phases(run: Run, counts: ChaosCounts): Promise<void> {
  const { sequence, sphere } = run;
  {
    await timed(run, 'seed', () => seedSequence(run));
    await timed(run, 'connect', () => connect(run));
    await faultsOn(run);
    await timed(run, 'backfill', () => waitForBackfill(run));
    // Each phase's work, then everything it set off (webhooks, queued work) settled.
    const settledPhases: [string, (run: Run) => Promise<void>][] = [
      ['customers-live', liveCustomers],
      ['invoices', createInvoices],
      ['finalise', finalise],
      ['voids-credits', voidsAndCredits],
    ];
    for (const [phase, work] of settledPhases) {
      await timed(run, phase, async () => {
        await work(run);
        await settle(run);
      });
    }
    const sphereRequests = await simCall<{ requests: { status: number }[] }>(sphere.url, 'GET', '/_sim/requests');
    await faultsOff(run);
    await timed(run, 'retry', () => retryFailures(run));
    await timed(run, 'verify', () => verify(run, counts));
    for (const q of sequence.requests) {
      const shape = `${q.method} ${q.path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '{id}')}`;
      counts.sequenceCalls[shape] = (counts.sequenceCalls[shape] ?? 0) + 1;
    }
    counts.webhooksDelivered = sequence.deliveries.filter((d) => d.state === 'delivered').length;
    counts.webhookDuplicatesSent = sequence.deliveries.filter((d) => d.duplicate).length;
    const failedDeliveries = sequence.deliveries.filter((d) => d.state === 'failed');
    if (failedDeliveries.length > 0) run.problems.push({ check: 'webhooks', detail: `${failedDeliveries.length} webhook delivery(ies) failed for good: ${failedDeliveries.slice(0, 3).map((d) => `${d.notificationType} ${JSON.stringify(d.attempts.at(-1))}`).join('; ')}` });
    // The request log keeps the last 2,000 calls: the injected-fault mix is measured on that window.
    counts.sphereCalls = sphereRequests.requests.length;
    for (const q of sphereRequests.requests) if (q.status >= 429) counts.sphereFaultsInjected[String(q.status)] = (counts.sphereFaultsInjected[String(q.status)] ?? 0) + 1;
  }
}

export function formatChaosSummary(result: ChaosResult): string {
  const c = result.counts;
  const rows: [string, string | number][] = [
    ['customers (Sequence / Sphere)', `${c.customers} / ${c.sphereCustomers}`],
    ['products (Sequence / Sphere incl. stand-ins)', `${c.products} / ${c.sphereProducts}`],
    ['invoices', c.invoices],
    ['  still draft', c.drafts],
    ['  finalised', c.finalised],
    ['  voided', c.voided],
    ['credit notes', c.creditNotes],
    ['Sphere transactions (cancelled)', `${c.sphereTransactions} (${c.cancelled})`],
    ['failures by code', Object.entries(c.failures).map(([k, v]) => `${k}=${v}`).join(', ') || 'none'],
    ['expected failures / unexpected / missing', `${c.expectedFailures} / ${c.unexpectedFailures} / ${c.missingFailures}`],
    ['DLQ messages', c.dlqMessages],
    ['tax mismatches', c.taxMismatches],
    ['duplicates', c.duplicates],
    ['secret hits in logs', `${c.secretHits} (${c.logLines} lines scanned)`],
    ['webhooks delivered (duplicate copies sent)', `${c.webhooksDelivered} (${c.webhookDuplicatesSent})`],
    ['Sequence API calls by the connector', Object.values(c.sequenceCalls).reduce((a, b) => a + b, 0)],
    ...Object.entries(c.sequenceCalls)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([k, v]): [string, number] => [`  ${k}`, v]),
    ['Sphere faults in the last window', `${Object.entries(c.sphereFaultsInjected).map(([k, v]) => `${k}×${v}`).join(' ')} of ${c.sphereCalls} calls`],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  const lines = rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`);
  const durations = Object.entries(result.durationsMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`).join(' · ');
  const verdict = result.passed ? 'PASSED' : `FAILED (${result.problems.length} problem(s))`;
  const problems = result.problems.slice(0, 30).map((p) => `  ✗ [${p.check}] ${p.detail}`);
  return [
    `Chaos: ${result.sizes.customers} customers, ${result.sizes.products} products, ${result.sizes.invoices} invoices (seed ${result.seed})`,
    `  faults: Sphere ${result.faults.sphere5xxRate * 100}% 5xx, ${result.faults.sphere429Rate * 100}% 429, ${result.faults.sphereLatencyMs.join('–')} ms; webhooks ${result.faults.duplicateWebhooks ? 'twice' : 'once'}${result.faults.reorderWebhooks ? ', reordered' : ''}`,
    ...lines,
    `  durations: ${durations}`,
    verdict,
    ...problems,
    ...(result.problems.length > 30 ? [`  … and ${result.problems.length - 30} more`] : []),
  ].join('\n');
}
