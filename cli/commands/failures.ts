/** Failure records of a connection: list them, and re-queue the retryable ones. */
import { keyValues } from '../format';
import { type Context, type Json, UsageError, arg, print, showItems } from './context';

export const failures = (ctx: Context) =>
  showItems(ctx, `/connections/${arg(ctx, 0, 'id')}/failures`, [
    { header: 'TYPE', value: (f) => f.resourceType },
    { header: 'RESOURCE', value: (f) => f.resourceId },
    { header: 'CODE', value: (f) => f.code },
    { header: 'RETRYABLE', value: (f) => (f.retryable ? 'yes' : 'no') },
    { header: 'ATTEMPTS', value: (f) => f.attempts },
    { header: 'LAST', value: (f) => f.lastFailedAt },
    { header: 'REASON', value: (f) => [f.reason, f.fix].filter(Boolean).join(' — ') },
  ]);

export async function retry(ctx: Context): Promise<number> {
  const id = arg(ctx, 0, 'id');
  const { flags } = ctx;
  const selective = flags['resource-type'] !== undefined || flags['resource-id'] !== undefined;
  if (Boolean(flags.all) === selective) throw new UsageError('retry needs either --all or --resource-type and/or --resource-id');
  const body = flags.all
    ? { all: true }
    : { ...(flags['resource-type'] ? { resourceType: flags['resource-type'] } : {}), ...(flags['resource-id'] ? { resourceId: flags['resource-id'] } : {}) };
  const answer = await ctx.client.request<Json>('POST', `/connections/${id}/failures/retry`, body);
  print(ctx, answer.body, () => keyValues(Object.entries(answer.body)));
  return 0;
}
