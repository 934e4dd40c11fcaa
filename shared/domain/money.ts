/**
 * Money is never a float. Two representations cross the wire:
 *  - decimal strings in major units (`"51.20"`): Sequence everywhere, Sphere's v1 API;
 *  - integer minor units (`5120`): Sphere's calculate_tax.
 * The exponent comes from the currency (JPY/KRW/CLP/ISK have none). Conversions are exact, or
 * fail loudly, unless a caller asks for rounding by name.
 */
import { type CurrencyCode, currencyExponent } from './currency';
import { Decimal, parseDecimal } from './decimal';

/** An integer count of the currency's minor unit (cents, or yen for JPY). Always a safe integer. */
export type MinorUnits = number;

export type RoundingMode = 'exact' | 'half-up';

function assertSafeInteger(value: Decimal, what: string): number {
  const n = value.toNumber();
  if (!Number.isSafeInteger(n) || !value.equals(n)) {
    throw new RangeError(`${what} ${value.toFixed()} is outside the safe integer range of minor units`);
  }
  return n;
}

/**
 * `"51.20"` USD → 5120; `"100"` JPY → 100. With `exact` (the default) a value with more decimals
 * than the currency has (`"1.005"` USD) is an error; `half-up` rounds half away from zero.
 */
export function decimalToMinorUnits(amount: string, currency: CurrencyCode, rounding: RoundingMode = 'exact'): MinorUnits {
  const value = parseDecimal(amount, `${currency} amount`);
  const exponent = currencyExponent(currency);
  const scaled = value.times(new Decimal(10).pow(exponent));
  if (!scaled.isInteger()) {
    if (rounding === 'exact') {
      throw new RangeError(`${currency} amount "${amount}" has more than ${exponent} decimal place(s)`);
    }
    return assertSafeInteger(scaled.toDecimalPlaces(0, Decimal.ROUND_HALF_UP), `${currency} amount`);
  }
  return assertSafeInteger(scaled, `${currency} amount`);
}

/** 5120 USD → `"51.20"`; 100 JPY → `"100"`; -5 EUR → `"-0.05"`. Always exactly the currency's decimals. */
export function minorUnitsToDecimal(minor: MinorUnits, currency: CurrencyCode): string {
  if (!Number.isSafeInteger(minor)) {
    throw new RangeError(`minor units must be a safe integer, got ${String(minor)}`);
  }
  const exponent = currencyExponent(currency);
  return new Decimal(minor).dividedBy(new Decimal(10).pow(exponent)).toFixed(exponent);
}

/** Rewrite any decimal string with exactly the currency's decimals, rounding half-up. */
export function roundToCurrency(amount: string | Decimal, currency: CurrencyCode): string {
  const value = typeof amount === 'string' ? parseDecimal(amount, `${currency} amount`) : amount;
  const exponent = currencyExponent(currency);
  return value.toDecimalPlaces(exponent, Decimal.ROUND_HALF_UP).toFixed(exponent);
}

export function sumMinorUnits(values: readonly MinorUnits[]): MinorUnits {
  let total = 0;
  for (const v of values) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`minor units must be a safe integer, got ${String(v)}`);
    total += v;
  }
  if (!Number.isSafeInteger(total)) throw new RangeError('sum of minor units overflowed the safe integer range');
  return total;
}

/** Equality of two decimal money strings by value (`"1.50"` equals `"1.5"`). */
export function sameAmount(a: string, b: string): boolean {
  return parseDecimal(a).equals(parseDecimal(b));
}
