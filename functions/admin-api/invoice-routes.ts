/**
 * Invoice tax routes of the admin API (§5.1), included by functions/admin-api/handler.ts:
 *   POST /connections/{id}/invoices/{invoiceId}/tax       200 tax record · 202 PENDING record · 409 invoice_not_draft
 *   GET  /connections/{id}/invoices/{invoiceId}/tax       200 stored tax record · 404 tax_record_not_found
 *   POST /connections/{id}/invoices/{invoiceId}/finalize  200 {invoice, taxRecord} · 202 {invoice (DRAFT), taxRecord (PENDING)} · 422 reason · 503 outage
 * 202: the line writes would outlast the request (ADMIN_TAX_BUDGET_MS, under API Gateway's 29 s);
 * the invoice-tax worker finishes them (and then finalises); follow the tax record (`Location`).
 * Thin: the use cases live in shared/tax; errors are answered by httpHandler's one mapping. A failed
 * calculation/finalisation keeps a failure record (retry: POST /connections/{id}/failures/retry).
 */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { requireConnection } from '../../shared/connections/lookup';
import { RequestError } from '../../shared/domain/errors';
import { type TaxRecord } from '../../shared/domain/invoice-tax';
import { json } from '../../shared/runtime/api-response';
import { type Dependencies, dependencies } from '../../shared/runtime/dependencies';
import { type AdminRoute } from '../../shared/runtime/http-handler';
import { type TaxContext, calculateInvoiceTax, finalizeInvoiceWithTax, requireTaxConnection, taxContext, withInvoiceFailureRecord } from '../../shared/tax';

/** 202: the worker finishes; the tax record to follow (PENDING until then). */
function handedOff(connectionId: string, invoiceId: string, record: TaxRecord, invoice?: { id: string; status: string }): APIGatewayProxyResultV2 {
  const taxRecordUrl = `/connections/${encodeURIComponent(connectionId)}/invoices/${encodeURIComponent(invoiceId)}/tax`;
  return json(202, invoice ? { invoice, taxRecord: record, taxRecordUrl } : { ...record, taxRecordUrl }, { location: taxRecordUrl });
}

export function createInvoiceRoutes(getContext: () => TaxContext<Dependencies>): AdminRoute[] {
  return [
    {
      method: 'POST',
      path: '/connections/{id}/invoices/{invoiceId}/tax',
      handle: async ({ params }) => {
        const ctx = getContext();
        const connection = await requireTaxConnection(ctx, params.id!);
        const deadline = Date.now() + ctx.deps.config.adminTaxBudgetMs;
        const outcome = await withInvoiceFailureRecord(ctx, connection, params.invoiceId!, (clearFailure) =>
          calculateInvoiceTax(ctx, connection, params.invoiceId!, { onStored: clearFailure, deadline }),
        );
        if (outcome.handedOff) return handedOff(connection.id, params.invoiceId!, outcome.record);
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
        const connection = await requireTaxConnection(ctx, params.id!);
        const deadline = Date.now() + ctx.deps.config.adminTaxBudgetMs;
        const outcome = await withInvoiceFailureRecord(ctx, connection, params.invoiceId!, () => finalizeInvoiceWithTax(ctx, connection, params.invoiceId!, { deadline }));
        if (outcome.handedOff) return handedOff(connection.id, params.invoiceId!, outcome.record, { id: outcome.invoice.id, status: outcome.invoice.status });
        return json(200, { invoice: { id: outcome.invoice.id, status: outcome.invoice.status, invoiceNumber: outcome.invoice.invoiceNumber ?? null, totalTax: outcome.invoice.totalTax, netTotal: outcome.invoice.netTotal, grossTotal: outcome.invoice.grossTotal }, taxRecord: outcome.record });
      },
    },
  ];
}

let processContext: TaxContext<Dependencies> | undefined;
function defaultContext(deps: Dependencies = dependencies()): TaxContext<Dependencies> {
  processContext ??= taxContext(deps);
  return processContext;
}

export const invoiceRoutes: AdminRoute[] = createInvoiceRoutes(() => defaultContext());
