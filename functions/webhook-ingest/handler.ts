/** POST /webhooks/sequence/{connectionId}: verify, dedupe, route, 202 (shared/webhooks/ingest.ts). */
import { json } from '../../shared/runtime/api-response';
import { dependencies } from '../../shared/runtime/dependencies';
import { httpHandler, rawBody } from '../../shared/runtime/http-handler';
import { ingestWebhook } from '../../shared/webhooks/ingest';

const deps = dependencies();

export const handler = httpHandler(async (event) => {
  const result = await ingestWebhook(deps, {
    connectionId: event.pathParameters?.connectionId,
    headers: event.headers ?? {},
    rawBody: rawBody(event),
  });
  return json(result.status, result.body);
});
