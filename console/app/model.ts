/** The admin API's answers as the console reads them (only the fields it shows); no DOM here, so unit tests can import it. */
export interface ConnectionView {
  id: string;
  name: string;
  status: string;
  environment: string;
  sequenceAccountId: string;
  taxCodes: { default: string; byTaxCategory: Record<string, string> };
  options: { recordTransactions: boolean; calculateOnDraft: boolean };
  counts: { customersSynced: number; productsSynced: number; invoicesTaxed: number; transactionsRecorded: number; failures: number };
  backfill: { state: string; done: number; total: number };
  lastError?: { code: string; message: string; at: string };
  /** Conditions the connector reports without failing, e.g. a native Sequence↔Sphere integration found running beside it. */
  warnings?: { code: string; message: string }[];
}

/** Warnings to show on a connection: reported ones, and a last error about a native integration. */
export function connectionWarnings(c: ConnectionView): string[] {
  const reported = (c.warnings ?? []).map((w) => `${w.code}: ${w.message}`);
  if (c.lastError && /native/i.test(c.lastError.code)) reported.push(`${c.lastError.code}: ${c.lastError.message}`);
  return reported;
}

export interface SideReport {
  ok: boolean;
  code?: string;
  message?: string;
}
