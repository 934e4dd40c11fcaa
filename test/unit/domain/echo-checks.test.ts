import { SphereFieldNotAcceptedError, assertEchoed, echoDifferences, refusedFields } from '../../../shared/domain/echo-checks';

describe('echoDifferences', () => {
  it('finds nothing when every field sent came back, amounts by value and extra fields ignored', () => {
    const sent = { external_id: 'c1', billing_address: { country: 'DE', postal_code: '10117' }, tax_ids: [{ type: 'eu_vat', value: 'DE1' }], amount: '100', skipped: undefined, nulled: null };
    const echoed = { id: 5, external_id: 'c1', billing_address: { country: 'DE', postal_code: '10117', extra: 1 }, tax_ids: [{ type: 'eu_vat', value: 'DE1' }], amount: '100.00' };
    expect(echoDifferences(sent, echoed)).toEqual([]);
  });

  it('names missing, changed and reshaped fields with the value sent', () => {
    const sent = { tax_exempt: 'exempt', billing_address: { postal_code: '10117' }, tax_ids: [{ type: 'eu_vat', value: 'DE1' }], name: 'A' };
    const echoed = { tax_exempt: true, billing_address: { zip: '10117' }, tax_ids: 'DE1', name: 'B' };
    expect(echoDifferences(sent, echoed)).toEqual([
      { field: 'tax_exempt', sent: '"exempt"', echoed: 'true' },
      { field: 'billing_address.postal_code', sent: '"10117"', echoed: '(missing)' },
      { field: 'tax_ids', sent: '[{"type":"eu_vat","value":"DE1"}]', echoed: '"DE1"' },
      { field: 'name', sent: '"A"', echoed: '"B"' },
    ]);
  });

  it('checks only the given paths, case-insensitively where asked, and tolerates numeric ids', () => {
    const sent = { currency: 'usd', customer_id: '42', line_items: [{ amount: '10.00', description: 'x' }], customer_address: { city: 'Berlin' } };
    const echoed = { currency: 'USD', customer_id: 42, line_items: [{ amount: '10', description: 'y' }] };
    expect(echoDifferences(sent, echoed, { only: ['currency', 'customer_id', 'line_items.*.amount'], caseInsensitive: ['currency'] })).toEqual([]);
    expect(echoDifferences(sent, echoed, { only: ['line_items.*.description'] })).toEqual([{ field: 'line_items.0.description', sent: '"x"', echoed: '"y"' }]);
  });

  it('reports a missing body as the whole record', () => {
    expect(echoDifferences({ status: 'cancelled' }, undefined)).toEqual([{ field: '(the whole record)', sent: '{"status":"cancelled"}', echoed: '(missing)' }]);
  });
});

describe('assertEchoed', () => {
  it('throws sphere_field_not_accepted (user kind) naming resource, field and value, with the fix', () => {
    let error: unknown;
    try {
      assertEchoed('customer', 'c1', { tax_exempt: 'reverse' }, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SphereFieldNotAcceptedError);
    expect(error).toMatchObject({ code: 'sphere_field_not_accepted', kind: 'user' });
    expect((error as Error).message).toBe('Sphere did not keep what the connector wrote to customer c1: tax_exempt: sent "reverse", Sphere returned (missing)');
    expect((error as SphereFieldNotAcceptedError).fix).toMatch(/field-names\.ts/);
    expect(() => assertEchoed('customer', 'c1', { a: '1' }, { a: '1.0' })).not.toThrow();
  });
});

describe('refusedFields', () => {
  const sent = { currency: 'usd', line_items: [{ amount: '1.00', quantity: '2' }, { amount: '3.00', quantity: '0.000000000001' }] };

  it("names the fields of the patterns a v1 400 body names, dotted or nested, with the value sent and Sphere's messages", () => {
    const expected = [{ field: 'line_items.1.quantity', sent: '"0.000000000001"', echoed: '"Too many digits. Really."' }];
    expect(refusedFields(sent, { 'line_items.1.quantity': ['Too many digits.', 'Really.'], currency: ['Bad.'] }, ['line_items.*.quantity'])).toEqual(expected);
    expect(refusedFields(sent, { line_items: [{}, { quantity: ['Too many digits.', 'Really.'] }] }, ['line_items.*.quantity'])).toEqual(expected);
  });

  it('finds nothing when the body names other fields or is not a field-error body', () => {
    expect(refusedFields(sent, { 'line_items.0.amount': ['Bad.'] }, ['line_items.*.quantity'])).toEqual([]);
    expect(refusedFields(sent, { type: 'api_error', code: 'validation_errors', message: 'x' }, ['line_items.*.quantity'])).toEqual([]);
    expect(refusedFields(sent, 'Bad Request', ['line_items.*.quantity'])).toEqual([]);
  });
});
