/**
 * Which Sequence notifications the connector consumes and where each goes. The connect flow
 * subscribes the notification policy to exactly these types; webhook ingest routes by this table
 * and acknowledges (and counts) anything else without queueing it.
 */
import { type QueueKey } from '../runtime/catalogue';

export interface NotificationRoute {
  queue: QueueKey;
  resource: 'customer' | 'invoice' | 'credit_note';
}

export const NOTIFICATION_ROUTES = {
  CUSTOMER_CREATED: { queue: 'customerSync', resource: 'customer' },
  CUSTOMER_UPDATED: { queue: 'customerSync', resource: 'customer' },
  CUSTOMER_ARCHIVED: { queue: 'customerSync', resource: 'customer' },
  INVOICE_CREATED: { queue: 'invoiceTax', resource: 'invoice' },
  INVOICE_UPDATED: { queue: 'invoiceTax', resource: 'invoice' },
  INVOICE_ISSUED: { queue: 'invoiceTax', resource: 'invoice' },
  CREDIT_NOTE_CREATED: { queue: 'invoiceTax', resource: 'credit_note' },
  CREDIT_NOTE_UPDATED: { queue: 'invoiceTax', resource: 'credit_note' },
  CREDIT_NOTE_ISSUED: { queue: 'invoiceTax', resource: 'credit_note' },
} as const satisfies Record<string, NotificationRoute>;

export type ConsumedNotificationType = keyof typeof NOTIFICATION_ROUTES;

export const CONSUMED_NOTIFICATION_TYPES = Object.keys(NOTIFICATION_ROUTES) as ConsumedNotificationType[];

export function routeFor(notificationType: string): NotificationRoute | undefined {
  return Object.prototype.hasOwnProperty.call(NOTIFICATION_ROUTES, notificationType)
    ? NOTIFICATION_ROUTES[notificationType as ConsumedNotificationType]
    : undefined;
}
