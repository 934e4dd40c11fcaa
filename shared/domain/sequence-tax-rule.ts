/**
 * How the connector assumes Sequence turns a line into money. This is the ONE place that rule
 * lives: the Sequence simulator computes with it, and the invoice-tax flow chooses `taxRate`s with it.
 *
 * Assumed (Sequence documents neither; verify against a sandbox):
 *  - `taxRate` is a fraction (`"0.2"` = 20%), as every documented example shows;
 *  - line `netTotal` = round(quantity × rate) to the currency's decimals, half-up;
 *  - line `totalTax` = round(netTotal × taxRate) to the currency's decimals, half-up (away from zero);
 *  - `grossTotal` = netTotal + totalTax; invoice totals are sums of line totals.
 */
import { type CurrencyCode } from './currency';
import { Decimal, parseDecimal } from './decimal';
import { roundToCurrency } from './money';

export function sequenceLineNetTotal(quantity: string, rate: string, currency: CurrencyCode): string {
  return roundToCurrency(parseDecimal(quantity, 'quantity').times(parseDecimal(rate, 'rate')), currency);
}

export function sequenceLineTax(netTotal: string, taxRate: string, currency: CurrencyCode): string {
  return roundToCurrency(parseDecimal(netTotal, 'netTotal').times(parseDecimal(taxRate, 'taxRate')), currency);
}

export function sequenceLineGross(netTotal: string, totalTax: string, currency: CurrencyCode): string {
  return roundToCurrency(parseDecimal(netTotal).plus(parseDecimal(totalTax)), currency);
}

export function sumDecimals(values: readonly string[], currency: CurrencyCode): string {
  return roundToCurrency(values.reduce((acc, v) => acc.plus(parseDecimal(v)), new Decimal(0)), currency);
}
