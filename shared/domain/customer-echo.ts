/**
 * Recognising the CUSTOMER_UPDATED that our own tag PUT causes ("the echo"). Tagging a customer
 * with its Sphere integration id makes Sequence send CUSTOMER_UPDATED; re-reading the customer and
 * its tax registrations for it costs two Sequence calls per customer and changes nothing, which
 * made Sequence's budget, not Sphere's, the limit of a backfill. Pure.
 *
 * The fingerprint covers what the connector reads from a customer (id, legal name, address, tax
 * status, archivedAt, integration ids). The sync stores the fingerprint of the customer its PUT
 * returned; a CUSTOMER_UPDATED whose `resource` has the same fingerprint shows exactly the state
 * the connector has just synced, so it is skipped once. Anything else (another change, a
 * representation we do not recognise, no `resource`) gets the full re-read: a wrong guess about
 * the webhook payload costs Sequence calls, never correctness.
 */
import { canonicalJson, sha256Hex } from './canonical';

/** How long after the PUT its echo is expected (queues may be deep during a backfill). */
export const CUSTOMER_ECHO_WINDOW_MS = 60 * 60 * 1000;

const ADDRESS_FIELDS = ['line1', 'line2', 'town', 'state', 'postcode', 'country'] as const;

function text(value: unknown): string | null | undefined {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : undefined;
}

/** The fingerprint of a Sequence customer as the connector sees it, or undefined when it does not look like one. */
export function customerEchoFingerprint(resource: unknown): string | undefined {
  if (resource === null || typeof resource !== 'object' || Array.isArray(resource)) return undefined;
  const r = resource as Record<string, unknown>;
  if (typeof r.id !== 'string' || typeof r.legalName !== 'string' || typeof r.taxStatus !== 'string') return undefined;
  if (r.address === null || typeof r.address !== 'object' || !Array.isArray(r.integrationIds)) return undefined;
  const address: Record<string, string | null> = {};
  for (const field of ADDRESS_FIELDS) {
    const value = text((r.address as Record<string, unknown>)[field]);
    if (value === undefined) return undefined;
    address[field] = value;
  }
  const archivedAt = text(r.archivedAt);
  if (archivedAt === undefined) return undefined;
  const integrationIds: string[] = [];
  for (const entry of r.integrationIds as unknown[]) {
    if (entry === null || typeof entry !== 'object') return undefined;
    const { service, id } = entry as Record<string, unknown>;
    if (typeof service !== 'string' || typeof id !== 'string') return undefined;
    integrationIds.push(canonicalJson([service, id]));
  }
  integrationIds.sort();
  return sha256Hex(canonicalJson({ id: r.id, legalName: r.legalName, taxStatus: r.taxStatus, address, archivedAt, integrationIds }));
}

export interface ExpectedCustomerEcho {
  fingerprint: string;
  /** ISO time after which the echo is no longer expected. */
  until: string;
}

export function expectCustomerEcho(customerAfterPut: unknown, now: Date): ExpectedCustomerEcho | undefined {
  const fingerprint = customerEchoFingerprint(customerAfterPut);
  return fingerprint ? { fingerprint, until: new Date(now.getTime() + CUSTOMER_ECHO_WINDOW_MS).toISOString() } : undefined;
}

/** Is this CUSTOMER_UPDATED (by its resource fingerprint) the echo the link expects? */
export function isExpectedCustomerEcho(expected: ExpectedCustomerEcho | undefined, resourceFingerprint: string | undefined, now: Date): boolean {
  return Boolean(expected && resourceFingerprint && expected.fingerprint === resourceFingerprint && Date.parse(expected.until) > now.getTime());
}
