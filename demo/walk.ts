/**
 * The scripted walk of `npm run demo` (architecture §5.4), against any stack described by
 * `DemoTargets`: everything the connector does is driven the way an operator and a Sequence user
 * would drive it (the admin API with the bearer token; Sequence's public API on the simulator), and
 * the data set-up and the checks of what reached Sphere go through the simulators' `/_sim` controls.
 *
 *  1. connect          POST /connections → ACTIVE, Sequence account, webhook policy registered
 *  2. backfill         seed customers/products in Sequence, POST …/backfill → COMPLETED, all in Sphere
 *  3. taxed invoice    a DRAFT invoice (3 lines) for a San Francisco customer → webhook-driven tax;
 *                      per line Sphere's tax = Sequence's totalTax to the cent
 *  4. finalise         POST …/finalize → FINAL, the Sphere debit transaction recorded
 *  5. Canadian invoice 13 % HST (Ontario)
 *  6. exempt customer  zero tax, reason customer_exempt
 *  7. reverse charge   a German business with a VAT id: zero tax, reason reverse_charge
 *  8. credit note      against the finalised invoice → Sphere credit with original_transaction_id
 *
 * Returns a structured result (what the integration test asserts) and prints tables as it goes.
 * Never prints a secret: the webhook signing secret is never read, the simulator defaults are named
 * as such, the admin token is not shown.
 */
import { type Column, keyValues, table } from '../cli/format';
import { Decimal } from '../shared/domain/decimal';
import { SIM_TAX_CATEGORY_IDS } from '../local/sequence-sim/server';
import { type DemoTargets, DemoHttpError, admin, adminOk, poll, sequence, sim } from './http';

// ---------------------------------------------------------------------------------------------
// Result types
// ---------------------------------------------------------------------------------------------

export interface StepResult {
  step: string;
  result: string;
  ok: boolean;
}

export interface JurisdictionView {
  name: string;
  rate: string;
  percentage: string;
  amount: string;
  taxType: string;
}

export interface LineResult {
  lineItemId: string;
  title: string;
  amount: string;
  sphereTax: string;
  jurisdictions: JurisdictionView[];
  taxabilityReason?: string;
  /** taxRate on the Sequence line (written by the connector). */
  taxRate: string;
  /** Sequence's own totalTax for the line, read back from Sequence. */
  sequenceTotalTax: string;
  matches: boolean;
}

export interface InvoiceResult {
  label: string;
  invoiceId: string;
  customer: string;
  currency: string;
  /** Tax record status from GET …/tax (CALCULATED | FAILED | PENDING, or NONE when never written). */
  status: string;
  totalTax: string;
  sequenceTotalTax: string;
  reason?: string;
  lines: LineResult[];
  allMatch: boolean;
}

export interface SphereTransactionView {
  externalId: string;
  type: string;
  status: string;
  currency: string;
  tax?: string | null;
  originalTransactionId?: string | null;
  lineCount: number;
}

export interface DemoResult {
  ok: boolean;
  connection?: { id: string; status: string; sequenceAccountId: string; reused: boolean; webhookPolicy?: { id: string; url: string; notificationTypes: string[] } };
  backfill?: { state: string; done: number; total: number; customersSynced: number; productsSynced: number; seededCustomersInSphere: number; seededProductsInSphere: number };
  invoices: InvoiceResult[];
  finalized?: { invoiceId: string; status: string; invoiceNumber: string | null; totalTax: string; sphereTransaction?: SphereTransactionView; transactionsRecorded: number };
  creditNote?: { id: string; status: string; totalTax: string; sphereTransaction?: SphereTransactionView };
  steps: StepResult[];
}

export interface WalkOptions {
  /** Where the tables go (default console.log). */
  print?: (text: string) => void;
  /** Per wait (tax, backfill, transactions); default 45 s. */
  waitTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Wire shapes (only the fields the demo reads)
// ---------------------------------------------------------------------------------------------

interface ConnectionView {
  id: string;
  name: string;
  status: string;
  environment: string;
  sequenceAccountId: string;
  counts: { customersSynced: number; productsSynced: number; invoicesTaxed: number; transactionsRecorded: number; failures: number };
  backfill: { state: string; done: number; total: number };
  lastError?: { code: string; message: string };
}

interface TaxRecordView {
  invoiceId: string;
  status: string;
  totalTax: string;
  reason?: string;
  errorCode?: string;
  lines: { lineItemId: string; amount: string; taxAmount: string; taxRate: string; jurisdictions: JurisdictionView[]; taxabilityReason?: string }[];
}

interface SequenceLine {
  id: string;
  title: string;
  netTotal: string;
  totalTax: string;
  taxRate: string;
}

interface SequenceInvoice {
  id: string;
  status: string;
  totalTax: string;
  netTotal: string;
  invoiceNumber?: string | null;
}

interface SphereTransactionWire {
  external_id: string;
  type: string;
  status: string;
  currency: string;
  tax?: string | null;
  original_transaction_id?: string | null;
  line_items: unknown[];
}

interface SphereState {
  customers: { external_id: string; tax_exempt?: string; tax_ids?: { type: string; value: string }[] }[];
  products: { external_id: string; name: string; tax_code?: string }[];
  transactions: SphereTransactionWire[];
}

// ---------------------------------------------------------------------------------------------
// The scenario data
// ---------------------------------------------------------------------------------------------

const CATEGORY = SIM_TAX_CATEGORY_IDS;
const TRAINING_CATEGORY = 'Training (demo)';

const SAN_FRANCISCO = { line1: '1 Market St', town: 'San Francisco', state: 'CA', postcode: '94105', country: 'US' };
const TORONTO = { line1: '100 King St W', town: 'Toronto', state: 'ON', postcode: 'M5X 1A9', country: 'CA' };
const BERLIN = { line1: 'Unter den Linden 1', town: 'Berlin', postcode: '10117', country: 'DE' };
const SACRAMENTO = { line1: '5735 47th Ave', town: 'Sacramento', state: 'CA', postcode: '95824', country: 'US' };

interface DemoCustomer {
  key: 'ca' | 'on' | 'de' | 'exempt';
  legalName: string;
  address: Record<string, string>;
  taxStatus: 'TAXED' | 'TAX_EXEMPT' | 'REVERSE_CHARGED';
  currency: string;
  note: string;
}

/** A per-run suffix keeps names unique when the demo runs again against the same stack. */
function customers(suffix: string): DemoCustomer[] {
  return [
    { key: 'ca', legalName: `Golden Gate Analytics Inc.${suffix}`, address: SAN_FRANCISCO, taxStatus: 'TAXED', currency: 'USD', note: 'US-CA, San Francisco (state + county + district)' },
    { key: 'on', legalName: `Maple Leaf Robotics Ltd.${suffix}`, address: TORONTO, taxStatus: 'TAXED', currency: 'CAD', note: 'Canada, Ontario (HST)' },
    { key: 'de', legalName: `Berliner Software GmbH${suffix}`, address: BERLIN, taxStatus: 'REVERSE_CHARGED', currency: 'EUR', note: 'Germany, VAT id DE811907980, reverse charge' },
    { key: 'exempt', legalName: `Sacramento Unified School District${suffix}`, address: SACRAMENTO, taxStatus: 'TAX_EXEMPT', currency: 'USD', note: 'US-CA, tax exempt' },
  ];
}

interface DemoProduct {
  key: 'platform' | 'services' | 'training';
  name: string;
  category: string;
  categoryName: string;
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const mark = (ok: boolean) => (ok ? '✓' : '✗');

function sameMoney(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return false;
  try {
    return new Decimal(a).abs().equals(new Decimal(b).abs());
  } catch {
    return false;
  }
}

function describe(error: unknown): string {
  if (error instanceof DemoHttpError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

function heading(text: string): string {
  return `\n== ${text} ${'='.repeat(Math.max(3, 96 - text.length))}\n`;
}

type LineRow = { kind: 'line'; line: LineResult } | { kind: 'jurisdiction'; text: string; amount: string; last: boolean };

/** One row per line, then one indented row per Sphere jurisdiction (or the reason there is none). */
function lineTable(lines: readonly LineResult[], currency: string): string {
  const rows: LineRow[] = [];
  for (const line of lines) {
    rows.push({ kind: 'line', line });
    if (line.jurisdictions.length === 0) rows.push({ kind: 'jurisdiction', text: `no tax: ${line.taxabilityReason ?? 'no jurisdiction'}`, amount: '', last: true });
    line.jurisdictions.forEach((j, i) => rows.push({ kind: 'jurisdiction', text: `${j.name} ${j.percentage}%`, amount: j.amount, last: i === line.jurisdictions.length - 1 }));
  }
  return table(rows, [
    { header: 'line / Sphere jurisdiction', value: (r) => (r.kind === 'line' ? r.line.title : `  ${r.last ? '└' : '├'} ${r.text}`) },
    { header: `amount ${currency}`, value: (r) => (r.kind === 'line' ? r.line.amount : '') },
    { header: 'Sphere tax', value: (r) => (r.kind === 'line' ? r.line.sphereTax : r.amount) },
    { header: 'taxRate set', value: (r) => (r.kind === 'line' ? r.line.taxRate : '') },
    { header: 'Sequence totalTax', value: (r) => (r.kind === 'line' ? r.line.sequenceTotalTax : '') },
    { header: 'match', value: (r) => (r.kind === 'line' ? mark(r.line.matches) : '') },
  ]);
}

async function listAll<T>(t: DemoTargets, path: string): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await sequence<{ items: T[]; pagination?: { after?: string | null } }>(t, 'GET', `${path}${sep}limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    out.push(...page.items);
    after = page.pagination?.after ?? undefined;
    if (!after) return out;
  }
}

async function sphereState(t: DemoTargets): Promise<SphereState> {
  return sim<SphereState>(t.sphereSimUrl, 'GET', '/_sim/state');
}

function transactionView(w: SphereTransactionWire): SphereTransactionView {
  return { externalId: w.external_id, type: w.type, status: w.status, currency: w.currency, tax: w.tax ?? null, originalTransactionId: w.original_transaction_id ?? null, lineCount: w.line_items.length };
}

async function sphereTransaction(t: DemoTargets, externalId: string): Promise<SphereTransactionWire | undefined> {
  return (await sphereState(t)).transactions.find((x) => x.external_id === externalId);
}

async function getConnection(t: DemoTargets, id: string): Promise<ConnectionView> {
  return adminOk<ConnectionView>(t, 'GET', `/connections/${id}`);
}

// ---------------------------------------------------------------------------------------------
// The walk
// ---------------------------------------------------------------------------------------------

export async function runDemoWalk(t: DemoTargets, options: WalkOptions = {}): Promise<DemoResult> {
  const print = options.print ?? ((text: string) => console.log(text));
  const wait = options.waitTimeoutMs ?? 45_000;
  const result: DemoResult = { ok: false, invoices: [], steps: [] };
  const suffix = ` #${Date.now().toString(36).slice(-5)}`;
  const demoCustomers = customers(suffix);

  /** Run one step; a failure is recorded (✗ with the reason) and the walk continues where it can. */
  const step = async <T>(name: string, fn: () => Promise<{ value: T; result: string; ok: boolean }>): Promise<T | undefined> => {
    try {
      const outcome = await fn();
      result.steps.push({ step: name, result: outcome.result, ok: outcome.ok });
      return outcome.value;
    } catch (error) {
      const message = describe(error);
      print(`  ✗ ${message}`);
      result.steps.push({ step: name, result: message, ok: false });
      return undefined;
    }
  };
  const skip = (name: string, because: string) => result.steps.push({ step: name, result: `skipped: ${because}`, ok: false });

  // -- 0. a tax category of our own (so one product maps to an exempt Sphere code) --------------
  const categories = await listAll<{ id: string; name: string }>(t, '/tax-categories');
  const trainingCategory = categories.find((c) => c.name === TRAINING_CATEGORY) ?? (await sequence<{ id: string; name: string }>(t, 'POST', '/tax-categories', { name: TRAINING_CATEGORY, description: 'Instructor-led training' }));
  const products: DemoProduct[] = [
    { key: 'platform', name: `Analytics Platform (SaaS)${suffix}`, category: CATEGORY.saas, categoryName: 'SaaS' },
    { key: 'services', name: `Implementation services${suffix}`, category: CATEGORY.standard, categoryName: 'Standard' },
    { key: 'training', name: `Admin training${suffix}`, category: trainingCategory.id, categoryName: TRAINING_CATEGORY },
  ];
  // Codes of the Sphere simulator's catalogue. The connector has no built-in default: against a real
  // Sphere organisation these must be its own product tax codes (connect checks them with Sphere).
  const taxCodes = {
    default: 'txcd_10000000',
    byTaxCategory: {
      [CATEGORY.saas]: 'txcd_10103001', // SaaS, business use
      [CATEGORY.standard]: 'txcd_20030000', // general services
      [CATEGORY.digitalServices]: 'txcd_10000000', // electronically supplied services
      [trainingCategory.id]: 'txcd_30070000', // training services, exempt
    },
  };

  // -- 1. connect ------------------------------------------------------------------------------
  print(heading('1. Connect (POST /connections with the simulator credentials)'));
  const connection = await step('1. Connect', async () => {
    const body = {
      name: 'Acme Cloud (demo)',
      sequence: { environment: 'sandbox', clientId: t.sequenceClientId, clientSecret: t.sequenceClientSecret, baseUrl: `${t.sequenceSimUrl}/api` },
      sphere: { apiKey: t.sphereApiKey, baseUrl: t.sphereSimUrl },
      taxCodes,
      options: { recordTransactions: true, calculateOnDraft: true },
    };
    const created = await admin<ConnectionView & { error?: { code: string } }>(t, 'POST', '/connections', body);
    let view: ConnectionView;
    let reused = false;
    if (created.status === 201) {
      view = created.body;
    } else if (created.status === 409 && created.body.error?.code === 'account_already_connected') {
      // A stack that already ran the demo (or was connected by hand): reuse its live connection.
      const list = await adminOk<{ items: ConnectionView[] }>(t, 'GET', '/connections');
      const live = list.items.find((c) => c.environment === 'sandbox' && c.status !== 'DISCONNECTED');
      if (!live) throw new DemoHttpError(created.status, created.body, 'connector POST /connections');
      view = await adminOk<ConnectionView>(t, 'PATCH', `/connections/${live.id}`, { taxCodes, options: { recordTransactions: true, calculateOnDraft: true } });
      reused = true;
    } else {
      throw new DemoHttpError(created.status, created.body, 'connector POST /connections');
    }
    const policies = await listAll<{ id: string; recipients: string[]; notificationTypes?: string[] }>(t, '/notifications/policies');
    const policy = policies.find((p) => p.recipients.some((r) => r.endsWith(`/webhooks/sequence/${view.id}`)));
    const webhookPolicy = policy ? { id: policy.id, url: policy.recipients.find((r) => r.endsWith(`/webhooks/sequence/${view.id}`))!, notificationTypes: policy.notificationTypes ?? [] } : undefined;
    result.connection = { id: view.id, status: view.status, sequenceAccountId: view.sequenceAccountId, reused, ...(webhookPolicy ? { webhookPolicy } : {}) };
    print(
      keyValues([
        ['connection', `${view.id}${reused ? '  (already connected: reused, tax codes updated with PATCH)' : ''}`],
        ['status', view.status],
        ['Sequence account', view.sequenceAccountId],
        ['credentials', `${t.sequenceClientId} / Sphere key: simulator defaults (stored in the vault, never echoed)`],
        ['webhook policy', webhookPolicy ? `${webhookPolicy.id} → ${webhookPolicy.url}` : 'NOT FOUND'],
        ['  notifications', webhookPolicy ? `${webhookPolicy.notificationTypes.length} types (${webhookPolicy.notificationTypes.join(', ')})` : ''],
        ['  signing secret', webhookPolicy ? 'generated by the connector, kept in its vault (not shown)' : ''],
        ...(view.lastError ? ([['last error', `${view.lastError.code}: ${view.lastError.message}`]] as const) : []),
      ]),
    );
    print(
      table(
        Object.entries(taxCodes.byTaxCategory).map(([id, code]) => ({ id, code, name: categories.find((c) => c.id === id)?.name ?? (id === trainingCategory.id ? TRAINING_CATEGORY : id) })),
        [
          { header: 'Sequence tax category', value: (r) => r.name },
          { header: 'id', value: (r) => r.id },
          { header: 'Sphere tax code', value: (r) => r.code },
        ],
      ),
    );
    const ok = view.status === 'ACTIVE' && webhookPolicy !== undefined;
    return { value: view, ok, result: `${view.status}, account ${view.sequenceAccountId.slice(0, 8)}…, webhook policy ${webhookPolicy ? 'registered' : 'missing'}${reused ? ' (reused)' : ''}` };
  });
  if (!connection) {
    for (const s of ['2. Backfill', '3. Invoice taxed (US-CA)', '4. Invoice finalised', '5. Canadian invoice (HST)', '6. Exempt customer', '7. Reverse charge (DE)', '8. Credit note']) skip(s, 'no connection');
    return finish(result, print);
  }
  const base = `/connections/${connection.id}`;

  // -- 2. seed + backfill ------------------------------------------------------------------------
  print(heading('2. Seed Sequence, then backfill (POST …/backfill)'));
  const seeded = await step('2. Backfill', async () => {
    // The connect flow queued a first backfill of the (empty) account: let it finish, so the run
    // started below is the one that brings the seeded records over.
    await poll(async () => {
      const c = await getConnection(t, connection.id);
      return c.backfill.state !== 'QUEUED' && c.backfill.state !== 'RUNNING';
    }, wait);
    const ids = await sim<{ customers: string[]; products: string[]; prices: string[]; taxRegistrations: string[] }>(t.sequenceSimUrl, 'POST', '/_sim/seed', {
      customers: demoCustomers.map((c) => ({
        legalName: c.legalName,
        address: c.address,
        contacts: [{ name: 'Accounts payable', email: `ap+${c.key}@example.com`, billingPreference: 'PRIMARY' }],
        taxStatus: c.taxStatus,
      })),
      products: products.map((p) => ({ name: p.name, taxCategoryId: p.category })),
      // prices: platform/services/training in USD, platform in CAD and EUR
      prices: [
        price('$products[0]', 'USD'),
        price('$products[1]', 'USD'),
        price('$products[2]', 'USD'),
        price('$products[0]', 'CAD'),
        price('$products[0]', 'EUR'),
      ],
      taxRegistrations: [{ taxIdentifier: 'DE811907980', customerId: '$customers[2]', country: 'DE' }],
    });
    const customerIds = Object.fromEntries(demoCustomers.map((c, i) => [c.key, ids.customers[i]!])) as Record<DemoCustomer['key'], string>;
    const priceIds = { platformUSD: ids.prices[0]!, servicesUSD: ids.prices[1]!, trainingUSD: ids.prices[2]!, platformCAD: ids.prices[3]!, platformEUR: ids.prices[4]! };

    const started = await adminOk<{ backfill: ConnectionView['backfill'] }>(t, 'POST', `${base}/backfill`);
    print(`  backfill ${started.backfill.state}; waiting for it to complete…`);
    const done = await poll(async () => {
      const c = await getConnection(t, connection.id);
      return c.backfill.state === 'COMPLETED' || c.backfill.state === 'FAILED' ? c : undefined;
    }, wait, 250);
    const final = done ?? (await getConnection(t, connection.id));
    // Workers may still be writing the last records when the progress says COMPLETED.
    const inSphere = await poll(async () => {
      const s = await sphereState(t);
      const cs = ids.customers.filter((id) => s.customers.some((x) => x.external_id === id));
      const ps = ids.products.filter((id) => s.products.some((x) => x.external_id === id));
      return cs.length === ids.customers.length && ps.length === ids.products.length ? s : undefined;
    }, final.backfill.state === 'COMPLETED' ? 15_000 : 0);
    const state = inSphere ?? (await sphereState(t));
    const after = await getConnection(t, connection.id);
    const customersInSphere = ids.customers.filter((id) => state.customers.some((x) => x.external_id === id)).length;
    const productsInSphere = ids.products.filter((id) => state.products.some((x) => x.external_id === id)).length;
    result.backfill = {
      state: after.backfill.state,
      done: after.backfill.done,
      total: after.backfill.total,
      customersSynced: after.counts.customersSynced,
      productsSynced: after.counts.productsSynced,
      seededCustomersInSphere: customersInSphere,
      seededProductsInSphere: productsInSphere,
    };
    print(
      table(demoCustomers, [
        { header: 'Sequence customer', value: (c) => c.legalName },
        { header: 'where', value: (c) => c.note },
        { header: 'taxStatus', value: (c) => c.taxStatus },
        { header: 'in Sphere', value: (c) => {
          const s = state.customers.find((x) => x.external_id === customerIds[c.key]);
          return s ? `✓ tax_exempt=${s.tax_exempt ?? '?'}${s.tax_ids && s.tax_ids.length > 0 ? `, tax_ids=${s.tax_ids.map((x) => `${x.type}:${x.value}`).join(',')}` : ''}` : '✗ missing';
        } },
      ] as Column<DemoCustomer>[]),
    );
    print(
      table(products.map((p, i) => ({ p, id: ids.products[i]! })), [
        { header: 'Sequence product', value: (r) => r.p.name },
        { header: 'tax category', value: (r) => r.p.categoryName },
        { header: 'in Sphere (tax_code)', value: (r) => {
          const s = state.products.find((x) => x.external_id === r.id);
          return s ? `✓ ${s.tax_code ?? '?'}` : '✗ missing';
        } },
      ]),
    );
    print(
      keyValues([
        ['backfill', `${after.backfill.state}  ${after.backfill.done}/${after.backfill.total}`],
        ['customersSynced', after.counts.customersSynced],
        ['productsSynced', after.counts.productsSynced],
      ]),
    );
    const ok = after.backfill.state === 'COMPLETED' && customersInSphere === ids.customers.length && productsInSphere === ids.products.length;
    return {
      value: { customerIds, priceIds },
      ok,
      result: `${after.backfill.state} ${after.backfill.done}/${after.backfill.total}; customersSynced ${after.counts.customersSynced}, productsSynced ${after.counts.productsSynced}; in Sphere: ${customersInSphere}/${ids.customers.length} customers, ${productsInSphere}/${ids.products.length} products`,
    };
  });
  if (!seeded) {
    for (const s of ['3. Invoice taxed (US-CA)', '4. Invoice finalised', '5. Canadian invoice (HST)', '6. Exempt customer', '7. Reverse charge (DE)', '8. Credit note']) skip(s, 'no seeded data');
    return finish(result, print);
  }
  const { customerIds, priceIds } = seeded;
  const customerName = (key: DemoCustomer['key']) => demoCustomers.find((c) => c.key === key)!.legalName;

  /** Create a DRAFT invoice through Sequence's API, then wait for the webhook-driven tax. */
  const taxedInvoice = async (label: string, key: DemoCustomer['key'], currency: string, lines: { title: string; quantity: string; rate: string; priceId: string }[]): Promise<InvoiceResult> => {
    const invoice = await sequence<SequenceInvoice>(t, 'POST', '/invoices', { customerId: customerIds[key], currency });
    const created: { id: string; title: string }[] = [];
    for (const l of lines) {
      const line = await sequence<{ id: string }>(t, 'POST', `/invoices/${invoice.id}/line-items`, { ...l, taxRate: '0', externalIds: [] });
      created.push({ id: line.id, title: l.title });
    }
    print(`  DRAFT invoice ${invoice.id} created in Sequence (${lines.length} line${lines.length === 1 ? '' : 's'}, taxRate 0); waiting for the connector (webhooks → queue → tax)…`);
    let record: TaxRecordView | undefined;
    let seqLines: SequenceLine[] = [];
    const settled = await poll(async () => {
      const answer = await admin<TaxRecordView>(t, 'GET', `${base}/invoices/${invoice.id}/tax`);
      if (answer.status !== 200) return undefined;
      record = answer.body;
      if (record.status === 'FAILED') return true; // final until someone fixes the cause
      if (record.status !== 'CALCULATED' || !created.every((c) => record!.lines.some((l) => l.lineItemId === c.id))) return undefined;
      seqLines = await listAll<SequenceLine>(t, `/invoices/${invoice.id}/line-items`);
      return record.lines.every((r) => sameMoney(seqLines.find((s) => s.id === r.lineItemId)?.totalTax, r.taxAmount)) ? true : undefined;
    }, wait, 200);
    if (seqLines.length === 0) seqLines = await listAll<SequenceLine>(t, `/invoices/${invoice.id}/line-items`);
    const seqInvoice = await sequence<SequenceInvoice>(t, 'GET', `/invoices/${invoice.id}`);
    const lineResults: LineResult[] = created.map((c) => {
      const r = record?.lines.find((l) => l.lineItemId === c.id);
      const s = seqLines.find((l) => l.id === c.id);
      return {
        lineItemId: c.id,
        title: c.title,
        amount: s?.netTotal ?? r?.amount ?? '?',
        sphereTax: r?.taxAmount ?? '?',
        jurisdictions: (r?.jurisdictions ?? []).map((j) => ({ name: j.name, rate: j.rate, percentage: j.percentage, amount: j.amount, taxType: j.taxType })),
        ...(r?.taxabilityReason ? { taxabilityReason: r.taxabilityReason } : {}),
        taxRate: s?.taxRate ?? '?',
        sequenceTotalTax: s?.totalTax ?? '?',
        matches: r !== undefined && s !== undefined && sameMoney(r.taxAmount, s.totalTax),
      };
    });
    const out: InvoiceResult = {
      label,
      invoiceId: invoice.id,
      customer: customerName(key),
      currency,
      status: record?.status ?? 'NONE',
      totalTax: record?.totalTax ?? '?',
      sequenceTotalTax: seqInvoice.totalTax,
      ...(record?.reason ? { reason: record.reason } : {}),
      lines: lineResults,
      allMatch: settled === true && record?.status === 'CALCULATED' && lineResults.every((l) => l.matches) && sameMoney(record.totalTax, seqInvoice.totalTax),
    };
    result.invoices.push(out);
    print(lineTable(lineResults, currency));
    print(
      keyValues([
        ['tax record', `${out.status}${record?.errorCode ? ` (${record.errorCode})` : ''}${out.reason ? `, reason ${out.reason}` : ''}`],
        ['invoice total tax', `Sphere ${out.totalTax} · Sequence ${out.sequenceTotalTax}  ${mark(sameMoney(out.totalTax, out.sequenceTotalTax))}`],
      ]),
    );
    if (settled === undefined) print(`  ✗ timed out after ${wait / 1000} s waiting for the tax (last record status: ${out.status})`);
    return out;
  };

  // -- 3. the taxed invoice ----------------------------------------------------------------------
  print(heading(`3. Invoice for ${customerName('ca')} (San Francisco, CA) — tax through webhooks`));
  const caInvoice = await step('3. Invoice taxed (US-CA)', async () => {
    const inv = await taxedInvoice('US-CA invoice', 'ca', 'USD', [
      { title: 'Analytics Platform, 12 seats', quantity: '12', rate: '49.99', priceId: priceIds.platformUSD },
      { title: 'Implementation services', quantity: '1', rate: '1250.00', priceId: priceIds.servicesUSD },
      { title: 'Admin training (exempt code)', quantity: '1', rate: '333.33', priceId: priceIds.trainingUSD },
    ]);
    print("  taxRate set = the rate the connector wrote on each Sequence line so that Sequence's own rounding,\n  round half-up(amount × taxRate), lands exactly on Sphere's sum of per-jurisdiction amounts\n  (1250.00 × a flat 8.625 % would round to 107.81; Sphere's three entries add up to 107.82).\n");
    return { value: inv, ok: inv.allMatch && inv.lines.some((l) => l.jurisdictions.length >= 2), result: `${inv.status}, tax ${inv.totalTax} USD; Sphere = Sequence on all ${inv.lines.length} lines` };
  });

  // -- 4. finalise ---------------------------------------------------------------------------------
  print(heading('4. Finalise it (POST …/invoices/{id}/finalize) — Sphere records the transaction'));
  let finalizedOk = false;
  if (!caInvoice) skip('4. Invoice finalised', 'no invoice');
  else {
    await step('4. Invoice finalised', async () => {
      const answer = await adminOk<{ invoice: { id: string; status: string; invoiceNumber: string | null; totalTax: string }; taxRecord: TaxRecordView }>(t, 'POST', `${base}/invoices/${caInvoice.invoiceId}/finalize`);
      print(`  Sequence invoice ${answer.invoice.invoiceNumber ?? caInvoice.invoiceId}: ${answer.invoice.status}; waiting for the Sphere transaction…`);
      const txn = await poll(() => sphereTransaction(t, caInvoice.invoiceId), wait);
      const recorded = await poll(async () => {
        const c = await getConnection(t, connection.id);
        return c.counts.transactionsRecorded >= 1 ? c : undefined;
      }, txn ? 10_000 : 0);
      const conn = recorded ?? (await getConnection(t, connection.id));
      const view = txn ? transactionView(txn) : undefined;
      result.finalized = { invoiceId: caInvoice.invoiceId, status: answer.invoice.status, invoiceNumber: answer.invoice.invoiceNumber, totalTax: answer.invoice.totalTax, ...(view ? { sphereTransaction: view } : {}), transactionsRecorded: conn.counts.transactionsRecorded };
      print(
        keyValues([
          ['Sequence invoice', `${answer.invoice.invoiceNumber ?? '(no number)'}  status ${answer.invoice.status}, totalTax ${answer.invoice.totalTax} USD`],
          ['Sphere transaction', view ? `${view.externalId}  type ${view.type}, status ${view.status}, ${view.lineCount} lines, tax ${view.tax ?? '?'} ${view.currency.toUpperCase()}` : 'NOT RECORDED'],
          ['tax: Sphere = Sequence', mark(sameMoney(view?.tax, answer.invoice.totalTax))],
          ['connector counts', `invoicesTaxed ${conn.counts.invoicesTaxed}, transactionsRecorded ${conn.counts.transactionsRecorded}, failures ${conn.counts.failures}`],
        ]),
      );
      finalizedOk = answer.invoice.status === 'FINAL' && view !== undefined && view.type === 'debit' && view.status === 'finalized' && sameMoney(view.tax, answer.invoice.totalTax);
      return { value: true, ok: finalizedOk, result: `${answer.invoice.status} (${answer.invoice.invoiceNumber ?? 'no number'}); Sphere ${view ? `${view.type} transaction ${view.status}, tax ${view.tax}` : 'transaction missing'}` };
    });
  }

  // -- 5. Canada ----------------------------------------------------------------------------------
  print(heading(`5. Invoice for ${customerName('on')} (Toronto, ON) — HST`));
  await step('5. Canadian invoice (HST)', async () => {
    const inv = await taxedInvoice('CA-ON invoice', 'on', 'CAD', [{ title: 'Analytics Platform, annual', quantity: '1', rate: '1999.00', priceId: priceIds.platformCAD }]);
    const hst = inv.lines.every((l) => l.jurisdictions.some((j) => j.taxType === 'hst'));
    return { value: inv, ok: inv.allMatch && hst, result: `${inv.status}, tax ${inv.totalTax} CAD (${inv.lines[0]?.jurisdictions.map((j) => `${j.taxType.toUpperCase()} ${j.percentage}%`).join(', ') || 'no jurisdictions'}); Sphere = Sequence` };
  });

  // -- 6. exempt ----------------------------------------------------------------------------------
  print(heading(`6. Invoice for ${customerName('exempt')} (TAX_EXEMPT)`));
  await step('6. Exempt customer', async () => {
    const inv = await taxedInvoice('exempt customer', 'exempt', 'USD', [
      { title: 'Analytics Platform, 40 seats', quantity: '40', rate: '45.00', priceId: priceIds.platformUSD },
      { title: 'Implementation services', quantity: '1', rate: '750.00', priceId: priceIds.servicesUSD },
    ]);
    const ok = inv.allMatch && sameMoney(inv.totalTax, '0') && inv.reason === 'customer_exempt';
    return { value: inv, ok, result: `${inv.status}, tax ${inv.totalTax} USD, reason ${inv.reason ?? '(none)'}` };
  });

  // -- 7. reverse charge ----------------------------------------------------------------------------
  print(heading(`7. Invoice for ${customerName('de')} (REVERSE_CHARGED, VAT id)`));
  await step('7. Reverse charge (DE)', async () => {
    const inv = await taxedInvoice('reverse charge', 'de', 'EUR', [{ title: 'Analytics Platform, annual', quantity: '1', rate: '4800.00', priceId: priceIds.platformEUR }]);
    const ok = inv.allMatch && sameMoney(inv.totalTax, '0') && inv.reason === 'reverse_charge';
    return { value: inv, ok, result: `${inv.status}, tax ${inv.totalTax} EUR, reason ${inv.reason ?? '(none)'}` };
  });

  // -- 8. credit note --------------------------------------------------------------------------------
  print(heading('8. Credit note against the finalised invoice'));
  if (!caInvoice || !finalizedOk) skip('8. Credit note', 'no finalised invoice');
  else {
    await step('8. Credit note', async () => {
      const services = caInvoice.lines[1]!;
      const cn = await sequence<{ id: string }>(t, 'POST', '/credit-notes', { customerId: customerIds.ca, currency: 'USD', invoiceId: caInvoice.invoiceId, memo: 'Implementation services refunded' });
      await sequence(t, 'POST', `/credit-notes/${cn.id}/line-items`, { title: `Refund: ${services.title}`, quantity: '1', rate: '1250.00', taxRate: services.taxRate, lineItemId: services.lineItemId, externalIds: [] });
      const issued = await sequence<{ id: string; status: string; totalTax: string; creditNoteNumber?: string }>(t, 'POST', `/credit-notes/${cn.id}/finalize-and-send`);
      print(`  credit note ${issued.creditNoteNumber ?? cn.id} issued in Sequence (status ${issued.status}, totalTax ${issued.totalTax}); waiting for the Sphere credit transaction…`);
      const txn = await poll(() => sphereTransaction(t, cn.id), wait);
      const view = txn ? transactionView(txn) : undefined;
      result.creditNote = { id: cn.id, status: issued.status, totalTax: issued.totalTax, ...(view ? { sphereTransaction: view } : {}) };
      print(
        keyValues([
          ['Sequence credit note', `${issued.creditNoteNumber ?? cn.id}  status ${issued.status}, 1 line (${services.title}, 1250.00 at taxRate ${services.taxRate}), totalTax ${issued.totalTax} USD`],
          ['Sphere transaction', view ? `${view.externalId}  type ${view.type}, status ${view.status}, tax ${view.tax ?? '?'} ${view.currency.toUpperCase()}` : 'NOT RECORDED'],
          ['original_transaction_id', view?.originalTransactionId ? `${view.originalTransactionId}  ${mark(view.originalTransactionId === caInvoice.invoiceId)} (the finalised invoice)` : 'missing'],
          ['tax: Sphere = Sequence', mark(sameMoney(view?.tax, issued.totalTax))],
        ]),
      );
      const ok = view !== undefined && view.type === 'credit' && view.originalTransactionId === caInvoice.invoiceId && sameMoney(view.tax, issued.totalTax);
      return { value: true, ok, result: view ? `Sphere credit ${view.status}, tax ${view.tax}, original_transaction_id = invoice ${mark(view.originalTransactionId === caInvoice.invoiceId)}` : 'no Sphere credit transaction' };
    });
  }

  return finish(result, print);
}

function price(productRef: string, currency: string): Record<string, unknown> {
  return { productId: productRef, name: `List price ${currency}`, currency, structure: { pricingType: 'FIXED', price: '1.00' }, billingFrequency: 'MONTHLY', billingType: 'IN_ADVANCE' };
}

function finish(result: DemoResult, print: (text: string) => void): DemoResult {
  result.ok = result.steps.length > 0 && result.steps.every((s) => s.ok);
  print(heading('Summary'));
  print(
    table(result.steps, [
      { header: 'step', value: (s) => s.step },
      { header: 'result', value: (s) => s.result },
      { header: '', value: (s) => mark(s.ok) },
    ]),
  );
  const passed = result.steps.filter((s) => s.ok).length;
  print(result.ok ? `All ${passed} steps passed.` : `${passed} of ${result.steps.length} steps passed.`);
  return result;
}
