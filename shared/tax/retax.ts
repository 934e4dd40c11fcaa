/**
 * A customer's tax treatment changed (TAXED ↔ TAX_EXEMPT ↔ REVERSE_CHARGED, or its registrations):
 * bring the Sphere customer up to date, then queue every open DRAFT invoice of that customer for a
 * new calculation (their input hash includes the tax status and tax ids, so each one recalculates).
 */
import { createHash } from 'node:crypto';
import { type Connection } from '../domain/connection';
import { messageGroupId } from '../runtime/queue-messages';
import { type TaxContext } from './context';

export interface RetaxOutcome {
  customerId: string;
  queued: string[];
}

export async function retaxCustomerDrafts(ctx: TaxContext, connection: Connection, customerId: string, options: { sourceId: string }): Promise<RetaxOutcome> {
  const { deps } = ctx;
  const invoiceIds = await deps.withUpstream(connection, async (clients) => {
    await ctx.sync.ensureCustomer(deps, connection, clients, customerId);
    const ids: string[] = [];
    for await (const invoice of clients.sequence.listInvoices({ status: 'DRAFT', customerId })) {
      // Filter again: the status/customer filters are query parameters an API could ignore.
      if (invoice.status === 'DRAFT' && invoice.customerId === customerId) ids.push(invoice.id);
    }
    return ids;
  });
  await deps.queues.sendMany(
    'invoiceTax',
    invoiceIds.map((invoiceId) => ({
      message: { kind: 'invoice' as const, connectionId: connection.id, trigger: 'exemption_change' as const, invoiceId, notificationType: 'CUSTOMER_TAX_STATUS_CHANGED' },
      groupId: messageGroupId(connection.id, invoiceId),
      // One message per invoice per exemption change (a redelivered change message is deduplicated).
      deduplicationId: createHash('sha256').update(`${options.sourceId}|${invoiceId}`).digest('hex'),
    })),
  );
  deps.logger.info('Queued open drafts for re-taxing after a tax status change', { connectionId: connection.id, customerId, invoices: invoiceIds.length });
  return { customerId, queued: invoiceIds };
}
