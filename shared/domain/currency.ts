/**
 * Every currency in Sequence's `Currency` enum (OpenAPI 2024-07-30) with its ISO 4217 minor-unit
 * exponent. JPY, KRW, CLP and ISK have no minor unit; all others in the enum have two.
 */
export const CURRENCY_EXPONENTS = {
  AED: 2, ARS: 2, AUD: 2, BRL: 2, BGN: 2, CAD: 2, CHF: 2, CLP: 0, CNY: 2, COP: 2, CZK: 2, DKK: 2,
  EGP: 2, EUR: 2, GBP: 2, HKD: 2, ILS: 2, INR: 2, ISK: 0, JPY: 0, KRW: 0, MXN: 2, NOK: 2, NZD: 2,
  PLN: 2, SAR: 2, SEK: 2, SGD: 2, THB: 2, USD: 2, UYU: 2, ZAR: 2,
} as const;

export type CurrencyCode = keyof typeof CURRENCY_EXPONENTS;

export const CURRENCIES = Object.keys(CURRENCY_EXPONENTS) as CurrencyCode[];

export function isCurrencyCode(value: string): value is CurrencyCode {
  return Object.prototype.hasOwnProperty.call(CURRENCY_EXPONENTS, value);
}

export function currencyExponent(currency: CurrencyCode): number {
  return CURRENCY_EXPONENTS[currency];
}

/** Accepts `usd` or `USD` (Sphere lowercases, Sequence uppercases). */
export function parseCurrency(value: string): CurrencyCode {
  const upper = value.toUpperCase();
  if (!isCurrencyCode(upper)) {
    throw new RangeError(`Unsupported currency "${value}": Sequence supports ${CURRENCIES.join(', ')}`);
  }
  return upper;
}
