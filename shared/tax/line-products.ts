/**
 * Which Sphere product a Sequence line is taxed and filed as: one decision for the calculation, the
 * debit transaction and the credit note, so a refund is filed under the same product tax code as
 * the sale it refunds.
 *
 *  - The rules are pure (`planLineProducts` in shared/domain/invoice-tax.ts: the product's own tax
 *    category, else the group's stand-in, else the product, else the "no category" stand-in).
 *  - A finalised invoice is filed as what Sphere calculated it with: the stored tax record's choice
 *    first, the planning rules (groups included) only for lines it does not cover.
 *  - A credit-note line resolves through the invoice line it refunds (`lineItemId`), so it gets the
 *    same product as the debit; a line that refunds no invoice line is planned on its own.
 * Here: loading the lines' Sequence products, ensuring the planned products in Sphere (the product
 * twins through the sync port, one stand-in product per tax category) and the resolvers.
 */
import { type Connection } from '../domain/connection';
import { type GroupLike, type LineLike, type LineProductPlan, NO_CATEGORY, type TaxRecord, planLineProducts, sphereProductIdFor } from '../domain/invoice-tax';
import { taxCategoryProductId } from '../domain/tax-codes';
import { forEachLimited } from '../runtime/concurrency';
import { type CreditNoteLineItem, type Product } from '../sequence';
import { type TaxClients, type TaxContext } from './context';

/** Product reads in flight at once. */
export const PRODUCT_READ_CONCURRENCY = 8;

/** lineItemId → external id of the Sphere product the line is taxed and filed as. */
export type LineProducts = Map<string, string>;

/** The distinct Sequence products the lines use. */
export function productIdsOf(lines: readonly LineLike[]): string[] {
  return [...new Set(lines.map((l) => l.productId).filter((id): id is string => Boolean(id)))];
}

/** The Sequence products of the lines, by id; `started` holds reads already under way (by product id). */
export async function loadProducts(clients: TaxClients, lines: readonly LineLike[], started?: ReadonlyMap<string, Promise<Product>>): Promise<Map<string, Product>> {
  const products = new Map<string, Product>();
  const ids = productIdsOf(lines);
  const early = ids.filter((id) => started?.has(id));
  const rest = ids.filter((id) => !started?.has(id));
  // In parallel: the client's per-key bucket lets a second's worth of calls go back to back.
  await Promise.all([
    forEachLimited(rest, PRODUCT_READ_CONCURRENCY, async (id) => products.set(id, await clients.sequence.getProduct(id))),
    ...early.map(async (id) => products.set(id, await started!.get(id)!)),
  ]);
  return products;
}

/**
 * The stand-in Sphere product for "a line of this tax category with no product of its own". Its tax
 * code follows the connection's mapping, so a changed mapping updates it.
 */
async function ensureStandInProduct(ctx: TaxContext, connection: Connection, clients: TaxClients, plan: LineProductPlan, categoryName: string | undefined): Promise<void> {
  const category = plan.standInCategory!;
  const externalId = taxCategoryProductId(category);
  const existing = await clients.sphere.getProduct(externalId);
  if (existing && existing.taxCode === plan.taxCode) return;
  await clients.sphere.upsertProduct({
    externalId,
    name: categoryName ? `Sequence tax category: ${categoryName}` : category === NO_CATEGORY ? 'Sequence lines without a tax category' : `Sequence tax category ${category}`,
    taxCode: plan.taxCode,
  });
  ctx.deps.logger.info('Upserted the stand-in Sphere product for a tax category', { connectionId: connection.id, externalId, taxCode: plan.taxCode });
}

/** Ensure in Sphere every product the plans use (product twins, stand-ins); the line → product map. */
export async function ensurePlannedProducts(
  ctx: TaxContext,
  connection: Connection,
  clients: TaxClients,
  input: { plans: readonly LineProductPlan[]; groups: readonly GroupLike[]; products: ReadonlyMap<string, Product> },
): Promise<LineProducts> {
  const productIds = input.plans.flatMap((p) => (p.productId ? [p.productId] : []));
  const synced = await ctx.sync.ensureProducts(ctx.deps, connection, clients, productIds, input.products);
  const categoryNames = new Map(input.groups.flatMap((g) => (g.taxCategory?.name ? [[g.taxCategory.id, g.taxCategory.name] as const] : [])));
  const standIns = new Map<string, LineProductPlan>();
  for (const plan of input.plans) if (plan.standInCategory && !standIns.has(plan.standInCategory)) standIns.set(plan.standInCategory, plan);
  for (const plan of standIns.values()) await ensureStandInProduct(ctx, connection, clients, plan, categoryNames.get(plan.standInCategory!));
  return new Map(input.plans.map((p) => [p.lineItemId, sphereProductIdFor(p, synced)]));
}

/** The products the stored calculation taxed each invoice line as (lineItemId → Sphere product). */
function recordedChoices(taxRecord: Pick<TaxRecord, 'lines'> | null | undefined): Map<string, string> {
  return new Map((taxRecord?.lines ?? []).filter((l) => l.sphereProductId).map((l) => [l.lineItemId, l.sphereProductId]));
}

/**
 * The Sphere product each line of a finalised document is filed as: the tax record's choice (what
 * Sphere calculated it with), else the planning rules. The planned products are ensured in Sphere;
 * with `ensureRecorded` also those of the lines the record covers (a credit note, possibly long
 * after the sale, brings its products up to date first).
 */
export async function resolveLineProducts(
  ctx: TaxContext,
  connection: Connection,
  clients: TaxClients,
  input: { lines: readonly LineLike[]; groups: readonly GroupLike[]; taxRecord?: Pick<TaxRecord, 'lines'> | null; ensureRecorded?: boolean },
): Promise<LineProducts> {
  const chosen = recordedChoices(input.taxRecord);
  const toPlan = input.ensureRecorded ? input.lines : input.lines.filter((l) => !chosen.has(l.id));
  let planned: LineProducts = new Map();
  if (toPlan.length > 0) {
    const products = await loadProducts(clients, toPlan);
    // A finalised document is recorded as it is: a missing category was the calculation's to refuse.
    const plans = planLineProducts({ lines: toPlan, groups: input.groups, products, requireTaxCategory: false, taxCodes: connection.taxCodes });
    planned = await ensurePlannedProducts(ctx, connection, clients, { plans, groups: input.groups, products });
  }
  return new Map(input.lines.map((l) => [l.id, chosen.get(l.id) ?? planned.get(l.id)!]));
}

/**
 * The Sphere product each credit-note line is filed as: that of the invoice line it refunds
 * (`lineItemId`), resolved as the debit was; a line that refunds no invoice line is planned on its
 * own (its product, else the "no category" stand-in).
 */
export async function resolveCreditLineProducts(
  ctx: TaxContext,
  connection: Connection,
  clients: TaxClients,
  input: { lines: readonly CreditNoteLineItem[]; invoiceId?: string; invoiceTaxRecord?: Pick<TaxRecord, 'lines'> | null },
): Promise<LineProducts> {
  // A credit note from scratch (no invoice) files each line under its own price's product.
  const [invoiceLines, groups] = input.invoiceId && input.lines.some((l) => l.lineItemId)
    ? await Promise.all([clients.sequence.listLineItems(input.invoiceId), clients.sequence.listLineItemGroups(input.invoiceId)])
    : [[], []];
  const invoiceLineById = new Map<string, LineLike>(invoiceLines.map((l) => [l.id, l]));
  // A credit line's own groupId names a credit-note group, which carries no tax category.
  const filedAs = new Map(input.lines.map((l) => [l.id, (l.lineItemId && invoiceLineById.get(l.lineItemId)) || { ...l, groupId: null }]));
  const lines = [...new Map([...filedAs.values()].map((l) => [l.id, l])).values()];
  const products = await resolveLineProducts(ctx, connection, clients, { lines, groups, taxRecord: input.invoiceTaxRecord, ensureRecorded: true });
  return new Map(input.lines.map((l) => [l.id, products.get(filedAs.get(l.id)!.id)!]));
}
