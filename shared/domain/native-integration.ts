/**
 * Signs that Sequence's own Sphere tax integration, or Sphere's own Sequence connector, is linked to
 * the same accounts (issue 13 §5): Sphere would then receive the same invoices from two systems and
 * count them twice. The connector tags a Sequence customer with `{service: "Sphere", id: <the
 * Sequence customer id>}` (its Sphere external id) and never tags prices or links documents, so:
 *  - a customer whose Sphere integration id is anything else was tagged by another service;
 *  - a price (or product) carrying a Sphere integration id, or an invoice with a `Sphere` linked
 *    service, was linked by another service.
 * A reconnect of the same account by this connector finds only its own tags: no warning.
 */
import { type Connection, type ConnectionWarning } from './connection';

export const NATIVE_SPHERE_WARNING_CODE = 'native_sphere_integration_detected';
export const SPHERE_SERVICE = 'Sphere';
/** Enough evidence to act on without flooding the connection record. */
export const MAX_NATIVE_EVIDENCE = 5;

export interface NativeLinkEvidence {
  resourceType: 'customer' | 'product' | 'price' | 'invoice';
  resourceId: string;
  /** What was found, e.g. `integrationIds: Sphere "cus_123"`. */
  found: string;
}

export function customerNativeEvidence(customer: { id: string; integrationIds: readonly { service: string; id: string }[] }): NativeLinkEvidence | undefined {
  const foreign = customer.integrationIds.find((i) => i.service === SPHERE_SERVICE && i.id !== customer.id);
  return foreign ? { resourceType: 'customer', resourceId: customer.id, found: `integrationIds: Sphere "${foreign.id}" (the connector writes "${customer.id}")` } : undefined;
}

/** A price (or a product, should Sequence show integration ids on products) with any Sphere integration id: the connector tags neither. */
export function catalogueNativeEvidence(
  resourceType: 'price' | 'product',
  record: { id: string; integrationIds?: readonly { service: string; id: string }[] | null },
): NativeLinkEvidence | undefined {
  const foreign = (record.integrationIds ?? []).find((i) => i.service === SPHERE_SERVICE);
  return foreign ? { resourceType, resourceId: record.id, found: `integrationIds: Sphere "${foreign.id}"` } : undefined;
}

export function invoiceNativeEvidence(invoice: { id: string; linkedServices: readonly { externalService: string; externalId: string }[] }): NativeLinkEvidence | undefined {
  const linked = invoice.linkedServices.find((l) => l.externalService === SPHERE_SERVICE);
  return linked ? { resourceType: 'invoice', resourceId: invoice.id, found: `linkedServices: Sphere "${linked.externalId}"` } : undefined;
}

/** The connection's warnings after a scan: the native-link warning set (first detection time kept) or removed. */
export function warningsAfterScan(connection: Pick<Connection, 'warnings'>, evidence: readonly NativeLinkEvidence[], now: string): ConnectionWarning[] {
  const others = (connection.warnings ?? []).filter((w) => w.code !== NATIVE_SPHERE_WARNING_CODE);
  if (evidence.length === 0) return others;
  const previous = connection.warnings?.find((w) => w.code === NATIVE_SPHERE_WARNING_CODE);
  const shown = evidence.slice(0, MAX_NATIVE_EVIDENCE);
  return [
    ...others,
    {
      code: NATIVE_SPHERE_WARNING_CODE,
      message:
        `A native Sequence↔Sphere integration seems linked to this account (${shown.map((e) => `${e.resourceType} ${e.resourceId}`).join(', ')}): ` +
        'Sphere would count the same invoices twice. Transactions are not recorded while it stands. Disconnect the native integration ' +
        '(Sequence: Integrations → Sphere; Sphere: Integrations → Sequence), or confirm running beside it with PATCH options.allowBesideNativeIntegration: true.',
      evidence: shown.map((e) => ({ ...e })),
      detectedAt: previous?.detectedAt ?? now,
      lastSeenAt: now,
    },
  ];
}

/** Transactions are held back while a native link stands and the operator has not confirmed running beside it. */
export function nativeLinkBlocksTransactions(connection: Pick<Connection, 'warnings' | 'options'>): ConnectionWarning | undefined {
  if (connection.options.allowBesideNativeIntegration === true) return undefined;
  return connection.warnings?.find((w) => w.code === NATIVE_SPHERE_WARNING_CODE);
}
