/**
 * Every message the connector puts on its queues, as zod schemas: a producer cannot send what a
 * consumer cannot parse, and a consumer rejects (to the DLQ, with the reason) what no longer
 * parses. FIFO message group = connection + resource, so one resource is processed in order.
 * Which schema belongs to which queue: QUEUES in catalogue.ts.
 */
import * as z from 'zod';

export const Trigger = z.enum(['webhook', 'backfill', 'reconcile', 'retry', 'admin', 'exemption_change', 'redrive']);
export type Trigger = z.infer<typeof Trigger>;

const base = { connectionId: z.string().min(1), trigger: Trigger };

export const CustomerSyncMessage = z.object({
  kind: z.literal('customer'),
  ...base,
  customerId: z.string().min(1),
  notificationType: z.enum(['CUSTOMER_CREATED', 'CUSTOMER_UPDATED', 'CUSTOMER_ARCHIVED']).optional(),
  /** Fingerprint of the webhook's `resource` (shared/domain/customer-echo.ts), to recognise the echo of our own tag PUT. */
  resourceFingerprint: z.string().min(1).max(128).optional(),
  /** Backfill: the run whose registration snapshot holds this customer's tax registrations (shared/store/registration-snapshots.ts). */
  registrationsSnapshot: z.object({ runId: z.string().min(1), readFrom: z.iso.datetime() }).optional(),
});
export type CustomerSyncMessage = z.infer<typeof CustomerSyncMessage>;

export const ProductSyncMessage = z.object({ kind: z.literal('product'), ...base, productId: z.string().min(1) });
export type ProductSyncMessage = z.infer<typeof ProductSyncMessage>;

/** What a message about a Sequence document carries besides its id. */
const documentEvent = { ...base, notificationType: z.string().optional() };

export const InvoiceMessage = z.object({
  kind: z.literal('invoice'),
  ...documentEvent,
  invoiceId: z.string().min(1),
  /** An admin "finalise with tax" handed to the worker: finalise once the tax is written. */
  finalize: z.literal(true).optional(),
});
export type InvoiceMessage = z.infer<typeof InvoiceMessage>;

export const CreditNoteMessage = z.object({ kind: z.literal('credit_note'), ...documentEvent, creditNoteId: z.string().min(1) });
export type CreditNoteMessage = z.infer<typeof CreditNoteMessage>;

export const TaxStatus = z.enum(['TAXED', 'TAX_EXEMPT', 'REVERSE_CHARGED']);

export const ExemptionChangedMessage = z.object({
  kind: z.literal('exemption_changed'),
  ...base,
  customerId: z.string().min(1),
  previousTaxStatus: TaxStatus.optional(),
  taxStatus: TaxStatus,
  registrationsChanged: z.boolean().default(false),
});
export type ExemptionChangedMessage = z.infer<typeof ExemptionChangedMessage>;

export const BackfillMessage = z.object({
  kind: z.literal('backfill'),
  ...base,
  phase: z.enum(['registrations', 'customers', 'products']),
  /** Run id, so a stale page message of an earlier run is ignored. */
  runId: z.string().min(1),
});
export type BackfillMessage = z.infer<typeof BackfillMessage>;

/** FIFO message group: one resource of one connection is processed in order. */
export function messageGroupId(connectionId: string, resourceId: string): string {
  return `${connectionId}:${resourceId}`.slice(0, 128);
}

/**
 * One message per resource, each in the resource's FIFO group and deduplicated as
 * `<dedupePrefix>:<resource id>` (e.g. `reconcile:<sweep>`: one message per resource per run).
 */
export function perResource<M>(connectionId: string, resourceIds: readonly string[], dedupePrefix: string, message: (resourceId: string) => M): { message: M; groupId: string; deduplicationId: string }[] {
  return resourceIds.map((id) => ({ message: message(id), groupId: messageGroupId(connectionId, id), deduplicationId: `${dedupePrefix}:${id}`.slice(0, 128) }));
}
