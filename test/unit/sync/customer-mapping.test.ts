import fc from 'fast-check';
import { canonicalJson, exemptionChangeDeduplicationId, exemptionChanged, mapCustomerToSphere, productContentHash, registrationsHash, taxIdTypeFor, type SequenceCustomerForSphere } from '../../../shared/domain/customer-mapping';

const customer = (overrides: Partial<SequenceCustomerForSphere> = {}): SequenceCustomerForSphere => ({
  id: 'cus_1',
  legalName: ' Acme GmbH ',
  taxStatus: 'TAXED',
  address: { line1: 'Unter den Linden 1', line2: null, town: 'Berlin', state: null, postcode: '10117', country: 'de' },
  ...overrides,
});

describe('mapCustomerToSphere', () => {
  it('maps legal name, billing address, tax status and tax ids to the Sphere customer', () => {
    const mapped = mapCustomerToSphere(customer({ taxStatus: 'REVERSE_CHARGED' }), [{ taxIdentifier: 'DE123456789', country: 'DE' }]);
    expect(mapped.sphere).toEqual({
      externalId: 'cus_1',
      name: 'Acme GmbH',
      billingAddress: { line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' },
      taxIds: [{ type: 'eu_vat', value: 'DE123456789' }],
      exemptionStatus: 'reverse_charge',
    });
    expect(mapped.taxStatus).toBe('REVERSE_CHARGED');
  });

  it.each([
    ['TAXED', 'taxable'],
    ['TAX_EXEMPT', 'exempt'],
    ['REVERSE_CHARGED', 'reverse_charge'],
  ] as const)('tax status %s → exemption %s', (status, exemption) => {
    expect(mapCustomerToSphere(customer({ taxStatus: status }), []).sphere.exemptionStatus).toBe(exemption);
  });

  it('keeps a US state and upper-cases it; drops blank optional fields', () => {
    const mapped = mapCustomerToSphere(customer({ address: { line1: '1 Main', line2: '  ', town: 'Austin', state: 'tx', postcode: '78701', country: 'US' } }), []);
    expect(mapped.sphere.billingAddress).toEqual({ line1: '1 Main', city: 'Austin', state: 'TX', postalCode: '78701', country: 'US' });
  });

  it('tax id types follow the registration country', () => {
    expect(taxIdTypeFor('FR')).toBe('eu_vat');
    expect(taxIdTypeFor('GB')).toBe('gb_vat');
    expect(taxIdTypeFor('CA')).toBe('ca_bn');
    expect(taxIdTypeFor('US')).toBe('us_ein');
    expect(taxIdTypeFor('BR')).toBe('br_vat');
  });

  it('the content hash ignores registration order and duplicates, and changes with any field Sphere sees', () => {
    const regs = [
      { taxIdentifier: 'DE1', country: 'DE' },
      { taxIdentifier: 'FR2', country: 'FR' },
    ];
    const a = mapCustomerToSphere(customer(), regs);
    const b = mapCustomerToSphere(customer(), [...regs].reverse().concat(regs[0]!));
    expect(a.contentHash).toBe(b.contentHash);
    expect(a.registrationsHash).toBe(b.registrationsHash);
    expect(mapCustomerToSphere(customer({ legalName: 'Other' }), regs).contentHash).not.toBe(a.contentHash);
    expect(mapCustomerToSphere(customer({ taxStatus: 'TAX_EXEMPT' }), regs).contentHash).not.toBe(a.contentHash);
    expect(mapCustomerToSphere(customer(), regs.slice(0, 1)).registrationsHash).not.toBe(a.registrationsHash);
  });

  it('canonical JSON does not depend on key order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean())), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(record));
      }),
    );
  });

  it('product hash changes with the tax code', () => {
    expect(productContentHash({ externalId: 'p', name: 'n', taxCode: 'a' })).not.toBe(productContentHash({ externalId: 'p', name: 'n', taxCode: 'b' }));
  });
});

describe('exemptionChanged', () => {
  const regs = registrationsHash([{ taxIdentifier: 'X', country: 'DE' }]);
  it('is false on the first sync (nothing was taxed with the old treatment)', () => {
    expect(exemptionChanged(undefined, { taxStatus: 'TAX_EXEMPT', registrationsHash: regs }).changed).toBe(false);
  });
  it('detects a tax status change and a registrations change separately', () => {
    expect(exemptionChanged({ taxStatus: 'TAXED', registrationsHash: regs }, { taxStatus: 'TAX_EXEMPT', registrationsHash: regs })).toEqual({ changed: true, taxStatusChanged: true, registrationsChanged: false });
    expect(exemptionChanged({ taxStatus: 'TAXED', registrationsHash: 'old' }, { taxStatus: 'TAXED', registrationsHash: regs })).toEqual({ changed: true, taxStatusChanged: false, registrationsChanged: true });
    expect(exemptionChanged({ taxStatus: 'TAXED', registrationsHash: regs }, { taxStatus: 'TAXED', registrationsHash: regs }).changed).toBe(false);
  });
});

describe('exemptionChangeDeduplicationId', () => {
  const regs = registrationsHash([]);
  const id = (lastSyncedAt: string, from: 'TAXED' | 'TAX_EXEMPT', to: 'TAXED' | 'TAX_EXEMPT', customerId = 'cus_1') =>
    exemptionChangeDeduplicationId({ connectionId: 'conn_1', customerId, from: { taxStatus: from, registrationsHash: regs, lastSyncedAt }, to: { taxStatus: to, registrationsHash: regs } });

  it('is the same for the same change seen twice (a redelivery, or ensure racing the worker): SQS keeps one message', () => {
    expect(id('2026-01-01T00:00:00.000Z', 'TAXED', 'TAX_EXEMPT')).toBe(id('2026-01-01T00:00:00.000Z', 'TAXED', 'TAX_EXEMPT'));
  });

  it('differs for a later change of the same shape (TAXED → TAX_EXEMPT → TAXED → TAX_EXEMPT), so SQS does not drop it', () => {
    const first = id('2026-01-01T00:00:00.000Z', 'TAXED', 'TAX_EXEMPT');
    const back = id('2026-01-01T00:00:05.000Z', 'TAX_EXEMPT', 'TAXED');
    const again = id('2026-01-01T00:00:10.000Z', 'TAXED', 'TAX_EXEMPT');
    expect(new Set([first, back, again]).size).toBe(3);
  });

  it('differs per customer, and fits SQS (≤ 128 characters)', () => {
    const a = id('2026-01-01T00:00:00.000Z', 'TAXED', 'TAX_EXEMPT', 'cus_a');
    expect(a).not.toBe(id('2026-01-01T00:00:00.000Z', 'TAXED', 'TAX_EXEMPT', 'cus_b'));
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});
