import DecimalJs from 'decimal.js';

/**
 * The one decimal type the connector computes with. 60 significant digits is far beyond any
 * invoice amount or rate, so multiplication and division of money never lose precision before
 * the explicit rounding step. Rounding is always explicit (`toDecimalPlaces(dp, mode)`).
 */
export const Decimal = DecimalJs.clone({ precision: 60, rounding: DecimalJs.ROUND_HALF_UP, toExpNeg: -30, toExpPos: 40 });
export type Decimal = DecimalJs;

/** A plain decimal string as both APIs write money, quantities and rates: `-12.50`, `0.2`, `100`. */
export const DECIMAL_STRING = /^-?\d+(\.\d+)?$/;

export function isDecimalString(value: string): boolean {
  return DECIMAL_STRING.test(value);
}

export function parseDecimal(value: string, what = 'value'): Decimal {
  if (typeof value !== 'string' || !DECIMAL_STRING.test(value)) {
    throw new RangeError(`${what} must be a decimal string like "12.50", got ${JSON.stringify(value)}`);
  }
  return new Decimal(value);
}
