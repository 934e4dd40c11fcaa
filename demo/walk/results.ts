/** What `runDemoWalk` returns (what the integration test asserts) and its options. */
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
