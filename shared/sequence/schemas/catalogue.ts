/** Sequence products, prices and tax categories (policy in ./index.ts). */
import * as z from 'zod';
import { CurrencySchema } from './common';

/** `Stable20240730ProductResponse` (archive answers `Stable20240509ProductResponse`, a subset + archivedAt). */
export const ProductSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  label: z.string().nullish(),
  taxCategoryId: z.string().nullish(),
  createdAt: z.string(),
  updatedAt: z.string(),
  archivedAt: z.string().nullish(),
});
export type Product = z.infer<typeof ProductSchema>;

/** `Stable20240730ProductRequest`. */
export const ProductRequestSchema = z.strictObject({
  name: z.string().min(1),
  label: z.string().optional(),
  taxCategoryId: z.string().optional(),
});
export type ProductRequest = z.infer<typeof ProductRequestSchema>;

/** `PriceResponse` (structure is a oneOf on `pricingType`; kept loose, the connector does not price). */
export const PriceSchema = z.looseObject({
  id: z.string(),
  productId: z.string(),
  name: z.string(),
  currency: CurrencySchema,
  structure: z.looseObject({ pricingType: z.string() }),
  billingFrequency: z.string(),
  billingType: z.string(),
  createdAt: z.string(),
  updatedAt: z.string().nullish(),
  integrationIds: z.array(z.looseObject({ service: z.string(), id: z.string() })),
  customMetricParameters: z.array(z.unknown()),
  status: z.string(),
});
export type Price = z.infer<typeof PriceSchema>;

/**
 * A tax category as the legacy (pre 2024-07-24) public spec documented `/tax-categories`:
 * `{id, versionId, sequenceAccountId, version, isPublished, name, description}`.
 */
export const TaxCategorySchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  versionId: z.string().nullish(),
  sequenceAccountId: z.string().nullish(),
  version: z.number().int().nullish(),
  isPublished: z.boolean().nullish(),
  description: z.string().nullish(),
});
export type TaxCategory = z.infer<typeof TaxCategorySchema>;

/** `TaxCategoryResponse` as embedded in line item groups. */
export const TaxCategoryRefSchema = z.looseObject({ id: z.string(), name: z.string() });
