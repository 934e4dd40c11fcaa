/** Simulated Sequence notification policies: who gets which webhooks (2024-07-30). */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type NotificationPolicy, NOTIFICATION_TYPES } from '../../../shared/sequence/schemas';
import { databaseError } from '../errors';
import { SimCollection, compact, parse } from './context';
import { nonBlank } from './request-fields';

const policyBody = z.object({
  name: nonBlank,
  recipients: z.array(z.string()).min(1, 'should not be empty'),
  channel: z.enum(['WEBHOOK', 'EMAIL']),
  notificationTypes: z.array(z.string()).optional(),
  webhookSecret: z.string().optional(),
});

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

export class NotificationPolicies extends SimCollection<'policies'> {
  create(raw: unknown): NotificationPolicy {
    const body = parse(policyBody, raw);
    const unknownTypes = (body.notificationTypes ?? []).filter((t) => !(NOTIFICATION_TYPES as readonly string[]).includes(t));
    if (unknownTypes.length) throw databaseError('notificationTypes', `Invalid notification types: [${unknownTypes.join(', ')}]`);
    if (body.channel === 'WEBHOOK') {
      const bad = body.recipients.filter((r) => !isHttpUrl(r));
      if (bad.length) throw databaseError('recipients', `Invalid webhook URLs: [${bad.join(', ')}]`);
    }
    const id = randomUUID();
    const policy = compact({
      id,
      createdAt: this.ctx.iso(),
      sequenceAccountId: this.ctx.s.account.id,
      name: body.name,
      notificationTypes: body.notificationTypes ?? [...NOTIFICATION_TYPES],
      recipients: body.recipients,
      channel: body.channel,
      webhookSecret: body.channel === 'WEBHOOK' ? (body.webhookSecret ?? `whsec_${randomBytes(24).toString('base64url')}`) : undefined,
    }) as NotificationPolicy;
    this.ctx.s.policies[id] = policy;
    this.ctx.changed();
    return policy;
  }

  delete(id: string): NotificationPolicy {
    const p = this.get(id);
    delete this.ctx.s.policies[id];
    this.ctx.changed();
    return p;
  }

  list(query: URLSearchParams): NotificationPolicy[] {
    const type = query.get('notificationType');
    return Object.values(this.records).filter((p) => !type || (p.notificationTypes ?? []).includes(type));
  }
}
