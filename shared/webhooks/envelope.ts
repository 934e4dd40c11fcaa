/**
 * The Sequence webhook envelope (reference §5): `{notificationType, sequenceAccountId,
 * resourceType?, resourceId?, resource?}`, `resource` being the object's current state. The
 * envelope has no delivery id, so dedupe keys on (notificationType, resource id, resource.updatedAt)
 * and falls back to a hash of the raw body when the resource has no `updatedAt` (customers).
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';

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

/** sha256 of (notificationType, resource id, resource.updatedAt ?? sha256(raw body)). */
export function deliveryKey(envelope: WebhookEnvelope, rawBody: Buffer): string {
  const version = envelope.resource?.updatedAt ?? `body:${sha256(rawBody)}`;
  return sha256([envelope.notificationType, resourceIdOf(envelope) ?? '', version].join('\u0000'));
}

export type EnvelopeParse = { ok: true; envelope: WebhookEnvelope } | { ok: false; code: 'invalid_json' | 'invalid_envelope'; message: string };

export function parseEnvelope(rawBody: Buffer): EnvelopeParse {
  let value: unknown;
  try {
    value = JSON.parse(rawBody.toString('utf8'));
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
