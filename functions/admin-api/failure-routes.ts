/**
 * Failure routes of the admin API (§5.1), included by functions/admin-api/handler.ts:
 *   GET  /connections/{id}/failures        200 {items: [{resourceType, resourceId, code, reason, fix?, retryable, attempts, ...}], count,
 *                                               warnings: [{resourceType, resourceId, code, severity: 'warning', reason, retryable: false, details?}]}
 *   POST /connections/{id}/failures/retry  202 {requeued, matched, skipped}; body {all: true} or {resourceType?, resourceId?}
 * A retry re-sends the failure's RetryInstruction to its queue with trigger `retry`.
 */
import * as z from 'zod';
import { requireConnection } from '../../shared/connections/lookup';
import { RequestError } from '../../shared/domain/errors';
import { SEQUENCE_ID_PATTERN } from '../../shared/domain/ids';
import { json } from '../../shared/runtime/api-response';
import { type Dependencies, dependencies } from '../../shared/runtime/dependencies';
import { type AdminRoute, parseJsonBody } from '../../shared/runtime/http-handler';
import { listFailures, listWarnings, retryFailures } from '../../shared/failures';

const RetryBodySchema = z.union([
  z.object({ all: z.literal(true) }).strict(),
  z
    .object({
      resourceType: z.enum(['customer', 'product', 'invoice', 'credit_note', 'transaction']).optional(),
      resourceId: z.string().regex(SEQUENCE_ID_PATTERN, 'not a Sequence id (1-128 letters, digits, "_" or "-")').optional(),
    })
    .strict()
    .refine((b) => b.resourceType !== undefined || b.resourceId !== undefined, { message: 'give resourceType and/or resourceId, or {"all": true}' }),
]);

export function createFailureRoutes(getDeps: () => Dependencies): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/connections/{id}/failures',
      handle: async ({ params }) => {
        const deps = getDeps();
        await requireConnection(deps, params.id!);
        const [items, warnings] = await Promise.all([listFailures(deps, params.id!), listWarnings(deps, params.id!)]);
        return json(200, { items, count: items.length, warnings });
      },
    },
    {
      method: 'POST',
      path: '/connections/{id}/failures/retry',
      handle: async ({ event, params }) => {
        const deps = getDeps();
        const selection = parseJsonBody(event, RetryBodySchema);
        await requireConnection(deps, params.id!);
        const outcome = await retryFailures(deps, params.id!, selection);
        if (outcome.matched === 0) throw new RequestError('failure_not_found', 'No failure matches; GET /connections/{id}/failures lists them');
        return json(202, outcome);
      },
    },
  ];
}

export const failureRoutes: AdminRoute[] = createFailureRoutes(() => dependencies());
