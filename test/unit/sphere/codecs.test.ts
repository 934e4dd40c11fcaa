import fc from 'fast-check';
import { calculateTaxMoney, decodeCustomer, decodeTransaction, encodeCalculateTaxRequest, encodeCustomer, encodeTransaction, v1Money } from '../../../shared/sphere/codecs';
import { CalculateTaxRequestWireSchema, CustomerResponseWireSchema, TransactionResponseWireSchema } from '../../../shared/sphere/schemas';

describe('Sphere money codecs', () => {
  it('calculate_tax uses integer minor units, exactly', () => {
    expect(calculateTaxMoney.encode('51.20', 'USD')).toBe(5120);
    expect(calculateTaxMoney.encode('100', 'jpy')).toBe(100);
    expect(() => calculateTaxMoney.encode('1.005', 'USD')).toThrow(RangeError);
    expect(calculateTaxMoney.decode(5120, 'usd')).toBe('51.20');
  });

  it('v1 uses major-unit decimal strings with the currency decimals', () => {
    expect(v1Money.encode('51.2', 'USD')).toBe('51.20');
    expect(v1Money.encode('100', 'EUR')).toBe('100.00');
    expect(v1Money.fromMinorUnits(-5, 'EUR')).toBe('-0.05');
    expect(v1Money.toMinorUnits('100.00', 'JPY')).toBe(100);
    expect(() => v1Money.encode('0.001', 'GBP')).toThrow(RangeError);
  });

  it('round-trips minor units through both codecs', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), (minor) => {
        const s = v1Money.fromMinorUnits(minor, 'USD');
        expect(calculateTaxMoney.encode(s, 'USD')).toBe(minor);
        expect(v1Money.toMinorUnits(s, 'usd')).toBe(minor);
      }),
    );
  });
});

describe('Sphere body codecs', () => {
  it('encodes calculate_tax with lowercase currency and taxability reasons on by default', () => {
    const wire = encodeCalculateTaxRequest({
      currency: 'USD',
      customerAddress: { line1: '1 Main St', city: 'Austin', state: 'TX', postalCode: '78701', country: 'US' },
      lineItems: [{ id: 'li_1', amount: 10000, productId: 'prod_1' }],
      taxExempt: false,
    });
    expect(wire).toEqual({
      currency: 'usd',
      line_items: [{ id: 'li_1', amount: 10000, product_id: 'prod_1' }],
      customer_address: { address1: '1 Main St', city: 'Austin', state: 'TX', postal_code: '78701', country: 'US' },
      tax_exempt: false,
      include_taxability_reason: true,
    });
    expect(CalculateTaxRequestWireSchema.safeParse(wire).success).toBe(true);
  });

  it('round-trips a customer through the v1 wire format', () => {
    const input = {
      externalId: 'cus_1', name: 'Acme GmbH', email: 'ap@acme.test',
      billingAddress: { line1: 'Hauptstr. 1', city: 'Berlin', postalCode: '10115', country: 'DE' },
      taxIds: [{ type: 'eu_vat', value: 'DE123456789' }],
      exemptionStatus: 'reverse_charge' as const,
    };
    const wire = encodeCustomer(input);
    expect(wire).toMatchObject({ external_id: 'cus_1', tax_ids: [{ type: 'eu_vat', value: 'DE123456789' }], tax_exempt: 'reverse' });
    const back = decodeCustomer(CustomerResponseWireSchema.parse(wire));
    expect(back).toEqual({ ...input, rawExemptionStatus: 'reverse' });
  });

  it('encodes transaction amounts as two-decimal strings and decodes the response', () => {
    const wire = encodeTransaction({
      externalId: 'inv_1', type: 'debit', status: 'finalized', customerId: 'cus_1', currency: 'EUR',
      lineItems: [{ id: 'l1', productId: 'p1', amount: '100', discountAmount: '5.5' }],
    });
    expect(wire).toEqual({
      external_id: 'inv_1', type: 'debit', status: 'finalized', customer_id: 'cus_1', currency: 'eur',
      line_items: [{ id: 'l1', product_id: 'p1', amount: '100.00', discount_amount: '5.50' }],
    });
    const decoded = decodeTransaction(TransactionResponseWireSchema.parse({ ...wire, subtotal: '94.50', tax: '0.00', total: '94.50', currency: 'EUR' }));
    expect(decoded).toMatchObject({ externalId: 'inv_1', currency: 'eur', subtotal: '94.50', total: '94.50', lineItems: [{ productId: 'p1', amount: '100.00' }] });
  });
});
