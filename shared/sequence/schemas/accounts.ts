/** The Sequence account (policy in ./index.ts). */
import * as z from 'zod';
import { CountryCodeSchema } from './common';

/** `SequenceAccount`. */
export const SequenceAccountSchema = z.looseObject({
  id: z.string(),
  createdAt: z.string(),
  sequenceOrganisationId: z.string(),
  companyName: z.string(),
  companyNumber: z.string(),
  country: CountryCodeSchema,
  sendCustomerNotifications: z.boolean(),
  alertEmailAddresses: z.array(z.string()),
});
export type SequenceAccount = z.infer<typeof SequenceAccountSchema>;
