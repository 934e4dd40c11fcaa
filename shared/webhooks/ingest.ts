/**
 * Webhook ingest (architecture §2, contract §5.2): raw bytes → size limit → connection (DynamoDB)
 * → Sequence-Signature with the connection's secret (vault, cached; one forced re-read on a
 * mismatch, for a rotated secret) → envelope → account check → dedupe → route → queue.
 * No upstream call on this path; answers in milliseconds.
 *
 * Statuses: 202 accepted · 200 duplicate · 400 malformed (valid signature: not JSON, bad envelope,
 * no resource id, or a `sequenceAccountId` that is not the connection's — we chose 400 for the
 * account mismatch because §5.2 lists no 403; the code `account_mismatch` tells it apart) ·
 * 401 missing/invalid signature or timestamp outside ±5 min · 404 unknown or disconnected
 * connection · 413 body over 256 KiB · 503 the queue could not be reached (Sequence retries).
 * Nothing is queued unless the signature verified.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { findConnection } from '../connections/lookup';
import { acceptsWork } from '../domain/connection';
import { customerEchoFingerprint } from '../domain/customer-echo';
import { describeRejectedId, isConnectionId, isSequenceId } from '../domain/ids';
import { errorBody } from '../runtime/api-response';
import { type ConnectorConfig } from '../runtime/config';
import { type FlowMetrics, type KeyedLogger, type QueueSender } from '../runtime/ports';
import { type CredentialVault } from '../secrets';
import { type ConnectionLookup, type DeliveryClaims } from '../store/ports';
import { METRICS, type QueueMessage } from '../runtime/catalogue';
import { messageGroupId } from '../runtime/queue-messages';
import { type WebhookEnvelope, deliveryKey, parseEnvelope, resourceIdOf } from './envelope';
import { routeFor, type NotificationRoute } from './routing';
import { SIGNATURE_HEADER, type SignatureVerdict, verifySignature } from './signature';

export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

export interface WebhookRequest {
  connectionId: string | undefined;
  /** Header names in any case (API Gateway v2 lowercases them). */
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  now?: number;
}

export interface WebhookResult {
  status: 200 | 202 | 400 | 401 | 404 | 413 | 503;
  body: Record<string, unknown>;
  /** What happened, for logs and tests. */
  outcome: 'queued' | 'ignored' | 'duplicate' | 'rejected';
}

/** What ingest touches: the connection, its webhook secret, the delivery claims and the queues. */
export interface IngestDeps {
  config: Pick<ConnectorConfig, 'webhookSignatureToleranceSeconds'>;
  connections: ConnectionLookup;
  vault: Pick<CredentialVault, 'get'>;
  deliveries: DeliveryClaims;
  queues: QueueSender;
  logger: KeyedLogger;
  metrics: FlowMetrics;
}

const reject = (status: WebhookResult['status'], code: string, message: string): WebhookResult => ({ status, body: { ...errorBody(code, message) }, outcome: 'rejected' });

function header(headers: Record<string, string | undefined>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

const SIGNATURE_REJECTIONS: Record<Exclude<SignatureVerdict, { ok: true }>['reason'], [string, string]> = {
  missing_signature: ['missing_signature', 'The Sequence-Signature header is missing'],
  malformed_signature: ['invalid_signature', 'The Sequence-Signature header is malformed'],
  stale_timestamp: ['stale_signature', 'The signature timestamp is further from now than the tolerance allows'],
  signature_mismatch: ['invalid_signature', 'The signature does not match the body'],
};

/** Only a CUSTOMER_UPDATED can be the echo of our tag PUT; a fingerprint is a few µs of hashing, no upstream call. */
function echoFingerprint(envelope: WebhookEnvelope): { resourceFingerprint?: string } {
  if (envelope.notificationType !== 'CUSTOMER_UPDATED') return {};
  const resourceFingerprint = customerEchoFingerprint(envelope.resource);
  return resourceFingerprint ? { resourceFingerprint } : {};
}

function queueMessageFor(route: NotificationRoute, connectionId: string, resourceId: string, envelope: WebhookEnvelope) {
  const base = { connectionId, trigger: 'webhook' as const };
  switch (route.resource) {
    case 'customer':
      return {
        queue: 'customerSync' as const,
        message: { kind: 'customer', ...base, customerId: resourceId, notificationType: envelope.notificationType, ...echoFingerprint(envelope) } as QueueMessage<'customerSync'>,
      };
    case 'invoice':
      return { queue: 'invoiceTax' as const, message: { kind: 'invoice', ...base, invoiceId: resourceId, notificationType: envelope.notificationType } as QueueMessage<'invoiceTax'> };
    case 'credit_note':
      return { queue: 'invoiceTax' as const, message: { kind: 'credit_note', ...base, creditNoteId: resourceId, notificationType: envelope.notificationType } as QueueMessage<'invoiceTax'> };
  }
}

/** Log keys ingest appends for one delivery (and removes after it): every line names the connection and resource. */
const DELIVERY_LOG_KEYS = ['connectionId', 'notificationType', 'resourceType', 'resourceId'];

export async function ingestWebhook(deps: IngestDeps, request: WebhookRequest): Promise<WebhookResult> {
  try {
    return await ingest(deps, request);
  } finally {
    // A warm Lambda serves the next delivery with the same logger: no key may carry over.
    deps.logger.removeKeys(DELIVERY_LOG_KEYS);
  }
}

async function ingest(deps: IngestDeps, request: WebhookRequest): Promise<WebhookResult> {
  const now = request.now ?? Date.now();
  const { rawBody } = request;
  if (rawBody.length > MAX_WEBHOOK_BODY_BYTES) return reject(413, 'payload_too_large', `Webhook bodies are limited to ${MAX_WEBHOOK_BODY_BYTES} bytes`);

  // The one connection id pattern first, so a hostile id is neither logged nor looked up; §5.2
  // answers unknown and disconnected alike (404), so the lookup is findConnection, not `live`.
  if (!isConnectionId(request.connectionId)) return reject(404, 'connection_not_found', 'No such connection');
  const connectionId = request.connectionId;
  deps.logger.appendKeys({ connectionId });
  const connection = await findConnection(deps, connectionId);
  if (!connection || !acceptsWork(connection)) {
    deps.logger.info('Webhook for an unknown or disconnected connection', { status: connection?.status ?? 'MISSING' });
    return reject(404, 'connection_not_found', 'No such connection, or it was disconnected');
  }

  // ---- signature (never log the header or the secret) -----------------------------------
  const signature = header(request.headers, SIGNATURE_HEADER);
  const toleranceMs = deps.config.webhookSignatureToleranceSeconds * 1000;
  let verdict: SignatureVerdict;
  try {
    const secrets = await deps.vault.get(connectionId);
    verdict = verifySignature(signature, rawBody, [secrets.webhookSigningSecret], now, toleranceMs);
    if (!verdict.ok && verdict.reason === 'signature_mismatch') {
      // The secret may have been rotated since it was cached: re-read once past the cache.
      const fresh = await deps.vault.get(connectionId, { forceRefresh: true });
      if (fresh.webhookSigningSecret !== secrets.webhookSigningSecret) verdict = verifySignature(signature, rawBody, [fresh.webhookSigningSecret], now, toleranceMs);
    }
  } catch (error) {
    deps.logger.error('Cannot read the webhook secret of the connection', { error: error instanceof Error ? error.name : 'unknown' });
    return reject(401, 'invalid_signature', 'The signature cannot be verified for this connection');
  }
  if (!verdict.ok) {
    const [code, message] = SIGNATURE_REJECTIONS[verdict.reason];
    if (verdict.reason === 'stale_timestamp') {
      // Authentic: Sequence signed it, outside the tolerance (a late retry or a clock). Refused (401);
      // the hourly reconcile sweep still brings the document to Sphere.
      deps.logger.warn('Stale but authentic webhook refused', { reason: verdict.reason, ageMs: verdict.ageMs, toleranceMs });
    } else {
      deps.logger.warn('Webhook rejected', { reason: verdict.reason });
    }
    deps.metrics.addMetric(METRICS.webhookRejected, MetricUnit.Count, 1);
    return reject(401, code, message);
  }

  // ---- envelope ---------------------------------------------------------------------------
  const parsed = parseEnvelope(rawBody);
  if (!parsed.ok) {
    deps.logger.warn('Signed webhook is malformed', { code: parsed.code, reason: parsed.message });
    return reject(400, parsed.code, parsed.message);
  }
  const envelope = parsed.envelope;
  deps.logger.appendKeys({ notificationType: envelope.notificationType });
  if (envelope.sequenceAccountId !== connection.sequenceAccountId) {
    deps.logger.warn('Signed webhook names another Sequence account');
    return reject(400, 'account_mismatch', 'sequenceAccountId does not match the connection');
  }
  const route = routeFor(envelope.notificationType);
  const resourceId = resourceIdOf(envelope);
  if (route && !resourceId) return reject(400, 'invalid_envelope', 'resource.id (or resourceId) is required for this notification type');
  // The id becomes a DynamoDB key and a segment of Sequence URLs: one pattern, as on every edge.
  if (resourceId && !isSequenceId(resourceId)) return reject(400, 'invalid_envelope', `resource.id (or resourceId): ${describeRejectedId(resourceId)} is not a Sequence id`);
  if (resourceId) deps.logger.appendKeys({ resourceId, ...(route ? { resourceType: route.resource } : {}) });

  // ---- dedupe + route -----------------------------------------------------------------------
  const { deliveries } = deps;
  const { key, ttlSeconds } = deliveryKey(envelope, rawBody, verdict.timestampMs);
  const first = await deliveries.claim(connectionId, key, { notificationType: envelope.notificationType, ...(resourceId ? { resourceId } : {}) }, ttlSeconds);
  if (!first) {
    deps.logger.info('Duplicate webhook delivery');
    deps.metrics.addMetric(METRICS.webhookDuplicate, MetricUnit.Count, 1);
    return { status: 200, body: { status: 'duplicate' }, outcome: 'duplicate' };
  }
  if (!route) {
    deps.logger.info('Webhook type not consumed; acknowledged without queueing');
    deps.metrics.addMetric(METRICS.webhookIgnored, MetricUnit.Count, 1);
    await deliveries.countIgnored(connectionId, envelope.notificationType).catch((error: unknown) => deps.logger.warn('Could not count an ignored webhook', { error: String(error) }));
    return { status: 202, body: { status: 'ignored', notificationType: envelope.notificationType }, outcome: 'ignored' };
  }

  const out = queueMessageFor(route, connectionId, resourceId!, envelope);
  try {
    // The delivery key doubles as the SQS deduplication id: a racing duplicate within 5 minutes is dropped by SQS too.
    await deps.queues.send(out.queue, { message: out.message as never, groupId: messageGroupId(connectionId, resourceId!), deduplicationId: key });
  } catch (error) {
    deps.logger.error('Could not queue the webhook; releasing the claim so a retry is accepted', { error: error instanceof Error ? error.message : String(error) });
    await deliveries.release(connectionId, key).catch(() => undefined);
    return reject(503, 'queue_unavailable', 'The webhook could not be queued; retry later');
  }
  deps.metrics.addMetric(METRICS.webhookAccepted, MetricUnit.Count, 1);
  deps.logger.info('Webhook queued', { queue: out.queue });
  return { status: 202, body: { status: 'accepted' }, outcome: 'queued' };
}
