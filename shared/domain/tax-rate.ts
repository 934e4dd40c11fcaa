/**
 * Choosing the Sequence `taxRate` for one line so that the tax Sequence computes for it equals the
 * tax Sphere calculated, to the minor unit, in every currency. Pure.
 *
 * Sequence only accepts a rate per line and computes the tax itself, with the ONE rounding rule the
 * connector assumes (shared/domain/sequence-tax-rule.ts):
 *
 *     totalTax = round_half_up(netTotal × taxRate)   (to the currency's decimals, half away from zero)
 *
 * In minor units (N = netTotal, T = Sphere's summed tax_amounts for the line) we need a rate r ≥ 0 with
 * round_half_up(N × r) = T. For N > 0 and T ≥ 0 that holds exactly when
 *
 *     (T − ½) / N  ≤  r  <  (T + ½) / N
 *
 * (half-up: T − ½ rounds up to T, T + ½ rounds up to T + 1), an interval of width 1/N that is never
 * empty, so a rate always exists. Credit lines (N < 0, T ≤ 0) are the mirror image: rounding half away
 * from zero is symmetric, so the same interval with |N| and |T| applies. Two cases have NO rate:
 *  - `zero_net_with_tax`: N = 0 but T ≠ 0 — Sequence computes 0 × r = 0 whatever r is;
 *  - `sign_mismatch`: T has the opposite sign of N — it would need a negative rate.
 * Both are returned as an explicit `{ok: false}` result (and `chooseTaxRateOrThrow` turns them into a
 * ConnectorBugError): Sphere computes tax per entry from the same amount we send, so neither should
 * ever happen, and the invoice must then not be finalised with a made-up rate.
 *
 * Preference: the "nice" rate (sum of Sphere's percentages / 100, e.g. 8.25% → "0.0825") whenever it
 * already reproduces T exactly — the invoice then shows the real rate. Otherwise (per-entry rounding of
 * several jurisdictions can differ from rounding their sum by a cent) the shortest decimal inside the
 * interval, taking the one nearest the nice rate among equally short candidates. All arithmetic is on
 * integers (BigInt), so interval ends such as (T − ½)/3 never go through an inexact division.
 */
import { type CurrencyCode } from './currency';
import { Decimal } from './decimal';
import { ConnectorBugError } from './errors';
import { type MinorUnits, decimalToMinorUnits, minorUnitsToDecimal } from './money';
import { sequenceLineTax } from './sequence-tax-rule';

export type TaxRateChoice =
  | { ok: true; taxRate: string; source: 'nice' | 'searched' | 'any' }
  | { ok: false; reason: 'zero_net_with_tax' | 'sign_mismatch'; message: string };

export interface TaxRateRequest {
  /** The line's net total as Sequence shows it (decimal string in major units, e.g. "120.00"). */
  netTotal: string;
  /** Sphere's tax for the line: the sum of its tax_amounts[].amount, in minor units. */
  targetTax: MinorUnits;
  currency: CurrencyCode;
  /** Sphere's percentages for the line (e.g. ["6", "1.25", "1.375"]); [] when no tax applies. */
  percentages: readonly string[];
}

const MAX_DIGITS = 40;

/** Sum of percentages / 100 as a plain decimal string ("8.625" → "0.08625"); "0" for none. */
export function niceRate(percentages: readonly string[]): string {
  const sum = percentages.reduce((acc, p) => acc.plus(new Decimal(p)), new Decimal(0));
  return sum.dividedBy(100).toFixed();
}

function ceilDiv(a: bigint, b: bigint): bigint {
  // b > 0
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function formatRate(k: bigint, digits: number): string {
  return new Decimal(k.toString()).dividedBy(new Decimal(10).pow(digits)).toFixed();
}

/**
 * The shortest decimal r in [(2t − 1) / 2n, (2t + 1) / 2n) with r ≥ 0 (n > 0, t ≥ 0), nearest to
 * `prefer` among candidates with the same number of decimals.
 */
function shortestRateInInterval(n: bigint, t: bigint, prefer: Decimal): string {
  for (let digits = 0; digits <= MAX_DIGITS; digits++) {
    const scale = 10n ** BigInt(digits);
    // k / scale ≥ (2t − 1) / 2n  ⇔  k ≥ (2t − 1)·scale / 2n ;  k / scale < (2t + 1) / 2n  ⇔  2n·k < (2t + 1)·scale
    let kMin = ceilDiv((2n * t - 1n) * scale, 2n * n);
    if (kMin < 0n) kMin = 0n;
    const kMax = floorDiv((2n * t + 1n) * scale - 1n, 2n * n);
    if (kMin > kMax) continue;
    const preferred = BigInt(prefer.times(new Decimal(10).pow(digits)).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toFixed(0));
    const k = preferred < kMin ? kMin : preferred > kMax ? kMax : preferred;
    return formatRate(k, digits);
  }
  throw new ConnectorBugError('tax_rate_search_failed', `No rate with at most ${MAX_DIGITS} decimals reproduces ${t} on ${n}`);
}

/** Choose the rate (see the file comment). Never throws for valid input; impossible cases are `{ok: false}`. */
export function chooseTaxRate(request: TaxRateRequest): TaxRateChoice {
  const { netTotal, targetTax, currency } = request;
  const net = decimalToMinorUnits(netTotal, currency);
  const nice = niceRate(request.percentages);
  if (!Number.isSafeInteger(targetTax)) throw new RangeError(`targetTax must be a safe integer of minor units, got ${String(targetTax)}`);

  if (net === 0) {
    if (targetTax === 0) return { ok: true, taxRate: nice, source: 'any' };
    return {
      ok: false,
      reason: 'zero_net_with_tax',
      message: `A line with a zero net total cannot carry ${minorUnitsToDecimal(targetTax, currency)} ${currency} of tax in Sequence (tax = net × rate)`,
    };
  }
  if (targetTax !== 0 && Math.sign(targetTax) !== Math.sign(net)) {
    return {
      ok: false,
      reason: 'sign_mismatch',
      message: `Tax ${minorUnitsToDecimal(targetTax, currency)} has the opposite sign of the net total ${netTotal} ${currency}; Sequence would need a negative rate`,
    };
  }

  const target = minorUnitsToDecimal(targetTax, currency);
  if (sequenceLineTax(netTotal, nice, currency) === target) return { ok: true, taxRate: nice, source: 'nice' };

  const n = BigInt(Math.abs(net));
  const t = BigInt(Math.abs(targetTax));
  const taxRate = shortestRateInInterval(n, t, new Decimal(nice));
  if (sequenceLineTax(netTotal, taxRate, currency) !== target) {
    // The interval arithmetic above is exact; reaching this line means the rule changed without this file.
    throw new ConnectorBugError('tax_rate_parity_broken', `Rate ${taxRate} gives ${sequenceLineTax(netTotal, taxRate, currency)} instead of ${target} on ${netTotal} ${currency}`);
  }
  return { ok: true, taxRate, source: 'searched' };
}

/** `chooseTaxRate`, with the impossible cases as a ConnectorBugError `tax_not_representable`. */
export function chooseTaxRateOrThrow(request: TaxRateRequest): string {
  const choice = chooseTaxRate(request);
  if (!choice.ok) throw new ConnectorBugError('tax_not_representable', choice.message);
  return choice.taxRate;
}

/** True when `taxRate` on `netTotal` already yields exactly `targetTax` minor units under the Sequence rule. */
export function rateReproduces(netTotal: string, taxRate: string, targetTax: MinorUnits, currency: CurrencyCode): boolean {
  return sequenceLineTax(netTotal, taxRate, currency) === minorUnitsToDecimal(targetTax, currency);
}
