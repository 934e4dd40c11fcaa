/**
 * "Does Sphere accept every tax code this connection is configured with?" (issue 13 §4, assumption
 * SPHERE-TAX-CODES.) Sphere assigns its own product tax codes; the connector has no built-in default
 * (`txcd_…` is Stripe's scheme). Checked at connect and by "Test credentials".
 *
 * How: calculate_tax names products, not codes, so each distinct code is put on the stand-in product
 * the invoice-tax flow uses for it anyway (`sequence-tax-category:<category>`, `…:none` for the
 * default), then quoted once with calculate_tax (a quote: nothing is recorded in Sphere). A code
 * Sphere refuses at either step is named with Sphere's reason; an outage is thrown (retryable).
 */
import { type TaxCodeMapping } from '../domain/connection';
import { ConnectorError, UserActionRequiredError } from '../domain/errors';
import { NO_CATEGORY } from '../domain/invoice-tax';
import { taxCategoryProductId } from '../domain/tax-codes';
import { type SphereClient } from '../sphere';

/** A stable, locatable address for the quote: Sphere answers for it whether or not the merchant is registered there. */
const QUOTE_ADDRESS = { line1: '1 Market St', city: 'San Francisco', state: 'CA', postalCode: '94105', country: 'US' };
/** $1.00: the amount does not matter, only whether the code is accepted. */
const QUOTE_AMOUNT_MINOR = 100;

export interface TaxCodeRejection {
  code: string;
  /** Where the code is configured: `taxCodes.default` or `taxCodes.byTaxCategory.<id>`. */
  configuredAs: string[];
  reason: string;
}

function codesToCheck(mapping: TaxCodeMapping): Map<string, { category: string; configuredAs: string[] }> {
  const out = new Map<string, { category: string; configuredAs: string[] }>();
  const add = (code: string, category: string, configuredAs: string) => {
    const entry = out.get(code);
    if (entry) entry.configuredAs.push(configuredAs);
    else out.set(code, { category, configuredAs: [configuredAs] });
  };
  add(mapping.default, NO_CATEGORY, 'taxCodes.default');
  for (const [category, code] of Object.entries(mapping.byTaxCategory)) add(code, category, `taxCodes.byTaxCategory.${category}`);
  return out;
}

async function rejectionOf(work: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await work();
    return undefined;
  } catch (error) {
    // Sphere refusing the code (a 400 on the product, invalid_product_tax_code on the quote, or not
    // keeping it: sphere_field_not_accepted) is the answer; an outage or a bug is not.
    if (error instanceof ConnectorError && error.kind === 'user') return `${error.code}: ${error.message}`;
    throw error;
  }
}

/** Every configured code Sphere did not accept, with why (empty: all accepted). */
export async function checkTaxCodes(sphere: SphereClient, mapping: TaxCodeMapping): Promise<TaxCodeRejection[]> {
  const rejections: TaxCodeRejection[] = [];
  for (const [code, { category, configuredAs }] of codesToCheck(mapping)) {
    const productId = taxCategoryProductId(category);
    const reason =
      (await rejectionOf(() => sphere.upsertProduct({ externalId: productId, name: category === NO_CATEGORY ? 'Sequence lines without a tax category' : `Sequence tax category ${category}`, taxCode: code }))) ??
      (await rejectionOf(() => sphere.calculateTax({ currency: 'usd', customerAddress: QUOTE_ADDRESS, lineItems: [{ id: 'tax-code-check', amount: QUOTE_AMOUNT_MINOR, productId }] })));
    if (reason) rejections.push({ code, configuredAs, reason });
  }
  return rejections;
}

export function describeRejections(rejections: readonly TaxCodeRejection[]): string {
  return rejections.map((r) => `"${r.code}" (${r.configuredAs.join(', ')}): ${r.reason}`).join('; ');
}

export const TAX_CODE_FIX =
  "Use your Sphere organisation's own product tax codes (Sphere > Products; Sphere assigns them, the connector has no default), then try again";

/** At connect: refuse a mapping with any code Sphere does not accept. */
export async function requireTaxCodesAccepted(sphere: SphereClient, mapping: TaxCodeMapping): Promise<void> {
  const rejections = await checkTaxCodes(sphere, mapping);
  if (rejections.length === 0) return;
  throw new UserActionRequiredError('sphere_tax_code_not_accepted', `Sphere did not accept ${rejections.length === 1 ? 'a configured tax code' : 'configured tax codes'}: ${describeRejections(rejections)}`, {
    fix: TAX_CODE_FIX,
  });
}
