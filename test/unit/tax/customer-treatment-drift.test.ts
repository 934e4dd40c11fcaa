/**
 * shared/domain/invoice-tax.ts customerTreatmentDrifted: the reconcile's test for a draft taxed for a
 * customer treatment (tax status, registrations) the connector has since synced a change of.
 */
import { registrationsHash } from '../../../shared/domain/customer-mapping';
import { type TaxRecord, customerTreatmentDrifted } from '../../../shared/domain/invoice-tax';

const none = registrationsHash([]);
const vat = registrationsHash([{ taxIdentifier: 'DE123456789', country: 'DE' }]);
const calculated = (overrides: Partial<TaxRecord> = {}) => ({ status: 'CALCULATED' as const, customerId: 'cus_1', taxStatus: 'TAXED' as const, registrationsHash: none, ...overrides });

describe('customerTreatmentDrifted', () => {
  it('is false while the record matches the customer as last synced', () => {
    expect(customerTreatmentDrifted(calculated(), 'cus_1', { taxStatus: 'TAXED', registrationsHash: none })).toBe(false);
  });

  it('is true when the tax status changed since the calculation (the exemption message was lost)', () => {
    expect(customerTreatmentDrifted(calculated(), 'cus_1', { taxStatus: 'TAX_EXEMPT', registrationsHash: none })).toBe(true);
    expect(customerTreatmentDrifted(calculated({ taxStatus: 'TAX_EXEMPT' }), 'cus_1', { taxStatus: 'TAXED', registrationsHash: none })).toBe(true);
  });

  it('is true when only the registrations changed', () => {
    expect(customerTreatmentDrifted(calculated({ taxStatus: 'REVERSE_CHARGED' }), 'cus_1', { taxStatus: 'REVERSE_CHARGED', registrationsHash: vat })).toBe(true);
  });

  it('is true when the draft now belongs to another customer', () => {
    expect(customerTreatmentDrifted(calculated(), 'cus_2', { taxStatus: 'TAXED', registrationsHash: none })).toBe(true);
  });

  it('judges only what it knows: an older record without registrations, a customer never synced, a record that is not CALCULATED', () => {
    const { registrationsHash: _omitted, ...older } = calculated();
    expect(customerTreatmentDrifted(older, 'cus_1', { taxStatus: 'TAXED', registrationsHash: vat })).toBe(false);
    expect(customerTreatmentDrifted(older, 'cus_1', { taxStatus: 'TAX_EXEMPT', registrationsHash: vat })).toBe(true);
    expect(customerTreatmentDrifted(calculated(), 'cus_1', undefined)).toBe(false);
    expect(customerTreatmentDrifted(calculated({ status: 'FAILED' }), 'cus_1', { taxStatus: 'TAX_EXEMPT' })).toBe(false);
  });
});
