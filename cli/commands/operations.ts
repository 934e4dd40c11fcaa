/** Operations commands: a connection's audit log of upstream calls, the dead-letter queues and their redrive. */
import { keyValues } from '../format';
import { type Context, UsageError, arg, print, showItems } from './context';

export async function audit(ctx: Context): Promise<number> {
  const limit = ctx.flags.limit;
  if (limit !== undefined && !/^\d+$/.test(limit)) throw new UsageError('--limit must be a positive integer');
  return showItems(ctx, `/connections/${arg(ctx, 0, 'id')}/audit${limit ? `?limit=${limit}` : ''}`, [
    { header: 'AT', value: (e) => e.at },
    { header: 'SERVICE', value: (e) => e.service },
    { header: 'METHOD', value: (e) => e.method },
    { header: 'PATH', value: (e) => e.path },
    { header: 'STATUS', value: (e) => e.status ?? e.errorCode },
    { header: 'MS', value: (e) => e.latencyMs },
    { header: 'TRY', value: (e) => e.attempt },
    { header: 'REQUEST ID', value: (e) => e.requestId },
  ]);
}

export const dlq = (ctx: Context) =>
  showItems(ctx, '/dlq', [
    { header: 'QUEUE', value: (q) => q.queue },
    { header: 'DLQ', value: (q) => q.deadLetterQueue },
    { header: 'MESSAGES', value: (q) => q.visible },
    { header: 'IN FLIGHT', value: (q) => q.inFlight },
  ]);

export async function redrive(ctx: Context): Promise<number> {
  const queue = arg(ctx, 0, 'queue');
  const total = { queue: decodeURIComponent(queue), moved: 0, failed: 0, remaining: 0 };
  // The API moves what it can in one call (202 when messages remain); keep calling while it makes progress.
  for (;;) {
    const answer = await ctx.client.request<{ moved: number; failed: number; remaining: number }>('POST', `/dlq/${queue}/redrive`);
    total.moved += answer.body.moved;
    total.failed += answer.body.failed;
    total.remaining = answer.body.remaining;
    if (answer.status !== 202 || answer.body.moved === 0) break;
    if (!ctx.flags.json) ctx.io.stderr(`moved ${total.moved}, ${total.remaining} left…\n`);
  }
  print(ctx, total, () => keyValues(Object.entries(total)));
  return total.failed === 0 && total.remaining === 0 ? 0 : 1;
}
