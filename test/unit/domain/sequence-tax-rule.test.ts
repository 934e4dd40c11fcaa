import { sequenceLineGross, sequenceLineNetTotal, sequenceLineTax, sumDecimals } from '../../../shared/domain/sequence-tax-rule';

describe('the assumed Sequence line rounding rule', () => {
  it('rounds net and tax to the currency half-up', () => {
    expect(sequenceLineNetTotal('3', '33.335', 'USD')).toBe('100.01');
    expect(sequenceLineTax('100.00', '0.0725', 'USD')).toBe('7.25');
    expect(sequenceLineTax('10.10', '0.0725', 'USD')).toBe('0.73'); // 0.73225
    expect(sequenceLineTax('0.10', '0.05', 'USD')).toBe('0.01'); // 0.005 → half-up
    expect(sequenceLineTax('1000', '0.1', 'JPY')).toBe('100');
    expect(sequenceLineTax('1005', '0.1', 'JPY')).toBe('101'); // 100.5 → 101
    expect(sequenceLineTax('-0.10', '0.05', 'EUR')).toBe('-0.01'); // away from zero on credit lines
  });

  it('adds gross and sums exactly', () => {
    expect(sequenceLineGross('100.00', '7.25', 'USD')).toBe('107.25');
    expect(sumDecimals(['0.10', '0.20', '0.30'], 'USD')).toBe('0.60');
    expect(sumDecimals([], 'JPY')).toBe('0');
  });
});
