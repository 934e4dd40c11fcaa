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
import { classifyError, invalidRequest } from '../domain/errors';
import { SEQUENCE_ID_PATTERN } from '../domain/ids';
import { type TaxRecord } from '../domain/invoice-tax';
import { toErrorBody } from '../runtime/api-response';
import { calculateInvoiceTax, finalizeInvoiceWithTax } from './calculate';
import { type TaxContext } from './context';
import { requireTaxConnection, withInvoiceFailureRecord } from './synchronous';

export const DirectInvocationSchema = z.object({
  connectionId: z.string().min(1),
  invoiceId: z.string().regex(SEQUENCE_ID_PATTERN, 'not a Sequence invoice id (1-128 letters, digits, "_" or "-")'),
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

/** Status and body for an error: the admin routes' one mapping (toErrorBody), in the invocation's shape. */
export function errorResult(error: unknown): Extract<DirectInvocationResult, { error: unknown }> {
  const answer = toErrorBody(error);
  return { statusCode: answer.statusCode, error: answer.body.error, ...(answer.retryAfterSeconds ? { retryAfterSeconds: answer.retryAfterSeconds } : {}) };
}

export async function handleDirectInvocation(ctx: TaxContext, event: unknown): Promise<DirectInvocationResult> {
  const parsed = DirectInvocationSchema.safeParse(event);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return errorResult(invalidRequest(issue.path.join('.') || 'payload', issue.message));
  }
  const { connectionId, invoiceId, finalize } = parsed.data;
  try {
    ctx.deps.logger.appendKeys({ connectionId, resourceType: 'invoice', resourceId: invoiceId });
    const connection = await requireTaxConnection(ctx, connectionId);
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
