/**
 * Reality guards on the tax the connector writes to Sequence (issue 13 §1, §3). Pure comparisons:
 * the invoice-tax flow calls them with what Sphere answered and what Sequence returned, and stops
 * (no finalisation) when they differ.
 *
 *  - `sequence_tax_mismatch` (assumption SEQ-LINE-TAX-RULE): Sequence computes a line's `totalTax` from the
 *    `taxRate` we write exactly as shared/domain/sequence-tax-rule.ts says. Checked on every line PUT's
 *    response, on the lines left alone, and on the invoice's `totalTax` before finalising.
 *  - `sphere_charged_exempt_customer` (assumption SPHERE-EXEMPTION-HONOURED): Sphere returns no tax for a
 *    customer Sequence marks TAX_EXEMPT or REVERSE_CHARGED (reverse charge is an account setting in Sphere).
 *  - `reverse_charge_without_tax_id`: a REVERSE_CHARGED customer needs a tax id for Sphere to apply
 *    reverse charge; checked before any Sphere call.
 */
import { type SequenceTaxStatus } from './canonical';
import { UserActionRequiredError } from './errors';
import { isDecimalString, parseDecimal } from './decimal';

/** A line as Sequence holds it after our writes (a PUT's response, or the line as read). */
export interface LineAsSequenceHasIt {
  id: string;
  netTotal: string;
  taxRate: string;
  totalTax: string;
}

/** Sphere's tax for a line, as the tax record keeps it (decimal string in the invoice currency). */
export interface LineTaxTarget {
  lineItemId: string;
  taxAmount: string;
}

export interface SequenceTaxMismatch {
  /** Absent for the invoice total. */
  lineItemId?: string;
  netTotal?: string;
  taxRate?: string;
  sphereTax: string;
  sequenceTax: string;
}

/** Equal by value ("0.80" = "0.8"), i.e. the same minor units. A malformed amount from Sequence is a difference, reported as it came. */
function sameMoney(expected: string, actual: string): boolean {
  return isDecimalString(actual) && parseDecimal(expected).equals(parseDecimal(actual));
}

/** Lines whose tax in Sequence is not Sphere's amount (every target line must be present). */
export function lineTaxMismatches(targets: readonly LineTaxTarget[], lines: readonly LineAsSequenceHasIt[]): SequenceTaxMismatch[] {
  const byId = new Map(lines.map((l) => [l.id, l]));
  const out: SequenceTaxMismatch[] = [];
  for (const target of targets) {
    const line = byId.get(target.lineItemId);
    if (!line) {
      out.push({ lineItemId: target.lineItemId, sphereTax: target.taxAmount, sequenceTax: '(line missing)' });
      continue;
    }
    if (!sameMoney(target.taxAmount, line.totalTax)) {
      out.push({ lineItemId: line.id, netTotal: line.netTotal, taxRate: line.taxRate, sphereTax: target.taxAmount, sequenceTax: line.totalTax });
    }
  }
  return out;
}

/** The invoice's `totalTax` against Sphere's total; undefined when equal. */
export function invoiceTaxMismatch(sphereTotal: string, sequenceTotal: string): SequenceTaxMismatch | undefined {
  return sameMoney(sphereTotal, sequenceTotal) ? undefined : { sphereTax: sphereTotal, sequenceTax: sequenceTotal };
}

function describe(m: SequenceTaxMismatch): string {
  if (!m.lineItemId) return `invoice totalTax: Sphere ${m.sphereTax}, Sequence ${m.sequenceTax}`;
  const written = m.netTotal !== undefined ? ` (net ${m.netTotal}, taxRate written ${m.taxRate})` : '';
  return `line ${m.lineItemId}${written}: Sphere ${m.sphereTax}, Sequence ${m.sequenceTax}`;
}

export class SequenceTaxMismatchError extends UserActionRequiredError {
  readonly mismatches: readonly SequenceTaxMismatch[];

  constructor(invoiceId: string, mismatches: readonly SequenceTaxMismatch[]) {
    super('sequence_tax_mismatch', `Sequence shows different tax than Sphere computed on invoice ${invoiceId}: ${mismatches.map(describe).join('; ')}`, {
      fix:
        'The invoice was not finalised and stays DRAFT. Sequence does not compute tax from taxRate the way the connector assumes ' +
        '(a fraction, rounded half-up per line); report this with the amounts above so the rule (shared/domain/sequence-tax-rule.ts) can be corrected, then retry',
    });
    this.mismatches = mismatches;
  }
}

/** Throws `sequence_tax_mismatch` when any line or the total differs. */
export function assertSequenceTaxMatches(invoiceId: string, mismatches: readonly (SequenceTaxMismatch | undefined)[]): void {
  const found = mismatches.filter((m): m is SequenceTaxMismatch => m !== undefined);
  if (found.length > 0) throw new SequenceTaxMismatchError(invoiceId, found);
}

// ---------------------------------------------------------------------------------------------
// Exempt and reverse-charged customers
// ---------------------------------------------------------------------------------------------

/** Sequence tax statuses on which Sphere must return no tax. */
export function expectsNoTax(taxStatus: SequenceTaxStatus): boolean {
  return taxStatus === 'TAX_EXEMPT' || taxStatus === 'REVERSE_CHARGED';
}

/**
 * Sphere charged tax for a customer Sequence says owes none: nothing is written. Throws
 * `sphere_charged_exempt_customer` naming the taxed lines and what to fix in Sphere.
 */
export function assertNoTaxForExemptCustomer(input: { invoiceId: string; customerId: string; taxStatus: SequenceTaxStatus; lines: readonly LineTaxTarget[] }): void {
  if (!expectsNoTax(input.taxStatus)) return;
  const taxed = input.lines.filter((l) => !parseDecimal(l.taxAmount).isZero());
  if (taxed.length === 0) return;
  const reverse = input.taxStatus === 'REVERSE_CHARGED';
  throw new UserActionRequiredError(
    'sphere_charged_exempt_customer',
    `Sphere charged tax on invoice ${input.invoiceId} for customer ${input.customerId}, which Sequence marks ${input.taxStatus}: ` +
      `${taxed.map((l) => `line ${l.lineItemId} ${l.taxAmount}`).join(', ')}. Nothing was written to Sequence`,
    {
      fix: reverse
        ? "Enable reverse charge in your Sphere account (Sphere applies it only when the account is configured for it) and check the customer's tax id in Sequence, then retry"
        : "Check the customer's exemption in Sphere (the customer record and any exemption certificate), then retry",
    },
  );
}

/** A REVERSE_CHARGED customer without any tax id: Sphere cannot apply reverse charge. Checked before any Sphere call. */
export function assertReverseChargeHasTaxId(input: { invoiceId: string; customerId: string; taxStatus: SequenceTaxStatus; taxId: string | undefined }): void {
  if (input.taxStatus !== 'REVERSE_CHARGED' || input.taxId) return;
  throw new UserActionRequiredError(
    'reverse_charge_without_tax_id',
    `Customer ${input.customerId} is REVERSE_CHARGED in Sequence but has no tax id, so Sphere cannot apply reverse charge to invoice ${input.invoiceId}`,
    { fix: "Add the customer's VAT/GST number in Sequence (a tax registration, or the invoice's customer tax id), or change its tax status, then retry" },
  );
}

// ---------------------------------------------------------------------------------------------
// Tax Sphere recorded vs tax on the Sequence document
// ---------------------------------------------------------------------------------------------

/**
 * Sphere recomputes tax when it records a finalized transaction; the document may carry other tax
 * (finalised without a calculation, edited after it). Sphere's tax minus the document's, both taken
 * as absolute amounts (credit notes may be negative in Sequence), or undefined when equal or when
 * Sphere returned no tax. Kept on the transaction record as a reconciliation warning.
 */
export function recordedTaxDifference(sphereTax: string | undefined, documentTax: string): string | undefined {
  if (sphereTax === undefined || !isDecimalString(sphereTax) || !isDecimalString(documentTax)) return undefined;
  const difference = parseDecimal(sphereTax).abs().minus(parseDecimal(documentTax).abs());
  return difference.isZero() ? undefined : difference.toFixed();
}
