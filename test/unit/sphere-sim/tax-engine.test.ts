import fc from 'fast-check';
import { Decimal } from '../../../shared/domain/decimal';
import { type CalculateTaxRequestWire } from '../../../shared/sphere/schemas';
import {
  DEFAULT_ESTABLISHMENT,
  DEFAULT_REGISTRATIONS,
  type EngineContext,
  type EngineCustomer,
  calculate,
  defaultTaxCodes,
  entryAmount,
  ratesFor,
  validateAddress,
} from '../../../local/sphere-sim/tax-engine';

const products: Record<string, { taxCode?: string | null }> = {
  saas: { taxCode: 'txcd_10000000' },
  free: { taxCode: 'txcd_00000000' },
  nocode: { taxCode: null },
  badcode: { taxCode: 'txcd_bogus' },
};

function ctx(overrides: Partial<EngineContext> = {}, customers: Record<string, EngineCustomer> = {}): EngineContext {
  return {
    product: (id) => products[id],
    customer: (id) => customers[id],
    registrations: new Set(DEFAULT_REGISTRATIONS),
    taxCodes: defaultTaxCodes(),
    establishment: DEFAULT_ESTABLISHMENT,
    ...overrides,
  };
}

const addr = {
  sf: { address1: '1 Market St', city: 'San Francisco', state: 'CA', postal_code: '94105', country: 'US' },
  nyc: { city: 'New York', state: 'NY', postal_code: '10001', country: 'US' },
  chicago: { city: 'Chicago', state: 'IL', postal_code: '60601', country: 'US' },
  denver: { city: 'Denver', state: 'CO', postal_code: '80202', country: 'US' },
  miami: { city: 'Miami', state: 'FL', postal_code: '33101', country: 'US' },
  toronto: { city: 'Toronto', state: 'ON', postal_code: 'M5V 2T6', country: 'CA' },
  halifax: { city: 'Halifax', state: 'NS', postal_code: 'B3H 1A1', country: 'CA' },
  vancouver: { city: 'Vancouver', state: 'BC', postal_code: 'V6B 1A1', country: 'CA' },
  montreal: { city: 'Montreal', state: 'QC', postal_code: 'H2Y 1C6', country: 'CA' },
  berlin: { city: 'Berlin', postal_code: '10115', country: 'DE' },
  paris: { city: 'Paris', postal_code: '75001', country: 'FR' },
  dublin: { city: 'Dublin', postal_code: 'D02 X285', country: 'IE' },
  london: { city: 'London', postal_code: 'SW1A 1AA', country: 'GB' },
  madrid: { city: 'Madrid', postal_code: '28001', country: 'ES' },
};

function req(address: CalculateTaxRequestWire['customer_address'], extra: Partial<CalculateTaxRequestWire> = {}, amount = 10000): CalculateTaxRequestWire {
  return { currency: 'usd', customer_address: address, line_items: [{ id: 'l1', amount, product_id: 'saas' }], include_taxability_reason: true, ...extra };
}

function run(r: CalculateTaxRequestWire, c: EngineContext = ctx()) {
  const result = calculate(r, c);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.lines;
}

const sum = (xs: { amount: number }[]) => xs.reduce((s, x) => s + x.amount, 0);
const pctSum = (xs: { tax_rate: { percentage: number } }[]) => xs.reduce((s, x) => s.plus(String(x.tax_rate.percentage)), new Decimal(0)).toFixed();

describe('Sphere simulator tax engine', () => {
  it('US multi-jurisdiction entries add up (CA state + county + district = 8.625%)', () => {
    const [line] = run(req(addr.sf));
    expect(line!.tax_amounts.map((e) => [e.tax_rate.jurisdiction, e.tax_rate.percentage, e.amount])).toEqual([
      ['California', 6, 600],
      ['San Francisco County', 1.25, 125],
      ['San Francisco Special Districts', 1.375, 138], // 137.5 rounds half-up
    ]);
    expect(line!.tax_amounts.every((e) => e.tax_rate.state === 'CA' && e.tax_rate.country === 'US' && e.tax_rate.tax_type === 'sales_tax')).toBe(true);
    expect(line!.tax_amounts[0]!.tax_rate.taxability_reason).toBe('standard_rated');
    expect(sum(line!.tax_amounts)).toBe(863);
  });

  it('NYC = state 4% + city 4.5% + MCTD 0.375%; Chicago 10.25%; Denver 8.81%', () => {
    const ny = run(req(addr.nyc))[0]!.tax_amounts;
    expect(ny.map((e) => e.tax_rate.jurisdiction)).toEqual(['New York', 'New York City', 'Metropolitan Commuter Transportation District']);
    expect(pctSum(ny)).toBe('8.875');
    expect(ny.map((e) => e.amount)).toEqual([400, 450, 38]);
    expect(pctSum(run(req(addr.chicago))[0]!.tax_amounts)).toBe('10.25');
    expect(pctSum(run(req(addr.denver))[0]!.tax_amounts)).toBe('8.81');
  });

  it('Canada: HST alone in ON (13%) and NS (14% since 2025-04-01), GST + PST in BC, GST + QST in QC', () => {
    const on = run(req(addr.toronto))[0]!.tax_amounts;
    expect(on.map((e) => [e.tax_rate.tax_type, e.tax_rate.percentage, e.amount])).toEqual([['hst', 13, 1300]]);
    expect(run(req(addr.halifax))[0]!.tax_amounts.map((e) => [e.tax_rate.tax_type, e.tax_rate.percentage, e.amount])).toEqual([['hst', 14, 1400]]);
    const bc = run(req(addr.vancouver))[0]!.tax_amounts;
    expect(bc.map((e) => [e.tax_rate.tax_type, e.amount])).toEqual([['gst', 500], ['pst', 700]]);
    const qc = run(req(addr.montreal))[0]!.tax_amounts;
    expect(qc.map((e) => [e.tax_rate.tax_type, e.tax_rate.percentage, e.amount])).toEqual([['gst', 5, 500], ['qst', 9.975, 998]]);
  });

  it('EU and UK VAT for consumers', () => {
    expect(run(req(addr.berlin))[0]!.tax_amounts.map((e) => [e.tax_rate.tax_type, e.tax_rate.percentage, e.amount])).toEqual([['vat', 19, 1900]]);
    expect(run(req(addr.paris))[0]!.tax_amounts.map((e) => e.amount)).toEqual([2000]);
    expect(run(req(addr.dublin))[0]!.tax_amounts.map((e) => e.amount)).toEqual([2300]);
    expect(run(req(addr.london))[0]!.tax_amounts.map((e) => [e.tax_rate.jurisdiction, e.amount])).toEqual([['United Kingdom', 2000]]);
  });

  it('no registration → empty tax_amounts with not_collecting (reason on the line)', () => {
    expect(run(req(addr.miami))).toEqual([{ id: 'l1', tax_amounts: [], taxability_reason: 'not_collecting' }]);
    expect(run(req(addr.madrid))).toEqual([{ id: 'l1', tax_amounts: [], taxability_reason: 'not_collecting' }]);
    // without include_taxability_reason the reason is omitted
    expect(run(req(addr.miami, { include_taxability_reason: false }))).toEqual([{ id: 'l1', tax_amounts: [] }]);
  });

  it('tax_exempt on the request, or stored on the customer, → customer_exempt', () => {
    expect(run(req(addr.sf, { tax_exempt: true }))[0]).toEqual({ id: 'l1', tax_amounts: [], taxability_reason: 'customer_exempt' });
    const c = ctx({}, { cus_ex: { exemption: 'exempt' } });
    expect(run(req(addr.sf, { customer_id: 'cus_ex' }), c)[0]!.taxability_reason).toBe('customer_exempt');
  });

  it('reverse charge: B2B across EU borders and UK↔EU, not domestic (seller established in IE)', () => {
    expect(run(req(addr.berlin, { tax_id: 'DE123456789' }))[0]).toEqual({ id: 'l1', tax_amounts: [], taxability_reason: 'reverse_charge' });
    expect(run(req(addr.london, { tax_id: 'GB123456789' }))[0]!.taxability_reason).toBe('reverse_charge');
    expect(run(req(addr.madrid, { tax_id: 'ESX1234567X' }))[0]!.taxability_reason).toBe('reverse_charge');
    // domestic B2B is taxed
    expect(sum(run(req(addr.dublin, { tax_id: 'IE1234567T' }))[0]!.tax_amounts)).toBe(2300);
    // tax ids stored on the customer count too; US tax ids do not reverse-charge
    const c = ctx({}, { cus_b2b: { taxIds: ['FR12345678901'] }, cus_rc: { exemption: 'reverse' } });
    expect(run(req(addr.paris, { customer_id: 'cus_b2b' }), c)[0]!.taxability_reason).toBe('reverse_charge');
    expect(run(req(addr.sf, { customer_id: 'cus_rc' }), c)[0]!.taxability_reason).toBe('reverse_charge');
    expect(sum(run(req(addr.sf, { tax_id: '12-3456789' }))[0]!.tax_amounts)).toBe(863);
  });

  it('non-taxable product code → product_exempt', () => {
    const r = req(addr.sf);
    r.line_items = [{ id: 'a', amount: 1000, product_id: 'free' }, { id: 'b', amount: 1000, product_id: 'saas' }];
    const lines = run(r);
    expect(lines.map((l) => l.id)).toEqual(['a', 'b']);
    expect(lines[0]).toEqual({ id: 'a', tax_amounts: [], taxability_reason: 'product_exempt' });
    expect(sum(lines[1]!.tax_amounts)).toBe(60 + 13 + 14);
  });

  it.each([
    ['missing city', { ...addr.sf, city: '' }],
    ['missing postal code', { ...addr.sf, postal_code: undefined }],
    ['missing country', { ...addr.sf, country: null }],
    ['US without a state', { ...addr.sf, state: undefined }],
    ['US with an unknown state', { ...addr.sf, state: 'ZZ' }],
    ['US postcode not 5 digits', { ...addr.sf, postal_code: '9410' }],
    ['Canadian postcode invalid', { ...addr.toronto, postal_code: '12345' }],
    ['the 00000 sentinel', { ...addr.berlin, postal_code: '00000' }],
  ])('invalid address (%s) → customer_tax_location_invalid', (_name, address) => {
    const result = calculate(req(address), ctx());
    expect(result).toEqual({ ok: false, error: { code: 'customer_tax_location_invalid', message: expect.any(String) } });
  });

  it.each([
    ['unknown product', 'ghost', /does not exist/],
    ['product without a code', 'nocode', /no product tax code/],
    ['product with an unknown code', 'badcode', /unknown product tax code/],
  ])('%s → invalid_product_tax_code', (_name, productId, message) => {
    const result = calculate({ ...req(addr.sf), line_items: [{ id: 'x', amount: 100, product_id: productId }] }, ctx());
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('invalid_product_tax_code');
      expect(result.error.message).toMatch(message);
    }
  });

  it('subtracts discounts and handles tax-inclusive lines', () => {
    const r = req(addr.berlin);
    r.line_items = [{ id: 'd', amount: 10000, discount_amount: 2500, product_id: 'saas' }, { id: 'i', amount: 11900, tax_inclusive: true, product_id: 'saas' }];
    const [d, i] = run(r);
    expect(d!.tax_amounts[0]).toMatchObject({ taxable_amount: 7500, amount: 1425 });
    expect(i!.tax_amounts[0]).toMatchObject({ taxable_amount: 10000, amount: 1900, tax_rate: { inclusive: true } });
  });

  it('validates addresses and resolves rates as documented', () => {
    expect(validateAddress({ city: 'Austin', state: 'tx', postal_code: '78701-1234', country: 'us' })).toEqual({ ok: true, country: 'US', state: 'TX' });
    expect(ratesFor({ city: 'Austin', state: 'TX', country: 'US' }).map((c) => c.percentage)).toEqual(['6.25', '1', '1']);
    expect(ratesFor({ city: 'Portland', state: 'OR', country: 'US' })).toEqual([]);
  });

  it('property: every entry is an integer equal to round-half-up(taxable × pct / 100)', () => {
    const addresses = Object.values(addr);
    fc.assert(
      fc.property(
        fc.constantFrom(...addresses),
        fc.array(fc.record({ amount: fc.integer({ min: -10_000_000, max: 100_000_000 }), discount: fc.integer({ min: 0, max: 5000 }), inclusive: fc.boolean() }), { minLength: 1, maxLength: 5 }),
        (address, lines) => {
          const r: CalculateTaxRequestWire = {
            currency: 'usd',
            customer_address: address,
            line_items: lines.map((l, i) => ({ id: `l${i}`, amount: l.amount, discount_amount: l.discount, tax_inclusive: l.inclusive, product_id: 'saas' })),
          };
          const out = run(r);
          expect(out.map((l) => l.id)).toEqual(r.line_items.map((l) => l.id));
          for (const line of out) {
            for (const e of line.tax_amounts) {
              expect(Number.isInteger(e.amount)).toBe(true);
              expect(Number.isInteger(e.taxable_amount)).toBe(true);
              const expected = new Decimal(e.taxable_amount).times(String(e.tax_rate.percentage)).dividedBy(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP);
              expect(e.amount).toBe(expected.toNumber());
              expect(e.amount).toBe(entryAmount(e.taxable_amount, String(e.tax_rate.percentage)));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
