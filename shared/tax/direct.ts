/**
 * The direct Lambda invocation of calculate-invoice-tax, for a billing workflow that calculates or
 * finalises synchronously ("invoice finalisation invokes the tax Lambda").
 *
 * Payload:  {"connectionId": "...", "invoiceId": "...", "finalize": true|false (default false)}
 * Response (never throws; an HTTP-like status, the same codes as the admin routes):
 *   200 {statusCode, invoiceId, invoiceStatus, taxRecord}           tax calculated (and finalised when asked)
 *   400 {statusCode, error:{code:"invalid_request", message}}        payload does not match
 *   404 {statusCode, error:{code:"connection_not_found"|"sequence_not_found", message}}
 *   409 {statusCode, error:{code:"invoice_not_draft"|"connection_disconnected", message}}
 *   422 {statusCode, error:{code, message}}                         tax cannot be determined; invoice stays DRAFT
 *   503 {statusCode, error:{code, message, retryable:true}, retryAfterSeconds}  Sphere/Sequence unavailable
 *   500 {statusCode, error:{code:"internal_error", message}}
 */
import * as z from 'zod';
import { ConnectorError, classifyError } from '../domain/errors';
import { type TaxRecord } from '../domain/invoice-tax';
import { calculateInvoiceTax, finalizeInvoiceWithTax, InvoiceNotDraftError } from './calculate';
import { type TaxContext } from './context';
import { ConnectionNotActiveError, liveConnection, withInvoiceFailureRecord } from './synchronous';

export const DirectInvocationSchema = z.object({
  connectionId: z.string().min(1),
  invoiceId: z.string().min(1),
  finalize: z.boolean().optional(),
});
export type DirectInvocation = z.infer<typeof DirectInvocationSchema>;

export type DirectInvocationResult =
  | { statusCode: 200; invoiceId: string; invoiceStatus: string; taxRecord: TaxRecord }
  | { statusCode: number; error: { code: string; message: string; retryable?: boolean }; retryAfterSeconds?: number };

/** Is this event a direct invocation payload (as opposed to an SQS event)? */
export function isDirectInvocation(event: unknown): boolean {
  return typeof event === 'object' && event !== null && !('Records' in event) && 'invoiceId' in event;
}

/** Status and body for an error, as the admin routes answer it. */
export function errorResult(error: unknown): Extract<DirectInvocationResult, { error: unknown }> {
  if (error instanceof InvoiceNotDraftError || error instanceof ConnectionNotActiveError) return { statusCode: 409, error: { code: error.code, message: error.message } };
  if (error instanceof ConnectorError) {
    if (error.kind === 'user') {
      return { statusCode: /not_found$/.test(error.code) ? 404 : 422, error: { code: error.code, message: error.fix ? `${error.message}. ${error.fix}` : error.message } };
    }
    if (error.kind === 'retryable') {
      return {
        statusCode: 503,
        error: { code: error.code, message: `${error.message}. Try again later.`, retryable: true },
        retryAfterSeconds: Math.max(1, Math.ceil((error.retryAfterMs ?? 5000) / 1000)),
      };
    }
  }
  return { statusCode: 500, error: { code: 'internal_error', message: 'The connector failed unexpectedly; the error was logged.' } };
}

export async function handleDirectInvocation(ctx: TaxContext, event: unknown): Promise<DirectInvocationResult> {
  const parsed = DirectInvocationSchema.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { statusCode: 400, error: { code: 'invalid_request', message: `${issue.path.join('.') || 'payload'}: ${issue.message}` } };
  }
  const { connectionId, invoiceId, finalize } = parsed.data;
  try {
    ctx.deps.logger.appendKeys({ connectionId, resourceType: 'invoice', resourceId: invoiceId });
    const connection = await liveConnection(ctx, connectionId);
    const result = await withInvoiceFailureRecord(ctx, connection, invoiceId, async () => {
      if (finalize) {
        const out = await finalizeInvoiceWithTax(ctx, connection, invoiceId);
        return { invoiceStatus: out.invoice.status, taxRecord: out.record };
      }
      const out = await calculateInvoiceTax(ctx, connection, invoiceId);
      return { invoiceStatus: 'DRAFT', taxRecord: out.record };
    });
    return { statusCode: 200, invoiceId, ...result };
  } catch (error) {
    const classified = classifyError(error);
    if (classified.kind === 'bug') ctx.deps.logger.error('Direct invocation failed unexpectedly', { error: classified });
    else ctx.deps.logger.warn('Direct invocation failed', { error: classified });
    return errorResult(error);
  } finally {
    ctx.deps.logger.removeKeys(['connectionId', 'resourceType', 'resourceId']);
  }
}
