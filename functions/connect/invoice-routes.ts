/**
 * Invoice tax routes of the admin API (§5.1), included by functions/connect/handler.ts:
 *   POST /connections/{id}/invoices/{invoiceId}/tax       200 tax record · 409 invoice_not_draft
 *   GET  /connections/{id}/invoices/{invoiceId}/tax       200 stored tax record · 404 tax_record_not_found
 *   POST /connections/{id}/invoices/{invoiceId}/finalize  200 {invoice, taxRecord} · 422 reason · 503 outage
 * Thin: the use cases live in shared/tax. A failed calculation/finalisation keeps a failure record
 * (retry: POST /connections/{id}/failures/retry).
 */
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { classifyError } from '../../shared/domain/errors';
import { HttpError, json } from '../../shared/runtime/api-response';
import { type Dependencies, dependencies } from '../../shared/runtime/dependencies';
import { type AdminRoute } from '../../shared/runtime/http-handler';
import { type TaxContext, calculateInvoiceTax, errorResult, finalizeInvoiceWithTax, liveConnection, taxContext, withInvoiceFailureRecord } from '../../shared/tax';

function answerError(ctx: TaxContext, error: unknown): APIGatewayProxyResultV2 {
  const result = errorResult(error);
  if (result.statusCode === 500) throw error; // httpHandler logs it and answers the generic 500
  ctx.deps.logger.warn('Invoice tax request failed', { error: classifyError(error) });
  return json(result.statusCode, { error: result.error }, result.retryAfterSeconds ? { 'retry-after': String(result.retryAfterSeconds) } : {});
}

export function createInvoiceRoutes(getContext: () => TaxContext): AdminRoute[] {
  return [
    {
      method: 'POST',
      path: '/connections/{id}/invoices/{invoiceId}/tax',
      handle: async ({ params }) => {
        const ctx = getContext();
        try {
          const connection = await liveConnection(ctx, params.id!);
          const outcome = await withInvoiceFailureRecord(ctx, connection, params.invoiceId!, (clearFailure) =>
            calculateInvoiceTax(ctx, connection, params.invoiceId!, { onStored: clearFailure }),
          );
          return json(200, outcome.record);
        } catch (error) {
          return answerError(ctx, error);
        }
      },
    },
    {
      method: 'GET',
      path: '/connections/{id}/invoices/{invoiceId}/tax',
      handle: async ({ params }) => {
        const ctx = getContext();
        const connection = await ctx.deps.connections.get(params.id!);
        if (!connection) throw new HttpError(404, 'connection_not_found', `No connection ${params.id}`);
        const record = await ctx.taxRecords.get(connection.id, params.invoiceId!);
        if (!record) throw new HttpError(404, 'tax_record_not_found', `No tax has been calculated for invoice ${params.invoiceId} yet`);
        return json(200, record);
      },
    },
    {
      method: 'POST',
      path: '/connections/{id}/invoices/{invoiceId}/finalize',
      handle: async ({ params }) => {
        const ctx = getContext();
        try {
          const connection = await liveConnection(ctx, params.id!);
          const outcome = await withInvoiceFailureRecord(ctx, connection, params.invoiceId!, () => finalizeInvoiceWithTax(ctx, connection, params.invoiceId!));
          return json(200, { invoice: { id: outcome.invoice.id, status: outcome.invoice.status, invoiceNumber: outcome.invoice.invoiceNumber ?? null, totalTax: outcome.invoice.totalTax, netTotal: outcome.invoice.netTotal, grossTotal: outcome.invoice.grossTotal }, taxRecord: outcome.record });
        } catch (error) {
          return answerError(ctx, error);
        }
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
