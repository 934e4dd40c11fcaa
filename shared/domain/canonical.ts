/**
 * Content hashes that do not depend on property order: the sync flow's "did the customer change"
 * and the invoice-tax flow's input hash both use them. Pure.
 */
import { createHash } from 'node:crypto';

/** JSON with object keys sorted and undefined properties dropped (undefined elsewhere → null). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** sha256 of the canonical JSON of a value. */
export function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** A Sequence customer's tax treatment (`Customer.taxStatus`). */
export type SequenceTaxStatus = 'TAXED' | 'TAX_EXEMPT' | 'REVERSE_CHARGED';

/** The Sequence `Address` fields the connector reads (2024-07-30: `town`, `postcode`). */
export interface SequenceAddressLike {
  line1: string;
  line2?: string | null;
  town: string;
  state?: string | null;
  postcode: string;
  country: string;
}

/** An address as the Sphere model holds it (shared/sphere `SphereAddress`; wire names live in shared/sphere/field-names.ts). */
export interface SphereAddressLike {
  line1?: string;
  line2?: string;
  city?: string;
  /** US state / Canadian province code (`CA`, `ON`). */
  state?: string;
  postalCode?: string;
  /** ISO 3166-1 alpha-2 (`US`, `DE`). */
  country?: string;
}
