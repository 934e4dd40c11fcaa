/**
 * shared/domain/tax-rate.ts: the rate Sequence needs so that its line tax equals Sphere's, to the
 * minor unit. The property tests generate thousands of lines in every currency Sequence supports
 * (JPY/KRW/CLP/ISK included), with quantities × unit rates, credit lines, and multi-jurisdiction
 * percentage sets, simulate Sphere's per-entry rounding (round half-up of taxable × pct / 100 per
 * entry, summed) and check the chosen rate against THE Sequence rule (sequence-tax-rule.ts).
 */
import fc from 'fast-check';
import { CURRENCIES, type CurrencyCode, currencyExponent } from '../../../shared/domain/currency';
import { Decimal } from '../../../shared/domain/decimal';
import { decimalToMinorUnits, minorUnitsToDecimal } from '../../../shared/domain/money';
import { sequenceLineNetTotal, sequenceLineTax } from '../../../shared/domain/sequence-tax-rule';
import { chooseTaxRate, chooseTaxRateOrThrow, niceRate, rateReproduces } from '../../../shared/domain/tax-rate';

/** Sphere's rounding as the reference describes it: per entry, half-up (away from zero), in minor units. */
function sphereEntry(taxableMinor: number, percentage: string): number {
  return new Decimal(taxableMinor).times(percentage).dividedBy(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
}
function sphereLineTax(netMinor: number, percentages: readonly string[]): number {
  return percentages.reduce((sum, p) => sum + sphereEntry(netMinor, p), 0);
}

const currency = fc.constantFrom(...CURRENCIES);
/** Realistic jurisdiction rates (US state/county/city/district, CA GST/HST/PST/QST, EU/UK VAT, JCT) and arbitrary ones with up to 4 decimals. */
const knownPercent = fc.constantFrom('6', '1.25', '1.375', '2.25', '0.375', '4.5', '4.81', '0.1', '6.25', '8.875', '5', '13', '15', '7', '9.975', '19', '20', '21', '25.5', '10', '8.1', '2.9', '0');
const arbitraryPercent = fc.integer({ min: 0, max: 300_000 }).map((n) => new Decimal(n).dividedBy(10_000).toFixed()); // 0–30 % with 4 decimals
const percentages = fc.array(fc.oneof(knownPercent, arbitraryPercent), { minLength: 0, maxLength: 5 });

function decimalString(minUnits: number, maxUnits: number, decimals: number) {
  return fc.integer({ min: minUnits, max: maxUnits }).map((n) => new Decimal(n).dividedBy(new Decimal(10).pow(decimals)).toFixed());
}

function assertParity(net: string, cur: CurrencyCode, pcts: readonly string[]): void {
  const netMinor = decimalToMinorUnits(net, cur);
  const target = sphereLineTax(netMinor, pcts);
  const choice = chooseTaxRate({ netTotal: net, targetTax: target, currency: cur, percentages: pcts });
  if (netMinor === 0 && target !== 0) {
    expect(choice.ok).toBe(false);
    return;
  }
  if (!choice.ok) throw new Error(`no rate for ${net} ${cur} ${pcts.join('+')}: ${choice.message}`);
  expect(sequenceLineTax(net, choice.taxRate, cur)).toBe(minorUnitsToDecimal(target, cur));
  expect(new Decimal(choice.taxRate).isNegative()).toBe(false);
}

describe('chooseTaxRate — property: Sequence line tax == Sphere summed tax, exactly', () => {
  it('holds for net amounts in every currency (positive, negative and zero)', () => {
    fc.assert(
      fc.property(currency, fc.integer({ min: -5_000_000_000, max: 5_000_000_000 }), percentages, (cur, netMinor, pcts) => {
        assertParity(minorUnitsToDecimal(netMinor, cur), cur, pcts);
      }),
      { numRuns: 5000 },
    );
  });

  it('holds for lines built from quantity × unit rate (fractional quantities and unit prices)', () => {
    fc.assert(
      fc.property(currency, decimalString(0, 100_000_000, 3), decimalString(-1_000_000, 100_000_000, 4), percentages, (cur, quantity, unitRate, pcts) => {
        const net = sequenceLineNetTotal(quantity, unitRate, cur);
        assertParity(net, cur, pcts);
      }),
      { numRuns: 5000 },
    );
  });

  it('holds for small amounts, where per-entry rounding differs most from rounding the summed rate', () => {
    fc.assert(
      fc.property(currency, fc.integer({ min: -2000, max: 2000 }), fc.array(knownPercent, { minLength: 2, maxLength: 4 }), (cur, netMinor, pcts) => {
        assertParity(minorUnitsToDecimal(netMinor, cur), cur, pcts);
      }),
      { numRuns: 5000 },
    );
  });

  it('holds for any reachable target on any net (not only Sphere-shaped targets)', () => {
    fc.assert(
      fc.property(currency, fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 0, max: 5_000_000 }), fc.boolean(), (cur, n, t, credit) => {
        const net = minorUnitsToDecimal(credit ? -n : n, cur);
        const target = credit ? -t : t;
        const rate = chooseTaxRateOrThrow({ netTotal: net, targetTax: target, currency: cur, percentages: [] });
        expect(rateReproduces(net, rate, target, cur)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('chooseTaxRate — examples', () => {
  it('prefers the nice rate (sum of percentages / 100) when it reproduces the amount', () => {
    // San Francisco: 6 + 1.25 + 1.375 = 8.625 % on 1000.00 USD → 86.25 USD either way.
    const target = sphereLineTax(100_000, ['6', '1.25', '1.375']);
    expect(target).toBe(8625);
    expect(chooseTaxRate({ netTotal: '1000.00', targetTax: target, currency: 'USD', percentages: ['6', '1.25', '1.375'] })).toEqual({ ok: true, taxRate: '0.08625', source: 'nice' });
  });

  it('searches the shortest rate when per-entry rounding differs from the summed rate', () => {
    // 1.05 USD: entries 6.3→6, 1.3125→1, 1.44375→1 = 8 cents; 8.625 % of 1.05 = 9.05625 → 9 cents.
    const pcts = ['6', '1.25', '1.375'];
    const target = sphereLineTax(105, pcts);
    expect(target).toBe(8);
    const choice = chooseTaxRate({ netTotal: '1.05', targetTax: target, currency: 'USD', percentages: pcts });
    expect(choice).toMatchObject({ ok: true, source: 'searched' });
    if (!choice.ok) throw new Error('unreachable');
    expect(sequenceLineTax('1.05', choice.taxRate, 'USD')).toBe('0.08');
    expect(choice.taxRate.replace(/^0\./, '').length).toBeLessThanOrEqual(3);
  });

  it('works in zero-decimal currencies (JPY 10 % JCT)', () => {
    expect(chooseTaxRate({ netTotal: '12345', targetTax: sphereLineTax(12345, ['10']), currency: 'JPY', percentages: ['10'] })).toEqual({ ok: true, taxRate: '0.1', source: 'nice' });
    expect(currencyExponent('JPY')).toBe(0);
  });

  it('gives credit lines (negative net) a positive rate that reproduces the negative tax', () => {
    const target = sphereLineTax(-1999, ['20']); // -399.8 → -400
    expect(target).toBe(-400);
    const rate = chooseTaxRateOrThrow({ netTotal: '-19.99', targetTax: target, currency: 'GBP', percentages: ['20'] });
    expect(sequenceLineTax('-19.99', rate, 'GBP')).toBe('-4.00');
  });

  it('returns zero tax as the nice rate 0 when Sphere applied nothing', () => {
    expect(chooseTaxRate({ netTotal: '250.00', targetTax: 0, currency: 'EUR', percentages: [] })).toEqual({ ok: true, taxRate: '0', source: 'nice' });
  });

  it('makes "zero net with tax" an explicit impossible case', () => {
    const choice = chooseTaxRate({ netTotal: '0.00', targetTax: 5, currency: 'USD', percentages: ['5'] });
    expect(choice).toMatchObject({ ok: false, reason: 'zero_net_with_tax' });
    expect(() => chooseTaxRateOrThrow({ netTotal: '0.00', targetTax: 5, currency: 'USD', percentages: ['5'] })).toThrow(expect.objectContaining({ code: 'tax_not_representable', kind: 'bug' }));
  });

  it('any rate reproduces zero tax on a zero net', () => {
    expect(chooseTaxRate({ netTotal: '0', targetTax: 0, currency: 'KRW', percentages: ['10'] })).toEqual({ ok: true, taxRate: '0.1', source: 'any' });
  });

  it('makes tax of the opposite sign an explicit impossible case (it would need a negative rate)', () => {
    expect(chooseTaxRate({ netTotal: '10.00', targetTax: -1, currency: 'USD', percentages: [] })).toMatchObject({ ok: false, reason: 'sign_mismatch' });
  });

  it('computes the nice rate exactly', () => {
    expect(niceRate(['5', '9.975'])).toBe('0.14975');
    expect(niceRate([])).toBe('0');
  });
});
