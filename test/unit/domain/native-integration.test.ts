import { NATIVE_SPHERE_WARNING_CODE, customerNativeEvidence, invoiceNativeEvidence, nativeLinkBlocksTransactions, catalogueNativeEvidence, warningsAfterScan } from '../../../shared/domain/native-integration';

describe('signs of a native Sequence↔Sphere integration', () => {
  it('a customer tagged with its own id is the connector’s tag; any other Sphere id is not', () => {
    expect(customerNativeEvidence({ id: 'cus_1', integrationIds: [{ service: 'Sphere', id: 'cus_1' }, { service: 'Xero', id: 'x9' }] })).toBeUndefined();
    expect(customerNativeEvidence({ id: 'cus_1', integrationIds: [{ service: 'Sphere', id: 'sph_77' }] })).toEqual({
      resourceType: 'customer',
      resourceId: 'cus_1',
      found: 'integrationIds: Sphere "sph_77" (the connector writes "cus_1")',
    });
  });

  it('a price with a Sphere id, or an invoice linked to Sphere, was linked by another service', () => {
    expect(catalogueNativeEvidence('price', { id: 'p1', integrationIds: [{ service: 'Stripe', id: 's' }] })).toBeUndefined();
    expect(catalogueNativeEvidence('price', { id: 'p1', integrationIds: [{ service: 'Sphere', id: 'sp' }] })).toMatchObject({ resourceType: 'price', resourceId: 'p1' });
    expect(catalogueNativeEvidence('product', { id: 'pr1', integrationIds: null })).toBeUndefined();
    expect(invoiceNativeEvidence({ id: 'i1', linkedServices: [] })).toBeUndefined();
    expect(invoiceNativeEvidence({ id: 'i1', linkedServices: [{ externalService: 'Sphere', externalId: 'txn_9' }] })).toEqual({
      resourceType: 'invoice',
      resourceId: 'i1',
      found: 'linkedServices: Sphere "txn_9"',
    });
  });
});

describe('the warning on the connection', () => {
  const evidence = [{ resourceType: 'customer' as const, resourceId: 'cus_1', found: 'x' }];
  const other = { code: 'something_else', message: 'm', evidence: [], detectedAt: 't0', lastSeenAt: 't0' };

  it('is set with the evidence, keeps its first detection time, and is removed once nothing shows it', () => {
    const first = warningsAfterScan({ warnings: [other] }, evidence, '2026-01-01T00:00:00Z');
    expect(first).toEqual([other, expect.objectContaining({ code: NATIVE_SPHERE_WARNING_CODE, evidence, detectedAt: '2026-01-01T00:00:00Z' })]);
    const again = warningsAfterScan({ warnings: first }, evidence, '2026-01-01T01:00:00Z');
    expect(again[1]).toMatchObject({ detectedAt: '2026-01-01T00:00:00Z', lastSeenAt: '2026-01-01T01:00:00Z' });
    expect(warningsAfterScan({ warnings: again }, [], '2026-01-01T02:00:00Z')).toEqual([other]);
  });

  it('holds transactions back unless the operator confirmed running beside the native integration', () => {
    const warnings = warningsAfterScan({}, evidence, 'now');
    expect(nativeLinkBlocksTransactions({ warnings, options: { recordTransactions: true, calculateOnDraft: true } })).toMatchObject({ code: NATIVE_SPHERE_WARNING_CODE });
    expect(nativeLinkBlocksTransactions({ warnings, options: { recordTransactions: true, calculateOnDraft: true, allowBesideNativeIntegration: true } })).toBeUndefined();
    expect(nativeLinkBlocksTransactions({ options: { recordTransactions: true, calculateOnDraft: true } })).toBeUndefined();
  });
});
