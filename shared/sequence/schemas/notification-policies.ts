/** Sequence notification policies (webhooks) and the envelope a webhook delivers (policy in ./index.ts). */
import * as z from 'zod';
import { NotificationChannelSchema, NotificationTypeSchema } from './common';

/** `NotificationPolicy`. `notificationTypes` is a plain string array so a new type is not an outage. */
export const NotificationPolicySchema = z.looseObject({
  id: z.string(),
  createdAt: z.string(),
  sequenceAccountId: z.string(),
  name: z.string(),
  notificationTypes: z.array(z.string()).nullish(),
  recipients: z.array(z.string()),
  channel: NotificationChannelSchema,
  webhookSecret: z.string().nullish(),
});
export type NotificationPolicy = z.infer<typeof NotificationPolicySchema>;

/** `CreateNotificationPolicyRequest`. Omitting `notificationTypes` subscribes to all types. */
export const NotificationPolicyCreateSchema = z.strictObject({
  name: z.string().min(1),
  recipients: z.array(z.string().url()).min(1),
  channel: NotificationChannelSchema,
  notificationTypes: z.array(NotificationTypeSchema).optional(),
  webhookSecret: z.string().min(1).optional(),
});
export type NotificationPolicyCreate = z.infer<typeof NotificationPolicyCreateSchema>;

/** The webhook envelope Sequence POSTs to a WEBHOOK policy's recipients. */
export const WebhookEnvelopeSchema = z.looseObject({
  notificationType: z.string(),
  sequenceAccountId: z.string(),
  resourceType: z.string().nullish(),
  resourceId: z.string().nullish(),
  resource: z.record(z.string(), z.unknown()).nullish(),
});
export type WebhookEnvelope = z.infer<typeof WebhookEnvelopeSchema>;
