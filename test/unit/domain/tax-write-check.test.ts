import { ConnectorError } from '../../../shared/domain/errors';
import { thrownBy } from '../../support/thrown';
import {
  SequenceTaxMismatchError,
  assertNoTaxForExemptCustomer,
  assertReverseChargeHasTaxId,
  assertSequenceTaxMatches,
  invoiceTaxMismatch,
  lineTaxMismatches,
  recordedTaxDifference,
} from '../../../shared/domain/tax-write-check';

const thrown = (fn: () => void): ConnectorError => thrownBy(fn, ConnectorError);

describe('Sequence tax checks (sequence_tax_mismatch)', () => {
  const targets = [
    { lineItemId: 'l1', taxAmount: '0.83' },
    { lineItemId: 'l2', taxAmount: '2.40' },
  ];

  it('passes when every line shows Sphere amount, by value', () => {
    const lines = [
      { id: 'l1', netTotal: '10.05', taxRate: '0.0825', totalTax: '0.83' },
      { id: 'l2', netTotal: '30.00', taxRate: '0.08', totalTax: '2.4' },
    ];
    expect(lineTaxMismatches(targets, lines)).toEqual([]);
  });

  it('names the line, its net, the taxRate written and both amounts when Sequence rounds differently', () => {
    const lines = [
      { id: 'l1', netTotal: '10.05', taxRate: '0.0825', totalTax: '0.82' },
      { id: 'l2', netTotal: '30.00', taxRate: '0.08', totalTax: '2.40' },
    ];
    const mismatches = lineTaxMismatches(targets, lines);
    expect(mismatches).toEqual([{ lineItemId: 'l1', netTotal: '10.05', taxRate: '0.0825', sphereTax: '0.83', sequenceTax: '0.82' }]);
    const error = thrown(() => assertSequenceTaxMatches('inv_1', mismatches));
    expect(error).toBeInstanceOf(SequenceTaxMismatchError);
    expect(error.kind).toBe('user');
    expect(error.code).toBe('sequence_tax_mismatch');
    expect(error.message).toContain('line l1 (net 10.05, taxRate written 0.0825): Sphere 0.83, Sequence 0.82');
    expect(error.fix).toMatch(/not finalised/);
  });

  it('reports a missing line and a malformed amount instead of crashing', () => {
    expect(lineTaxMismatches(targets, [{ id: 'l2', netTotal: '30.00', taxRate: '0.08', totalTax: 'n/a' }])).toEqual([
      { lineItemId: 'l1', sphereTax: '0.83', sequenceTax: '(line missing)' },
      { lineItemId: 'l2', netTotal: '30.00', taxRate: '0.08', sphereTax: '2.40', sequenceTax: 'n/a' },
    ]);
  });

  it('compares the invoice total', () => {
    expect(invoiceTaxMismatch('3.23', '3.230')).toBeUndefined();
    const m = invoiceTaxMismatch('3.23', '3.22');
    expect(m).toEqual({ sphereTax: '3.23', sequenceTax: '3.22' });
    expect(thrown(() => assertSequenceTaxMatches('inv_1', [undefined, m])).message).toContain('invoice totalTax: Sphere 3.23, Sequence 3.22');
    expect(() => assertSequenceTaxMatches('inv_1', [undefined])).not.toThrow();
  });
});

describe('exempt and reverse-charged customers (sphere_charged_exempt_customer)', () => {
  const taxed = [
    { lineItemId: 'l1', taxAmount: '0.00' },
    { lineItemId: 'l2', taxAmount: '4.60' },
  ];

  it('lets a taxed customer be taxed, and an exempt customer with zero tax through', () => {
    expect(() => assertNoTaxForExemptCustomer({ invoiceId: 'i', customerId: 'c', taxStatus: 'TAXED', lines: taxed })).not.toThrow();
    expect(() => assertNoTaxForExemptCustomer({ invoiceId: 'i', customerId: 'c', taxStatus: 'TAX_EXEMPT', lines: [{ lineItemId: 'l1', taxAmount: '0' }] })).not.toThrow();
  });

  it('refuses tax on a reverse-charged customer with the Sphere account fix', () => {
    const error = thrown(() => assertNoTaxForExemptCustomer({ invoiceId: 'i', customerId: 'c', taxStatus: 'REVERSE_CHARGED', lines: taxed }));
    expect(error.code).toBe('sphere_charged_exempt_customer');
    expect(error.kind).toBe('user');
    expect(error.message).toContain('line l2 4.60');
    expect(error.fix).toMatch(/enable reverse charge in your Sphere account/i);
  });

  it('refuses tax on an exempt customer with the exemption fix', () => {
    const error = thrown(() => assertNoTaxForExemptCustomer({ invoiceId: 'i', customerId: 'c', taxStatus: 'TAX_EXEMPT', lines: taxed }));
    expect(error.fix).toMatch(/exemption in Sphere/);
  });

  it('requires a tax id for reverse charge', () => {
    expect(() => assertReverseChargeHasTaxId({ invoiceId: 'i', customerId: 'c', taxStatus: 'REVERSE_CHARGED', taxId: 'DE123456789' })).not.toThrow();
    expect(() => assertReverseChargeHasTaxId({ invoiceId: 'i', customerId: 'c', taxStatus: 'TAXED', taxId: undefined })).not.toThrow();
    const error = thrown(() => assertReverseChargeHasTaxId({ invoiceId: 'i', customerId: 'c', taxStatus: 'REVERSE_CHARGED', taxId: undefined }));
    expect(error.code).toBe('reverse_charge_without_tax_id');
    expect(error.kind).toBe('user');
  });
});

describe('recordedTaxDifference', () => {
  it('is Sphere minus the document by absolute amount, undefined when equal or unknown', () => {
    expect(recordedTaxDifference('10.87', '10.87')).toBeUndefined();
    expect(recordedTaxDifference('10.87', '-10.870')).toBeUndefined();
    expect(recordedTaxDifference('10.87', '0.00')).toBe('10.87');
    expect(recordedTaxDifference('2.00', '-2.50')).toBe('-0.5');
    expect(recordedTaxDifference(undefined, '1.00')).toBeUndefined();
  });
});
