/** Sequence tax registrations (a customer's tax id lives here) (policy in ./index.ts). */
import * as z from 'zod';
import { CountryCodeSchema, StateSchema } from './common';

/** `*TaxRegistrationResponseModel` / `GetTaxRegistrationForCustomerCustomerTaxRegistration`. */
export const TaxRegistrationSchema = z.looseObject({
  id: z.string(),
  sequenceAccountId: z.string(),
  taxIdentifier: z.string(),
  customerId: z.string().nullish(),
  merchantId: z.string().nullish(),
  country: CountryCodeSchema,
  state: StateSchema.nullish(),
});
export type TaxRegistration = z.infer<typeof TaxRegistrationSchema>;

/** `CreateTaxRegistrationEndpointCreateTaxRegistrationRequestModel` (and the PUT body). */
export const TaxRegistrationRequestSchema = z.strictObject({
  taxIdentifier: z.string().min(1),
  customerId: z.string().nullish(),
  merchantId: z.string().nullish(),
  country: CountryCodeSchema,
  state: StateSchema.nullish(),
});
export type TaxRegistrationRequest = z.infer<typeof TaxRegistrationRequestSchema>;
