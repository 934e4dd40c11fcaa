/**
 * Sequence tax category → Sphere product tax code, per connection: the mapping wins, then the
 * connection's default. Pure; used by product sync and by the invoice-tax flow for lines
 * without a product. There is no built-in default code: Sphere assigns its own product tax codes
 * (`txcd_…` is Stripe's scheme), so connect requires `taxCodes.default` and checks every configured
 * code with Sphere (shared/connections/tax-codes-check.ts).
 */
import { type TaxCodeMapping } from './connection';

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
