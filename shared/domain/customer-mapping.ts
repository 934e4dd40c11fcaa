/**
 * Sequence customer (+ its tax registrations) → the Sphere v1 customer the connector upserts, and
 * the hashes that tell whether anything Sphere cares about changed since the last sync. Pure.
 *
 * The input and output types are structural on purpose: shared/domain may not import the Sequence
 * or Sphere clients (lint rule), yet a `Customer`/`CustomerListItem` from shared/sequence and a
 * `SphereCustomerInput` from shared/sphere fit them as they are.
 *
 * What goes to Sphere (and into the content hash): legal name, billing address, tax status as the
 * exemption status, and tax ids. Not contacts, not integration ids: tagging the Sequence customer
 * with its Sphere link must not make the next sync see a change (that would be a write loop).
 */
import { type SequenceAddressLike, type SequenceTaxStatus, type SphereAddressLike, canonicalJson, sha256Hex } from './canonical';

export { canonicalJson, type SequenceTaxStatus };

/** The customer fields the mapping reads (present on both GET /customers/{id} and list items). */
export interface SequenceCustomerForSphere {
  id: string;
  legalName: string;
  taxStatus: SequenceTaxStatus;
  address: SequenceAddressLike;
}

export interface SequenceTaxRegistrationForSphere {
  taxIdentifier: string;
  country: string;
  state?: string | null;
}

/** Same shape as shared/sphere `SphereCustomerInput` (camelCase model; wire names live in shared/sphere/field-names.ts). */
export interface SphereCustomerDraft {
  externalId: string;
  name: string;
  billingAddress: SphereAddressLike;
  taxIds: { type: string; value: string }[];
  exemptionStatus: 'taxable' | 'exempt' | 'reverse_charge';
}

export interface MappedCustomer {
  sphere: SphereCustomerDraft;
  /** sha256 of the canonical Sphere body: equal hash ⇒ nothing to write. */
  contentHash: string;
  /** sha256 of the tax registrations alone (an exemption-relevant change). */
  registrationsHash: string;
  taxStatus: SequenceTaxStatus;
}

export const EXEMPTION_STATUS_FOR: Record<SequenceTaxStatus, SphereCustomerDraft['exemptionStatus']> = {
  TAXED: 'taxable',
  TAX_EXEMPT: 'exempt',
  REVERSE_CHARGED: 'reverse_charge',
};

const EU_COUNTRIES = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
]);

const TAX_ID_TYPES: Record<string, string> = { GB: 'gb_vat', US: 'us_ein', CA: 'ca_bn', AU: 'au_abn', CH: 'ch_vat', NO: 'no_vat', NZ: 'nz_gst', IN: 'in_gst' };

/** Sphere tax id type for a registration country (Stripe-style vocabulary, see shared/sphere/field-names.ts). */
export function taxIdTypeFor(country: string): string {
  const cc = country.toUpperCase();
  if (cc === 'GR' || EU_COUNTRIES.has(cc)) return 'eu_vat';
  return TAX_ID_TYPES[cc] ?? `${cc.toLowerCase()}_vat`;
}

function present(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** Registrations in a stable order, duplicates (same country + id) removed. */
function normaliseRegistrations(registrations: readonly SequenceTaxRegistrationForSphere[]): { type: string; value: string; country: string; state?: string }[] {
  const seen = new Set<string>();
  const out: { type: string; value: string; country: string; state?: string }[] = [];
  for (const r of registrations) {
    const value = present(r.taxIdentifier);
    if (!value) continue;
    const country = r.country.toUpperCase();
    const key = `${country}|${value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const state = present(r.state);
    out.push({ type: taxIdTypeFor(country), value, country, ...(state ? { state } : {}) });
  }
  return out.sort((a, b) => (a.country + a.value < b.country + b.value ? -1 : a.country + a.value > b.country + b.value ? 1 : 0));
}

export function registrationsHash(registrations: readonly SequenceTaxRegistrationForSphere[]): string {
  return sha256Hex(canonicalJson(normaliseRegistrations(registrations)));
}

export function mapCustomerToSphere(customer: SequenceCustomerForSphere, registrations: readonly SequenceTaxRegistrationForSphere[]): MappedCustomer {
  const a = customer.address;
  const line2 = present(a.line2);
  const state = present(a.state);
  const sphere: SphereCustomerDraft = {
    externalId: customer.id,
    name: customer.legalName.trim(),
    billingAddress: {
      line1: present(a.line1),
      ...(line2 ? { line2 } : {}),
      city: present(a.town),
      ...(state ? { state: state.toUpperCase() } : {}),
      postalCode: present(a.postcode),
      country: present(a.country)?.toUpperCase(),
    },
    taxIds: normaliseRegistrations(registrations).map(({ type, value }) => ({ type, value })),
    exemptionStatus: EXEMPTION_STATUS_FOR[customer.taxStatus],
  };
  return {
    sphere,
    contentHash: sha256Hex(canonicalJson(sphere)),
    registrationsHash: registrationsHash(registrations),
    taxStatus: customer.taxStatus,
  };
}

/** Did the customer's tax treatment change between two syncs? (Drives the "exemption changed" message.) */
export function exemptionChanged(
  previous: { taxStatus?: SequenceTaxStatus; registrationsHash?: string } | undefined,
  current: { taxStatus: SequenceTaxStatus; registrationsHash: string },
): { changed: boolean; taxStatusChanged: boolean; registrationsChanged: boolean } {
  if (!previous || previous.taxStatus === undefined) return { changed: false, taxStatusChanged: false, registrationsChanged: false };
  const taxStatusChanged = previous.taxStatus !== current.taxStatus;
  const registrationsChanged = previous.registrationsHash !== undefined && previous.registrationsHash !== current.registrationsHash;
  return { changed: taxStatusChanged || registrationsChanged, taxStatusChanged, registrationsChanged };
}

/**
 * The SQS deduplication id of one exemption change: the customer's link *version* it changes from
 * (`lastSyncedAt`, rewritten by every sync) plus the treatment it changes to. A repeat of the same
 * sync (a redelivered webhook, a crash before the link was written, the invoice flow's ensure
 * racing the worker) reads the same link version and is deduplicated; a later change of the same
 * shape (TAXED → TAX_EXEMPT again, after a TAXED in between) starts from a newer version and is
 * not. Keying on the transition alone dropped that repeat within SQS FIFO's 5-minute window.
 */
export function exemptionChangeDeduplicationId(input: {
  connectionId: string;
  customerId: string;
  from: { taxStatus?: SequenceTaxStatus; registrationsHash?: string; lastSyncedAt: string };
  to: { taxStatus: SequenceTaxStatus; registrationsHash: string };
}): string {
  const { from, to } = input;
  return sha256Hex(
    canonicalJson({
      connectionId: input.connectionId,
      customerId: input.customerId,
      from: { version: from.lastSyncedAt, taxStatus: from.taxStatus ?? null, registrationsHash: from.registrationsHash ?? null },
      to: { taxStatus: to.taxStatus, registrationsHash: to.registrationsHash },
    }),
  );
}

/** Product: the content that matters to Sphere, and its hash. */
export interface SphereProductDraft {
  externalId: string;
  name: string;
  taxCode: string;
}

export function productContentHash(product: SphereProductDraft): string {
  return sha256Hex(canonicalJson(product));
}
