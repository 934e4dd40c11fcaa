/** Simulated Sequence products, prices and tax categories (2024-07-30). */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { isDecimalString } from '../../../shared/domain/decimal';
import { type Price, type Product, type TaxCategory } from '../../../shared/sequence/schemas';
import { badRequest, validationError } from '../errors';
import { SimCollection, compact, parse } from './context';
import { currency, integrationIds, nonBlank } from './request-fields';

const productBody = z.object({ name: nonBlank, label: z.string().optional(), taxCategoryId: z.string().optional() });

const priceBody = z.object({
  productId: nonBlank,
  name: nonBlank,
  currency,
  structure: z.looseObject({ pricingType: z.enum(['ONE_TIME', 'FIXED', 'LINEAR', 'PACKAGE', 'GRADUATED', 'VOLUME', 'SEAT_BASED']) }),
  billingFrequency: z.enum(['ON_DEMAND', 'ONE_TIME', 'MONTHLY', 'QUARTERLY', 'HALF_YEARLY', 'YEARLY', 'PER_EVENT']),
  billingType: z.enum(['IN_ARREARS', 'IN_ADVANCE']),
  integrationIds: integrationIds.optional(),
  customMetricParameters: z.array(z.object({ parameterId: z.string(), value: z.string() })).optional(),
  listPriceId: z.string().optional(),
  status: z.enum(['DRAFT', 'ACTIVE']).optional(),
});

const taxCategoryBody = z.object({ name: nonBlank, description: z.string().optional() });

export class Products extends SimCollection<'products'> {
  private store(id: string, raw: unknown, existing?: Product): Product {
    const body = parse(productBody, raw);
    this.ctx.checkTaxCategory(body.taxCategoryId);
    const now = this.ctx.iso();
    const product = compact({
      id,
      name: body.name,
      label: body.label,
      taxCategoryId: body.taxCategoryId,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      archivedAt: existing?.archivedAt ?? undefined,
    }) as Product;
    this.ctx.s.products[id] = product;
    this.ctx.changed();
    return product;
  }

  create(raw: unknown, opts: { id?: string } = {}): Product {
    return this.store(opts.id ?? randomUUID(), raw);
  }

  update(id: string, raw: unknown): Product {
    return this.store(id, raw, this.get(id));
  }

  archive(id: string): Product {
    const product = this.get(id);
    if (!product.archivedAt) product.archivedAt = this.ctx.iso();
    product.updatedAt = this.ctx.iso();
    this.ctx.changed();
    // Stable20240509ProductResponse: no taxCategoryId.
    const { taxCategoryId: _t, ...rest } = product;
    return rest as Product;
  }

  list(query: URLSearchParams): Product[] {
    const name = query.get('name')?.toLowerCase();
    return Object.values(this.records).filter((p) => !name || p.name.toLowerCase().includes(name));
  }
}

export class Prices extends SimCollection<'prices'> {
  create(raw: unknown): Price {
    const body = parse(priceBody, raw);
    if (!this.ctx.s.products[body.productId]) throw validationError([{ key: 'productId', message: `Product ${body.productId} does not exist` }]);
    const structurePrice = (body.structure as Record<string, unknown>).price;
    if ((body.structure.pricingType === 'FIXED' || body.structure.pricingType === 'ONE_TIME') && (typeof structurePrice !== 'string' || !isDecimalString(structurePrice))) {
      throw validationError([{ key: 'structure.price', message: 'structure.price must be a decimal string' }]);
    }
    const now = this.ctx.iso();
    const id = randomUUID();
    const price = compact({
      id,
      productId: body.productId,
      name: body.name,
      currency: body.currency,
      structure: body.structure,
      billingFrequency: body.billingFrequency,
      billingType: body.billingType,
      createdAt: now,
      updatedAt: now,
      integrationIds: (body.integrationIds ?? []).map((i) => ({ ...i, isPending: false })),
      customMetricParameters: body.customMetricParameters ?? [],
      listPriceId: body.listPriceId,
      status: body.status ?? 'ACTIVE',
    }) as Price;
    this.ctx.s.prices[id] = price;
    this.ctx.changed();
    return price;
  }

  list(query: URLSearchParams): Price[] {
    const productId = query.get('productId');
    const cur = query.get('currency');
    return Object.values(this.records).filter((p) => (!productId || p.productId === productId) && (!cur || p.currency === cur));
  }
}

export class TaxCategories extends SimCollection<'taxCategories'> {
  list(): TaxCategory[] {
    return Object.values(this.records);
  }

  create(raw: unknown, opts: { id?: string } = {}): TaxCategory {
    const body = parse(taxCategoryBody, raw);
    const id = opts.id ?? randomUUID();
    const cat = compact({ id, versionId: randomUUID(), sequenceAccountId: this.ctx.s.account.id, version: 1, isPublished: true, name: body.name, description: body.description }) as TaxCategory;
    this.ctx.s.taxCategories[id] = cat;
    this.ctx.changed();
    return cat;
  }

  update(id: string, raw: unknown): TaxCategory {
    const existing = this.get(id);
    const body = parse(taxCategoryBody, raw);
    const cat = compact({ ...existing, versionId: randomUUID(), version: (existing.version ?? 1) + 1, name: body.name, description: body.description }) as TaxCategory;
    this.ctx.s.taxCategories[id] = cat;
    for (const g of Object.values(this.ctx.s.lineItemGroups)) if (g.taxCategory?.id === id) g.taxCategory = { id, name: cat.name };
    this.ctx.changed();
    return cat;
  }

  delete(id: string): TaxCategory {
    const cat = this.get(id);
    if (Object.values(this.records).some((p) => p.taxCategoryId === id)) throw badRequest('Tax category is in use by a product');
    delete this.ctx.s.taxCategories[id];
    this.ctx.changed();
    return cat;
  }
}
