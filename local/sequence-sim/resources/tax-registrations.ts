/** Simulated Sequence tax registrations: where a customer's tax id lives (2024-07-30). */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type TaxRegistration } from '../../../shared/sequence/schemas';
import { type FieldError, validationError } from '../errors';
import { SimCollection, parse } from './context';
import { country, nonBlank, state } from './request-fields';

const taxRegistrationBody = z.object({
  taxIdentifier: nonBlank,
  customerId: z.string().nullish(),
  merchantId: z.string().nullish(),
  country,
  state: state.nullish(),
});

export class TaxRegistrations extends SimCollection<'taxRegistrations'> {
  list(): TaxRegistration[] {
    return Object.values(this.records);
  }

  private fromBody(raw: unknown, id: string): TaxRegistration {
    const body = parse(taxRegistrationBody, raw);
    const errors: FieldError[] = [];
    if (!body.customerId && !body.merchantId) errors.push({ key: 'customerId', message: 'one of customerId or merchantId is required' });
    if (body.customerId && !this.ctx.s.customers[body.customerId]) errors.push({ key: 'customerId', message: `Customer ${body.customerId} does not exist` });
    if (errors.length) throw validationError(errors);
    return {
      id,
      sequenceAccountId: this.ctx.s.account.id,
      taxIdentifier: body.taxIdentifier,
      customerId: body.customerId ?? null,
      merchantId: body.merchantId ?? null,
      country: body.country,
      state: body.state ?? null,
    };
  }

  /** Stores (or, with `reg` undefined, removes) registration `id`; draft invoices of the customers it touches follow. */
  private save(id: string, reg: TaxRegistration | undefined, before?: TaxRegistration): void {
    if (reg) this.ctx.s.taxRegistrations[id] = reg;
    else delete this.ctx.s.taxRegistrations[id];
    for (const c of new Set([before?.customerId, reg?.customerId])) if (c) this.ctx.refreshDraftInvoicesFor(c);
    this.ctx.changed();
  }

  create(raw: unknown): TaxRegistration {
    const reg = this.fromBody(raw, randomUUID());
    this.save(reg.id, reg);
    return reg;
  }

  update(id: string, raw: unknown): TaxRegistration {
    const before = this.get(id);
    const reg = this.fromBody(raw, id);
    this.save(id, reg, before);
    return reg;
  }

  delete(id: string): TaxRegistration {
    const reg = this.get(id);
    this.save(id, undefined, reg);
    return reg;
  }

  forCustomer(customerId: string): TaxRegistration[] {
    this.ctx.find('customers', customerId, 'Customer');
    return Object.values(this.records).filter((r) => r.customerId === customerId);
  }
}
