import fc from 'fast-check';
import { CURRENCIES, currencyExponent, parseCurrency } from '../../../shared/domain/currency';
import { decimalToMinorUnits, minorUnitsToDecimal, roundToCurrency, sumMinorUnits } from '../../../shared/domain/money';

describe('money', () => {
  it.each(CURRENCIES)('round-trips minor units ↔ decimal strings for %s', (currency) => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000_000_000, max: 1_000_000_000_000 }), (minor) => {
        const decimal = minorUnitsToDecimal(minor, currency);
        const decimals = decimal.split('.')[1]?.length ?? 0;
        expect(decimals).toBe(currencyExponent(currency));
        expect(decimalToMinorUnits(decimal, currency)).toBe(minor);
      }),
      { numRuns: 300 },
    );
  });

  it('uses no minor unit for JPY, KRW, CLP and ISK and two for the rest', () => {
    for (const c of ['JPY', 'KRW', 'CLP', 'ISK'] as const) expect(currencyExponent(c)).toBe(0);
    expect(CURRENCIES.filter((c) => currencyExponent(c) === 0).sort()).toEqual(['CLP', 'ISK', 'JPY', 'KRW']);
    expect(decimalToMinorUnits('1500', 'JPY')).toBe(1500);
    expect(minorUnitsToDecimal(1500, 'JPY')).toBe('1500');
    expect(decimalToMinorUnits('51.20', 'USD')).toBe(5120);
    expect(minorUnitsToDecimal(-5, 'EUR')).toBe('-0.05');
  });

  it('refuses amounts with more decimals than the currency unless rounding is asked for', () => {
    expect(() => decimalToMinorUnits('1.005', 'USD')).toThrow(/more than 2 decimal/);
    expect(() => decimalToMinorUnits('10.5', 'JPY')).toThrow(/more than 0 decimal/);
    expect(decimalToMinorUnits('1.005', 'USD', 'half-up')).toBe(101);
    expect(decimalToMinorUnits('-1.005', 'USD', 'half-up')).toBe(-101);
    expect(decimalToMinorUnits('10.5', 'JPY', 'half-up')).toBe(11);
  });

  it('rejects floats and junk as input', () => {
    expect(() => decimalToMinorUnits('1e3', 'USD')).toThrow(/decimal string/);
    expect(() => decimalToMinorUnits('', 'USD')).toThrow(/decimal string/);
    expect(() => decimalToMinorUnits(12.5 as unknown as string, 'USD')).toThrow(/decimal string/);
    expect(() => minorUnitsToDecimal(1.5, 'USD')).toThrow(/safe integer/);
  });

  it('rounds any decimal to the currency half-up, exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.integer({ min: 0, max: 6 }), (digits, scale) => {
        const s = digits.toString();
        const neg = s.startsWith('-');
        const abs = (neg ? s.slice(1) : s).padStart(scale + 1, '0');
        const decimal = `${neg ? '-' : ''}${abs.slice(0, abs.length - scale)}${scale ? '.' + abs.slice(abs.length - scale) : ''}`;
        const rounded = roundToCurrency(decimal, 'USD');
        // Exact reference in bigint: scale to 2 decimals, round half away from zero.
        const absDigits = BigInt(abs);
        const ref = scale <= 2 ? absDigits * 10n ** BigInt(2 - scale) : (absDigits * 10n + 5n * 10n ** BigInt(scale - 2)) / 10n ** BigInt(scale - 1);
        expect(decimalToMinorUnits(rounded, 'USD')).toBe(Number(neg && ref !== 0n ? -ref : ref));
      }),
      { numRuns: 500 },
    );
  });

  it('parses currencies in either case and names the supported list when wrong', () => {
    expect(parseCurrency('usd')).toBe('USD');
    expect(() => parseCurrency('XXX')).toThrow(/Unsupported currency "XXX"/);
  });

  it('sums minor units and refuses non-integers', () => {
    expect(sumMinorUnits([600, 250, 1])).toBe(851);
    expect(() => sumMinorUnits([1, 0.5])).toThrow(/safe integer/);
  });
});
