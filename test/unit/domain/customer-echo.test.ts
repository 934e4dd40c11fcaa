import { CUSTOMER_ECHO_WINDOW_MS, customerEchoFingerprint, expectCustomerEcho, isExpectedCustomerEcho } from '../../../shared/domain/customer-echo';

const customer = {
  id: 'cus_1',
  createdAt: '2026-01-01T00:00:00Z',
  legalName: 'Acme Ltd',
  address: { line1: '1 Main St', town: 'Austin', state: 'TX', postcode: '78701', country: 'US' },
  taxStatus: 'TAXED',
  integrationIds: [
    { service: 'Stripe', id: 'cus_s', isPending: false, lastSynced: '2026-01-01T00:00:00Z' },
    { service: 'Sphere', id: 'cus_1', isPending: false, lastSynced: '2026-01-01T00:00:00Z' },
  ],
  contacts: [{ email: 'a@example.com' }],
};

describe('customerEchoFingerprint', () => {
  it('does not depend on key order, integration-id order, fields the connector does not read, or null vs absent', () => {
    const reordered = {
      contacts: [],
      integrationIds: [...customer.integrationIds].reverse().map((i) => ({ ...i, lastSynced: '2026-02-02T00:00:00Z' })),
      taxStatus: 'TAXED',
      address: { country: 'US', postcode: '78701', state: 'TX', town: 'Austin', line1: '1 Main St', line2: null },
      legalName: 'Acme Ltd',
      id: 'cus_1',
      archivedAt: null,
    };
    expect(customerEchoFingerprint(reordered)).toBe(customerEchoFingerprint(customer));
  });

  it.each([
    ['legal name', { legalName: 'Acme Inc' }],
    ['address', { address: { ...customer.address, postcode: '78702' } }],
    ['tax status', { taxStatus: 'TAX_EXEMPT' }],
    ['archivedAt', { archivedAt: '2026-03-01T00:00:00Z' }],
    ['integration ids', { integrationIds: customer.integrationIds.slice(0, 1) }],
    ['id', { id: 'cus_2' }],
  ])('changes when the %s changes', (_name, change) => {
    expect(customerEchoFingerprint({ ...customer, ...change })).not.toBe(customerEchoFingerprint(customer));
  });

  it.each([
    ['null', null],
    ['an array', [customer]],
    ['a string', 'cus_1'],
    ['no id', { ...customer, id: undefined }],
    ['no address', { ...customer, address: undefined }],
    ['a numeric postcode', { ...customer, address: { ...customer.address, postcode: 78701 } }],
    ['no integration ids', { ...customer, integrationIds: undefined }],
    ['a malformed integration id', { ...customer, integrationIds: [{ service: 'Sphere' }] }],
  ])('is undefined for %s (so the worker re-reads)', (_name, resource) => {
    expect(customerEchoFingerprint(resource)).toBeUndefined();
  });
});

describe('isExpectedCustomerEcho', () => {
  const now = new Date('2026-11-21T10:00:00Z');
  const expected = expectCustomerEcho(customer, now)!;

  it('matches the same state inside the window only', () => {
    expect(expected.until).toBe(new Date(now.getTime() + CUSTOMER_ECHO_WINDOW_MS).toISOString());
    expect(isExpectedCustomerEcho(expected, customerEchoFingerprint(customer), now)).toBe(true);
    expect(isExpectedCustomerEcho(expected, customerEchoFingerprint(customer), new Date(now.getTime() + CUSTOMER_ECHO_WINDOW_MS))).toBe(false);
    expect(isExpectedCustomerEcho(expected, customerEchoFingerprint({ ...customer, legalName: 'Other' }), now)).toBe(false);
    expect(isExpectedCustomerEcho(expected, undefined, now)).toBe(false);
    expect(isExpectedCustomerEcho(undefined, customerEchoFingerprint(customer), now)).toBe(false);
  });

  it('expects nothing when the PUT answered something that is not a customer', () => {
    expect(expectCustomerEcho({ id: 'cus_1' }, now)).toBeUndefined();
  });
});
