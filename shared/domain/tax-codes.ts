/**
 * Sequence tax category → Sphere product tax code, per connection: the mapping wins, then the
 * connection's default. Pure; used by product sync and by the invoice-tax flow for lines
 * without a product.
 */
import { type TaxCodeMapping } from './connection';

/** Sphere's general "taxable SaaS / general service" code, used when a connection sets no default. */
export const DEFAULT_SPHERE_TAX_CODE = 'txcd_10000000';

export function sphereTaxCodeFor(mapping: TaxCodeMapping, taxCategoryId: string | null | undefined): string {
  if (taxCategoryId && Object.prototype.hasOwnProperty.call(mapping.byTaxCategory, taxCategoryId)) {
    return mapping.byTaxCategory[taxCategoryId]!;
  }
  return mapping.default;
}

/** External id of the Sphere product standing in for "a line of this tax category with no product". */
export function taxCategoryProductId(taxCategoryId: string): string {
  return `sequence-tax-category:${taxCategoryId}`;
}
