/**
 * Operations routes of the admin API, included by functions/admin-api/handler.ts:
 *   GET  /connections/{id}/audit?limit=N   200 {items: [{at, service, method, path, status?, latencyMs, attempt, requestId?, errorCode?}], count}
 *                                          newest first; 404 connection_not_found
 *   GET  /dlq                              200 {items: [{queue, deadLetterQueue, visible, inFlight}]} for every DLQ this function knows
 *   POST /dlq/{queue}/redrive              200 {queue, moved, failed, remaining: 0} when the DLQ is empty afterwards,
 *                                          202 with the same body when messages remain (call again); 404 queue_not_found
 * `queue` is a logical queue name (customerSync, productSync, invoiceTax, exemptions, backfill); the
 * URLs come from `<QUEUE>_QUEUE_URL` / `<QUEUE>_DLQ_URL` in the function's environment.
 */
import { requireConnection } from '../../shared/connections/lookup';
import { RequestError, invalidRequest } from '../../shared/domain/errors';
import { describeRejectedId } from '../../shared/domain/ids';
import { json } from '../../shared/runtime/api-response';
import { type Dependencies, dependencies } from '../../shared/runtime/dependencies';
import { type AdminRoute } from '../../shared/runtime/http-handler';
import { QUEUES, QUEUE_KEYS, type QueueKey } from '../../shared/runtime/catalogue';
import { queueDepth, redriveDeadLetterQueue } from '../../shared/operations/redrive';
import { type AuditEntry } from '../../shared/store/audit-log';

export const DEFAULT_AUDIT_LIMIT = 100;
export const MAX_AUDIT_LIMIT = 1000;

function isQueueKey(value: string): value is QueueKey {
  return (QUEUE_KEYS as string[]).includes(value);
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_AUDIT_LIMIT;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_LIMIT) {
    throw invalidRequest('limit', `must be an integer from 1 to ${MAX_AUDIT_LIMIT}`);
  }
  return limit;
}

/**
 * What the audit route shows of an entry: an allow-list of fields, so nothing else stored alongside
 * (now or by a later change) can leak through this route. The path never carries a query string.
 */
export function auditView(entry: AuditEntry): Record<string, unknown> {
  return {
    at: entry.at,
    service: entry.service,
    method: entry.method,
    path: String(entry.path).split('?')[0],
    ...(entry.status !== undefined ? { status: entry.status } : {}),
    latencyMs: entry.latencyMs,
    attempt: entry.attempt,
    ...(entry.requestId ? { requestId: entry.requestId } : {}),
    ...(entry.errorCode ? { errorCode: entry.errorCode } : {}),
  };
}

/** Marks a redriven connector message as such (`trigger: "redrive"`); other bodies pass unchanged. */
export function markRedriven(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return body;
  const record = parsed as Record<string, unknown>;
  if (typeof record.trigger !== 'string') return body;
  return JSON.stringify({ ...record, trigger: 'redrive' });
}

function queueName(url: string): string {
  return decodeURIComponent(url.replace(/\/+$/, '').split('/').pop() ?? url);
}

export interface OperationsRoutesOptions {
  /** Environment holding the queue URLs (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Redrive time budget per call (default 20 s, inside the 30 s API Gateway limit). */
  redriveTimeBudgetMs?: number;
}

export function createOperationsRoutes(getDeps: () => Dependencies, options: OperationsRoutesOptions = {}): AdminRoute[] {
  const env = () => options.env ?? process.env;
  const urls = (queue: QueueKey) => ({ sourceUrl: env()[QUEUES[queue].envVar], dlqUrl: env()[QUEUES[queue].dlqEnvVar] });

  return [
    {
      method: 'GET',
      path: '/connections/{id}/audit',
      handle: async ({ event, params }) => {
        const deps = getDeps();
        const limit = parseLimit(event.queryStringParameters?.limit);
        await requireConnection(deps, params.id!);
        const items = (await deps.audit.list(params.id!, limit)).map(auditView);
        return json(200, { items, count: items.length });
      },
    },
    {
      method: 'GET',
      path: '/dlq',
      handle: async () => {
        const deps = getDeps();
        const items = [];
        for (const queue of QUEUE_KEYS) {
          const { dlqUrl } = urls(queue);
          if (!dlqUrl) continue;
          const depth = await queueDepth(deps.sqs, dlqUrl);
          items.push({ queue, deadLetterQueue: queueName(dlqUrl), visible: depth.visible, inFlight: depth.inFlight });
        }
        return json(200, { items });
      },
    },
    {
      method: 'POST',
      path: '/dlq/{queue}/redrive',
      handle: async ({ params }) => {
        const deps = getDeps();
        const queue = params.queue ?? '';
        if (!isQueueKey(queue)) throw new RequestError('queue_not_found', `No queue ${describeRejectedId(queue)}; use one of ${QUEUE_KEYS.join(', ')}`);
        const { sourceUrl, dlqUrl } = urls(queue);
        if (!sourceUrl || !dlqUrl) {
          throw new RequestError('queue_not_configured', `Queue ${queue} is not configured for this function (${QUEUES[queue].envVar} and ${QUEUES[queue].dlqEnvVar} must be set)`);
        }
        const result = await redriveDeadLetterQueue({
          sqs: deps.sqs,
          sourceUrl,
          dlqUrl,
          transformBody: markRedriven,
          ...(options.redriveTimeBudgetMs !== undefined ? { timeBudgetMs: options.redriveTimeBudgetMs } : {}),
        });
        deps.logger.info('DLQ redriven', { queue, moved: result.moved, failed: result.failed, remaining: result.remaining });
        const body = {
          queue,
          moved: result.moved,
          failed: result.failed,
          remaining: result.remaining,
          ...(result.failures.length > 0 ? { failures: result.failures.slice(0, 20) } : {}),
        };
        return json(result.remaining === 0 && !result.truncated ? 200 : 202, body);
      },
    },
  ];
}

export const operationsRoutes: AdminRoute[] = createOperationsRoutes(() => dependencies());
