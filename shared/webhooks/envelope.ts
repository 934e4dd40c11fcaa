/**
 * The Sequence webhook envelope (reference §5): `{notificationType, sequenceAccountId,
 * resourceType?, resourceId?, resource?}`, `resource` being the object's current state. The
 * envelope has no delivery id, so dedupe keys on (notificationType, resource id, resource.updatedAt).
 *
 * A resource without `updatedAt` (customers) has no version to key on. Its body alone is not
 * one: a customer changed A → B → A sends a third body byte-identical to the first, and keying on
 * the body would answer that real change "duplicate" and leave Sphere with B until the reconcile.
 * So the fallback key also holds the Sequence-Signature timestamp: only the same signed request
 * (a true redelivery, e.g. our 2xx was lost) dedupes; a new event, or a retry Sequence signs anew,
 * is queued, which is harmless (the worker re-reads and skips unchanged content by hash). A signed
 * request is refused as stale outside ±5 minutes, so such a key is kept only that long (plus a
 * margin), not the week a versioned key is kept.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { decodeUtf8 } from '../domain/utf8';
import { DEFAULT_TOLERANCE_MS } from './signature';

export const WebhookEnvelopeSchema = z.looseObject({
  notificationType: z.string().min(1).max(100),
  sequenceAccountId: z.string().min(1),
  resourceType: z.string().nullish(),
  resourceId: z.string().nullish(),
  resource: z.looseObject({ id: z.string().min(1).optional(), updatedAt: z.string().nullish() }).nullish(),
});
export type WebhookEnvelope = z.infer<typeof WebhookEnvelopeSchema>;

/** Key on `resource.id` (it may differ from `resourceId`), falling back to `resourceId`. */
export function resourceIdOf(envelope: WebhookEnvelope): string | undefined {
  const id = envelope.resource?.id ?? envelope.resourceId ?? undefined;
  return id === undefined || id === '' ? undefined : id;
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** How long a key with a resource version (`updatedAt`) is remembered: Sequence's retries of one event. */
export const VERSIONED_DELIVERY_TTL_SECONDS = 7 * 24 * 3600;
/** How long a key of one signed request is remembered: the ± signature tolerance, plus a margin for clock skew. */
export const SIGNED_REQUEST_DELIVERY_TTL_SECONDS = (2 * DEFAULT_TOLERANCE_MS) / 1000 + 5 * 60;

export interface DeliveryKey {
  /** Hex sha256; also the SQS deduplication id of the queued message. */
  key: string;
  ttlSeconds: number;
}

/**
 * sha256 of (notificationType, resource id, resource.updatedAt), kept a week; without `updatedAt`,
 * sha256 of (notificationType, resource id, sha256(raw body), signature timestamp), kept minutes.
 */
export function deliveryKey(envelope: WebhookEnvelope, rawBody: Buffer, signedAtMs: number): DeliveryKey {
  const id = resourceIdOf(envelope) ?? '';
  const updatedAt = envelope.resource?.updatedAt;
  if (updatedAt) return { key: sha256([envelope.notificationType, id, updatedAt].join('\u0000')), ttlSeconds: VERSIONED_DELIVERY_TTL_SECONDS };
  return { key: sha256([envelope.notificationType, id, `body:${sha256(rawBody)}`, `t:${signedAtMs}`].join('\u0000')), ttlSeconds: SIGNED_REQUEST_DELIVERY_TTL_SECONDS };
}

export type EnvelopeParse = { ok: true; envelope: WebhookEnvelope } | { ok: false; code: 'invalid_json' | 'invalid_envelope'; message: string };

export function parseEnvelope(rawBody: Buffer): EnvelopeParse {
  const text = decodeUtf8(rawBody);
  if (text === undefined) return { ok: false, code: 'invalid_json', message: 'The webhook body is not valid UTF-8' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: 'invalid_json', message: 'The webhook body is not valid JSON' };
  }
  const parsed = WebhookEnvelopeSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
    return { ok: false, code: 'invalid_envelope', message: `${field}: ${issue.message}` };
  }
  return { ok: true, envelope: parsed.data };
}
