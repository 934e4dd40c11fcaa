/** Simulated Sequence customers (2024-07-30). */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Customer } from '../../../shared/sequence/schemas';
import { badRequest, validationError } from '../errors';
import { SimCollection, compact, parse } from './context';
import { addressBody, integrationIds, nonBlank } from './request-fields';

const customerBody = z.object({
  legalName: nonBlank,
  address: addressBody,
  contacts: z.array(z.object({ name: z.string(), email: z.string().email(), billingPreference: z.enum(['PRIMARY', 'STANDARD', 'NONE']) })),
  taxStatus: z.enum(['TAXED', 'TAX_EXEMPT', 'REVERSE_CHARGED']),
  url: z.string().optional(),
  label: z.string().optional(),
  customerAliases: z.array(z.string()).optional(),
  integrationIds: integrationIds.optional(),
  parentId: z.string().optional(),
  status: z.enum(['DRAFT', 'ACTIVE']).optional(),
  customProperties: z.record(z.string(), z.string()).optional(),
});

export class Customers extends SimCollection<'customers'> {
  private build(body: z.infer<typeof customerBody>, existing: Customer | undefined, id: string): Customer {
    const now = this.ctx.iso();
    const contacts = body.contacts.map((c) => {
      const previous = existing?.contacts.find((p) => p.email === c.email && !p.archivedAt);
      return { id: previous?.id ?? randomUUID(), name: c.name, email: c.email, billingPreference: c.billingPreference, createdAt: previous?.createdAt ?? now, updatedAt: now };
    });
    if (contacts.some((c) => c.billingPreference !== 'NONE') && !contacts.some((c) => c.billingPreference === 'PRIMARY')) {
      throw validationError([{ key: 'contacts', message: 'contacts must include a PRIMARY contact when any contact receives billing communications' }]);
    }
    return compact({
      id,
      createdAt: existing?.createdAt ?? now,
      organizations: existing?.organizations ?? [],
      legalName: body.legalName,
      address: compact({ ...body.address }),
      url: body.url,
      domain: body.url ? body.url.replace(/^https?:\/\//, '').replace(/\/.*$/, '') : undefined,
      label: body.label,
      integrationIds: (body.integrationIds ?? []).map((i) => ({ service: i.service, id: i.id, isPending: false, lastSynced: now })),
      archivedAt: existing?.archivedAt ?? undefined,
      taxStatus: body.taxStatus,
      contacts,
      status: body.status ?? existing?.status ?? 'ACTIVE',
      customProperties: body.customProperties ?? existing?.customProperties ?? {},
    }) as Customer;
  }

  create(raw: unknown, opts: { id?: string; silent?: boolean } = {}): Customer {
    const body = parse(customerBody, raw);
    const id = opts.id ?? randomUUID();
    if (this.ctx.s.customers[id]) throw badRequest(`Customer with id ${id} already exists`);
    const customer = this.build(body, undefined, id);
    this.ctx.s.customers[id] = customer;
    this.ctx.fire('CUSTOMER_CREATED', 'Customer', customer, opts.silent);
    return customer;
  }

  update(id: string, raw: unknown): Customer {
    const existing = this.get(id);
    const body = parse(customerBody, raw);
    const customer = this.build(body, existing, id);
    this.ctx.s.customers[id] = customer;
    this.ctx.refreshDraftInvoicesFor(id);
    this.ctx.fire('CUSTOMER_UPDATED', 'Customer', customer);
    return customer;
  }

  archive(id: string): Customer {
    const customer = this.get(id);
    if (!customer.archivedAt) customer.archivedAt = this.ctx.iso();
    for (const inv of Object.values(this.ctx.s.invoices)) if (inv.customerId === id) inv.isCustomerArchived = true;
    this.ctx.fire('CUSTOMER_ARCHIVED', 'Customer', customer);
    return customer;
  }

  list(query: URLSearchParams): Record<string, unknown>[] {
    const legalName = query.get('legalName')?.toLowerCase();
    const includeArchived = query.get('includeArchived') === 'true';
    return Object.values(this.records)
      .filter((c) => includeArchived || !c.archivedAt)
      .filter((c) => !legalName || c.legalName.toLowerCase().includes(legalName))
      .map((c) => {
        // ListCustomerResponseModel omits contacts and status.
        const { contacts: _contacts, status: _status, ...rest } = c;
        return rest;
      });
  }
}
