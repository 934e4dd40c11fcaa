import wrapped from '../../fixtures/sphere/calculate-tax-wrapped.json';
import legacy from '../../fixtures/sphere/calculate-tax-legacy.json';
import quebec from '../../fixtures/sphere/calculate-tax-qc.json';
import { CalculateTaxResponseSchema, percentageToDecimalString } from '../../../shared/sphere/schemas';
import { Decimal } from '../../../shared/domain/decimal';

describe('calculate_tax response schema', () => {
  it('normalises the wrapped and the older top-level shape identically', () => {
    const a = CalculateTaxResponseSchema.parse(wrapped);
    const b = CalculateTaxResponseSchema.parse(legacy);
    expect(a).toEqual(b);
    expect(a.calculationId).toBe('cfd1e35a-1b2c-4d5e-8f90-1234567890ab');
    expect(a.lines.map((l) => l.id)).toEqual(['line_1', 'line_2']);
    expect(a.lines[0]!.taxAmounts).toEqual([
      {
        amount: 600, taxableAmount: 10000, percentage: '6', percentageNumber: 6, jurisdiction: 'South Carolina', displayName: 'Sales Tax',
        country: 'US', state: 'SC', taxType: 'sales_tax', inclusive: false, taxabilityReason: 'standard_rated',
      },
      expect.objectContaining({ amount: 100, percentage: '1', jurisdiction: 'Charleston County' }),
    ]);
    expect(a.lines[0]!.taxabilityReason).toBe('standard_rated');
    // The reason of an empty tax_amounts line sits on the line (field-names.ts).
    expect(a.lines[1]).toEqual({ id: 'line_2', taxAmounts: [], taxabilityReason: 'product_exempt' });
  });

  it('carries percentages as exact decimal strings', () => {
    const q = CalculateTaxResponseSchema.parse(quebec);
    expect(q.lines[0]!.taxAmounts.map((t) => t.percentage)).toEqual(['5', '9.975']);
    expect(percentageToDecimalString(0.1)).toBe('0.1');
    expect(percentageToDecimalString(8.875)).toBe('8.875');
    expect(percentageToDecimalString(1e-7)).toBe('0.0000001');
    // exact math downstream: 10000 × 9.975 / 100 = 997.5 exactly
    expect(new Decimal(10000).times(q.lines[0]!.taxAmounts[1]!.percentage).dividedBy(100).toFixed()).toBe('997.5');
  });

  it('accepts unknown tax types, a missing tax_type and a missing calculation id', () => {
    const r = CalculateTaxResponseSchema.parse({
      lines: [{ id: 'x', tax_amounts: [
        { amount: 1, taxable_amount: 10, tax_rate: { percentage: 10, jurisdiction: 'Somewhere', tax_type: 'brand_new_tax' } },
        { amount: 1, taxable_amount: 10, tax_rate: { percentage: 10 } },
      ] }],
    });
    expect(r.calculationId).toBeUndefined();
    expect(r.lines[0]!.taxAmounts.map((t) => t.taxType)).toEqual(['brand_new_tax', 'unknown']);
    expect(r.lines[0]!.taxAmounts[1]).toMatchObject({ jurisdiction: '', displayName: '', country: '', inclusive: false });
  });

  it('rejects non-integer money and missing lines', () => {
    const bad = structuredClone(wrapped) as { data: { lines: { tax_amounts: { amount: number }[] }[] } };
    bad.data.lines[0]!.tax_amounts[0]!.amount = 600.5;
    expect(CalculateTaxResponseSchema.safeParse(bad).success).toBe(false);
    expect(CalculateTaxResponseSchema.safeParse({ message: 'ok' }).success).toBe(false);
    expect(CalculateTaxResponseSchema.safeParse('<html>').success).toBe(false);
  });
});
