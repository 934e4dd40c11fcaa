/**
 * Invoice tax routes of the admin API (§5.1), included by functions/connect/handler.ts:
 *   POST /connections/{id}/invoices/{invoiceId}/tax       200 tax record · 409 invoice_not_draft
 *   GET  /connections/{id}/invoices/{invoiceId}/tax       200 stored tax record · 404 tax_record_not_found
 *   POST /connections/{id}/invoices/{invoiceId}/finalize  200 {invoice, taxRecord} · 422 reason · 503 outage
 * Thin: the use cases live in shared/tax; errors are answered by httpHandler's one mapping. A failed
 * calculation/finalisation keeps a failure record (retry: POST /connections/{id}/failures/retry).
 */
import { requireConnection } from '../../shared/connect/lookup';
import { RequestError } from '../../shared/domain/errors';
import { json } from '../../shared/runtime/api-response';
import { type Dependencies, dependencies } from '../../shared/runtime/dependencies';
import { type AdminRoute } from '../../shared/runtime/http-handler';
import { TAX_WORK, type TaxContext, calculateInvoiceTax, finalizeInvoiceWithTax, taxContext, withInvoiceFailureRecord } from '../../shared/tax';

export function createInvoiceRoutes(getContext: () => TaxContext): AdminRoute[] {
  return [
    {
      method: 'POST',
      path: '/connections/{id}/invoices/{invoiceId}/tax',
      handle: async ({ params }) => {
        const ctx = getContext();
        const connection = await requireConnection(ctx.deps, params.id!, { live: TAX_WORK });
        const outcome = await withInvoiceFailureRecord(ctx, connection, params.invoiceId!, () => calculateInvoiceTax(ctx, connection, params.invoiceId!));
        return json(200, outcome.record);
      },
    },
    {
      method: 'GET',
      path: '/connections/{id}/invoices/{invoiceId}/tax',
      handle: async ({ params }) => {
        const ctx = getContext();
        const connection = await requireConnection(ctx.deps, params.id!);
        const record = await ctx.taxRecords.get(connection.id, params.invoiceId!);
        if (!record) throw new RequestError('tax_record_not_found', `No tax has been calculated for invoice ${params.invoiceId} yet`);
        return json(200, record);
      },
    },
    {
      method: 'POST',
      path: '/connections/{id}/invoices/{invoiceId}/finalize',
      handle: async ({ params }) => {
        const ctx = getContext();
        const connection = await requireConnection(ctx.deps, params.id!, { live: TAX_WORK });
        const outcome = await withInvoiceFailureRecord(ctx, connection, params.invoiceId!, () => finalizeInvoiceWithTax(ctx, connection, params.invoiceId!));
        return json(200, { invoice: { id: outcome.invoice.id, status: outcome.invoice.status, invoiceNumber: outcome.invoice.invoiceNumber ?? null, totalTax: outcome.invoice.totalTax, netTotal: outcome.invoice.netTotal, grossTotal: outcome.invoice.grossTotal }, taxRecord: outcome.record });
      },
    },
  ];
}

let processContext: TaxContext | undefined;
function defaultContext(deps: Dependencies = dependencies()): TaxContext {
  processContext ??= taxContext(deps);
  return processContext;
}

export const invoiceRoutes: AdminRoute[] = createInvoiceRoutes(() => defaultContext());
