/**
 * The request-body fields the simulated resources share: lenient about unknown keys, like a typical
 * JSON API; strict about types.
 */
import { z } from 'zod';
import { CURRENCIES, type CurrencyCode } from '../../../shared/domain/currency';
import { isDecimalString } from '../../../shared/domain/decimal';
import { COUNTRY_CODES, INTEGRATION_SERVICES, STATES } from '../../../shared/sequence/schemas';

export const decimal = z.string().refine(isDecimalString, 'must be a decimal string like "12.50"');
export const nonBlank = z.string().trim().min(1, 'should not be blank');
export const currency = z.enum(CURRENCIES as [CurrencyCode, ...CurrencyCode[]]);
export const country = z.enum(COUNTRY_CODES as [string, ...string[]]);
export const state = z.enum(STATES as [string, ...string[]]);
export const integrationService = z.enum(INTEGRATION_SERVICES);
export const integrationIds = z.array(z.object({ service: integrationService, id: z.string() }));
export const externalIds = z.array(z.object({ key: integrationService, value: z.string() }));
export const rateDisplay = z.enum(['ABSOLUTE', 'PERCENTAGE']);

export const addressBody = z
  .object({ line1: nonBlank, line2: z.string().optional(), town: nonBlank, state: state.optional(), postcode: z.string(), country })
  .superRefine((a, ctx) => {
    if ((a.country === 'US' || a.country === 'CA') && !a.state) {
      ctx.addIssue({ code: 'custom', path: ['state'], message: 'state is required for USA and Canada' });
    }
  });

/** The header fields invoices and credit notes share. */
export const documentHeaderFields = {
  purchaseOrderNumber: z.string().optional(),
  customerEmails: z.array(z.string()).optional(),
  customerLegalCompanyName: z.string().optional(),
  customerBillingAddress: addressBody.optional(),
  customerShippingAddress: addressBody.optional(),
  memo: z.string().optional(),
  metadata: z.array(z.object({ key: z.string(), value: z.string() })).optional(),
  accountingDate: z.string().optional(),
};
