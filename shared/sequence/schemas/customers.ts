/** Sequence customers: responses, list items and the create/update body (policy in ./index.ts). */
import * as z from 'zod';
import { AddressRequestSchema, AddressSchema, ContactBillingPreferenceSchema, CustomerStatusSchema, IntegrationServiceSchema, TaxStatusSchema } from './common';

/** `IntegrationId1` (response). */
export const IntegrationIdSchema = z.looseObject({
  service: z.string(),
  id: z.string(),
  lastSynced: z.string().nullish(),
  isPending: z.boolean(),
});

/** `Contact`. */
export const ContactSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  billingPreference: ContactBillingPreferenceSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  archivedAt: z.string().nullish(),
});
export type Contact = z.infer<typeof ContactSchema>;

const customerCommon = {
  id: z.string(),
  createdAt: z.string(),
  organizations: z.array(z.looseObject({ id: z.string() })),
  legalName: z.string(),
  address: AddressSchema,
  url: z.string().nullish(),
  domain: z.string().nullish(),
  label: z.string().nullish(),
  integrationIds: z.array(IntegrationIdSchema),
  archivedAt: z.string().nullish(),
  taxStatus: TaxStatusSchema,
  customProperties: z.record(z.string(), z.string()),
};

/** `Customer` (GET/POST/PUT /customers/{id}, archive). */
export const CustomerSchema = z.looseObject({
  ...customerCommon,
  contacts: z.array(ContactSchema),
  status: CustomerStatusSchema,
});
export type Customer = z.infer<typeof CustomerSchema>;

/** `ListCustomerResponseModel`: list items omit `contacts` and `status`. */
export const CustomerListItemSchema = z.looseObject({
  ...customerCommon,
  contacts: z.array(ContactSchema).optional(),
  status: CustomerStatusSchema.optional(),
});
export type CustomerListItem = z.infer<typeof CustomerListItemSchema>;

/** `ContactRequestModel`. */
export const ContactRequestSchema = z.strictObject({
  name: z.string(),
  email: z.string(),
  billingPreference: ContactBillingPreferenceSchema,
});

/** `CreateOrUpdateCustomerRequest` — PUT is a full replace; `contacts` replaces all contacts. */
export const CustomerRequestSchema = z.strictObject({
  legalName: z.string().min(1),
  address: AddressRequestSchema,
  contacts: z.array(ContactRequestSchema),
  taxStatus: TaxStatusSchema,
  url: z.string().optional(),
  label: z.string().optional(),
  customerAliases: z.array(z.string()).optional(),
  integrationIds: z.array(z.strictObject({ service: IntegrationServiceSchema, id: z.string() })).optional(),
  parentId: z.string().optional(),
  pushToIntegrations: z.array(z.literal('Xero')).optional(),
  status: CustomerStatusSchema.optional(),
  customProperties: z.record(z.string(), z.string()).optional(),
});
export type CustomerRequest = z.infer<typeof CustomerRequestSchema>;
