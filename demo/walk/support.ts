/**
 * What the demo's steps share: the wire shapes they read, the scenario data, the helpers that read
 * the connector and the simulators and print tables, and the walk's state (what earlier steps made).
 */
import { type ConnectionView } from '../../console/app/model';
import { type Column, table } from '../../cli/format';
import { Decimal } from '../../shared/domain/decimal';
import { SIM_TAX_CATEGORY_IDS } from '../../local/sequence-sim/server';
import { type DemoTargets, DemoHttpError, adminOk, sequence, sim } from '../http';
import { type DemoResult, type InvoiceResult, type JurisdictionView, type LineResult, type SphereTransactionView } from './results';

export type { Column, ConnectionView };

// ---------------------------------------------------------------------------------------------
// Wire shapes (only the fields the demo reads)
// ---------------------------------------------------------------------------------------------

export interface TaxRecordView {
  invoiceId: string;
  status: string;
  totalTax: string;
  reason?: string;
  errorCode?: string;
  lines: { lineItemId: string; amount: string; taxAmount: string; taxRate: string; jurisdictions: JurisdictionView[]; taxabilityReason?: string }[];
}

export interface SequenceLine {
  id: string;
  title: string;
  netTotal: string;
  totalTax: string;
  taxRate: string;
}

export interface SequenceInvoice {
  id: string;
  status: string;
  totalTax: string;
  netTotal: string;
  invoiceNumber?: string | null;
}

export interface SphereTransactionWire {
  external_id: string;
  type: string;
  status: string;
  currency: string;
  tax?: string | null;
  original_transaction_id?: string | null;
  line_items: unknown[];
}

export interface SphereState {
  customers: { external_id: string; tax_exempt?: string; tax_ids?: { type: string; value: string }[] }[];
  products: { external_id: string; name: string; tax_code?: string }[];
  transactions: SphereTransactionWire[];
}

// ---------------------------------------------------------------------------------------------
// The scenario data
// ---------------------------------------------------------------------------------------------

export const CATEGORY = SIM_TAX_CATEGORY_IDS;
export const TRAINING_CATEGORY = 'Training (demo)';

const SAN_FRANCISCO = { line1: '1 Market St', town: 'San Francisco', state: 'CA', postcode: '94105', country: 'US' };
const TORONTO = { line1: '100 King St W', town: 'Toronto', state: 'ON', postcode: 'M5X 1A9', country: 'CA' };
const BERLIN = { line1: 'Unter den Linden 1', town: 'Berlin', postcode: '10117', country: 'DE' };
const SACRAMENTO = { line1: '5735 47th Ave', town: 'Sacramento', state: 'CA', postcode: '95824', country: 'US' };

export interface DemoCustomer {
  key: 'ca' | 'on' | 'de' | 'exempt';
  legalName: string;
  address: Record<string, string>;
  taxStatus: 'TAXED' | 'TAX_EXEMPT' | 'REVERSE_CHARGED';
  currency: string;
  note: string;
}

/** A per-run suffix keeps names unique when the demo runs again against the same stack. */
export function customers(suffix: string): DemoCustomer[] {
  return [
    { key: 'ca', legalName: `Golden Gate Analytics Inc.${suffix}`, address: SAN_FRANCISCO, taxStatus: 'TAXED', currency: 'USD', note: 'US-CA, San Francisco (state + county + district)' },
    { key: 'on', legalName: `Maple Leaf Robotics Ltd.${suffix}`, address: TORONTO, taxStatus: 'TAXED', currency: 'CAD', note: 'Canada, Ontario (HST)' },
    { key: 'de', legalName: `Berliner Software GmbH${suffix}`, address: BERLIN, taxStatus: 'REVERSE_CHARGED', currency: 'EUR', note: 'Germany, VAT id DE811907980, reverse charge' },
    { key: 'exempt', legalName: `Sacramento Unified School District${suffix}`, address: SACRAMENTO, taxStatus: 'TAX_EXEMPT', currency: 'USD', note: 'US-CA, tax exempt' },
  ];
}

export interface DemoProduct {
  key: 'platform' | 'services' | 'training';
  name: string;
  category: string;
  categoryName: string;
}

export function price(productRef: string, currency: string): Record<string, unknown> {
  return { productId: productRef, name: `List price ${currency}`, currency, structure: { pricingType: 'FIXED', price: '1.00' }, billingFrequency: 'MONTHLY', billingType: 'IN_ADVANCE' };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

export const mark = (ok: boolean) => (ok ? '✓' : '✗');

export function sameMoney(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return false;
  try {
    return new Decimal(a).abs().equals(new Decimal(b).abs());
  } catch {
    return false;
  }
}

export function describe(error: unknown): string {
  if (error instanceof DemoHttpError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function heading(text: string): string {
  return `\n== ${text} ${'='.repeat(Math.max(3, 96 - text.length))}\n`;
}

type LineRow = { kind: 'line'; line: LineResult } | { kind: 'jurisdiction'; text: string; amount: string; last: boolean };

/** One row per line, then one indented row per Sphere jurisdiction (or the reason there is none). */
export function lineTable(lines: readonly LineResult[], currency: string): string {
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

export async function listAll<T>(t: DemoTargets, path: string): Promise<T[]> {
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

export async function sphereState(t: DemoTargets): Promise<SphereState> {
  return sim<SphereState>(t.sphereSimUrl, 'GET', '/_sim/state');
}

export function transactionView(w: SphereTransactionWire): SphereTransactionView {
  return { externalId: w.external_id, type: w.type, status: w.status, currency: w.currency, tax: w.tax ?? null, originalTransactionId: w.original_transaction_id ?? null, lineCount: w.line_items.length };
}

export async function sphereTransaction(t: DemoTargets, externalId: string): Promise<SphereTransactionWire | undefined> {
  return (await sphereState(t)).transactions.find((x) => x.external_id === externalId);
}

export async function getConnection(t: DemoTargets, id: string): Promise<ConnectionView> {
  return adminOk<ConnectionView>(t, 'GET', `/connections/${id}`);
}

// ---------------------------------------------------------------------------------------------
// The walk's state
// ---------------------------------------------------------------------------------------------

export interface TaxCodes {
  default: string;
  byTaxCategory: Record<string, string>;
}

/** The walk as it goes: its targets and scenario, and what earlier steps made (undefined until they succeed). */
export interface Walk {
  t: DemoTargets;
  print: (text: string) => void;
  /** Per wait (tax, backfill, transactions). */
  wait: number;
  result: DemoResult;
  customers: DemoCustomer[];
  products: DemoProduct[];
  categories: { id: string; name: string }[];
  trainingCategory: { id: string; name: string };
  taxCodes: TaxCodes;
  connection?: ConnectionView;
  seeded?: { customerIds: Record<DemoCustomer['key'], string>; priceIds: Record<'platformUSD' | 'servicesUSD' | 'trainingUSD' | 'platformCAD' | 'platformEUR', string> };
  caInvoice?: InvoiceResult;
  finalized?: boolean;
}

export const customerName = (w: Walk, key: DemoCustomer['key']) => w.customers.find((c) => c.key === key)!.legalName;
