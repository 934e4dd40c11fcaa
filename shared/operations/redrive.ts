/**
 * Dead-letter queue operations for the admin API: how deep each DLQ is, and a redrive that moves
 * every message of a FIFO DLQ back to its source queue so it is processed (once) again after the
 * cause was fixed.
 *
 * Redrive, message by message:
 *  - receive a batch from the DLQ (the receive hides the batch for `visibilityTimeoutSeconds`);
 *  - re-send each message to the source queue with the same MessageGroupId (order within a
 *    resource is kept: SendMessageBatch preserves entry order within a group) and a NEW
 *    MessageDeduplicationId derived from the DLQ message id, so a crash between send and delete
 *    followed by a second redrive is deduplicated by SQS inside its 5-minute window;
 *  - delete from the DLQ only the messages whose send succeeded. A failed send leaves its message
 *    in the DLQ (it reappears after the visibility timeout) and is counted as `failed`.
 * The work stops after `timeBudgetMs` (the admin API runs behind a 30 s integration timeout); what is
 * left is reported in `remaining` and a second call continues.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';

/** The message attribute the workers put on a message they dead-letter themselves (unparseable). */
export const REJECT_REASON_ATTRIBUTE = 'connectorRejectReason';

export interface RedriveInput {
  sqs: SQSClient;
  /** The queue the messages go back to. */
  sourceUrl: string;
  /** The dead-letter queue they come from. */
  dlqUrl: string;
  /** Stop receiving after this long; the rest stays for the next call. Default 20 s. */
  timeBudgetMs?: number;
  /** Stop after this many messages (moved + failed). Default unlimited. */
  maxMessages?: number;
  /** How long a received DLQ message stays hidden (a failed send reappears after it). Default 30 s. */
  visibilityTimeoutSeconds?: number;
  /** Rewrite a message body before it is re-sent (e.g. mark the trigger as a redrive). Default: unchanged. */
  transformBody?: (body: string) => string;
  /** Clock (tests). */
  now?: () => number;
}

export interface RedriveFailure {
  /** Id of the message in the DLQ. */
  messageId: string;
  code: string;
  message: string;
}

export interface RedriveResult {
  /** Messages sent back to the source queue and deleted from the DLQ. */
  moved: number;
  /** Messages that could not be sent back; they stay in the DLQ. */
  failed: number;
  /** Messages still in the DLQ (visible or in flight) after this call. */
  remaining: number;
  /** True when the time budget or `maxMessages` ended the call before the DLQ was empty. */
  truncated: boolean;
  failures: RedriveFailure[];
}

export interface QueueDepth {
  /** ApproximateNumberOfMessages. */
  visible: number;
  /** ApproximateNumberOfMessagesNotVisible (received, not yet deleted). */
  inFlight: number;
}

/** Approximate depth of a queue. */
export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages ?? '0') || 0,
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? '0') || 0,
  };
}

/**
 * The deduplication id of a redriven message: derived from the DLQ message id only, so sending the
 * same DLQ message twice (a retry after a crash) is one message for SQS. A hash keeps it within the
 * 128-character limit and the allowed character set whatever the id looks like.
 */
export function redriveDeduplicationId(dlqMessageId: string): string {
  return `redrive-${createHash('sha256').update(dlqMessageId).digest('hex').slice(0, 64)}`;
}

function forwardedAttributes(message: Message): Record<string, MessageAttributeValue> | undefined {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    if (name === REJECT_REASON_ATTRIBUTE) continue;
    out[name] = {
      DataType: value.DataType,
      ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
    };
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function errorText(error: unknown): { code: string; message: string } {
  if (error instanceof Error) return { code: error.name || 'Error', message: error.message };
  return { code: 'Error', message: String(error) };
}

export async function redriveDeadLetterQueue(input: RedriveInput): Promise<RedriveResult> {
  const now = input.now ?? Date.now;
  const deadline = now() + (input.timeBudgetMs ?? 20_000);
  const maxMessages = input.maxMessages ?? Number.POSITIVE_INFINITY;
  const visibility = input.visibilityTimeoutSeconds ?? 30;
  const transform = input.transformBody ?? ((body: string) => body);
  const failures: RedriveFailure[] = [];
  let moved = 0;
  let truncated = false;

  for (;;) {
    const handled = moved + failures.length;
    if (now() >= deadline || handled >= maxMessages) {
      truncated = true;
      break;
    }
    const { Messages } = await input.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: input.dlqUrl,
        MaxNumberOfMessages: Math.max(1, Math.min(10, maxMessages - handled)),
        WaitTimeSeconds: 0,
        VisibilityTimeout: visibility,
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const batch = (Messages ?? []).filter((m): m is Message & { MessageId: string; ReceiptHandle: string } => Boolean(m.MessageId && m.ReceiptHandle));
    if (batch.length === 0) break;

    const entries = batch.map((message, index) => {
      const groupId = message.Attributes?.MessageGroupId;
      const attributes = forwardedAttributes(message);
      return {
        Id: String(index),
        MessageBody: transform(message.Body ?? ''),
        ...(groupId ? { MessageGroupId: groupId } : {}),
        MessageDeduplicationId: redriveDeduplicationId(message.MessageId),
        ...(attributes ? { MessageAttributes: attributes } : {}),
      };
    });

    let sentIndexes: number[] = [];
    try {
      const result = await input.sqs.send(new SendMessageBatchCommand({ QueueUrl: input.sourceUrl, Entries: entries }));
      sentIndexes = (result.Successful ?? []).map((s) => Number(s.Id));
      for (const failed of result.Failed ?? []) {
        const message = batch[Number(failed.Id)];
        if (message) failures.push({ messageId: message.MessageId, code: failed.Code ?? 'SendFailed', message: failed.Message ?? 'SendMessageBatch reported a failure' });
      }
    } catch (error) {
      for (const message of batch) failures.push({ messageId: message.MessageId, ...errorText(error) });
    }

    if (sentIndexes.length > 0) {
      const toDelete = sentIndexes.map((i) => ({ Id: String(i), ReceiptHandle: batch[i]!.ReceiptHandle }));
      // A failed delete is harmless: the message reappears in the DLQ, and a later redrive re-sends
      // it with the same deduplication id, which SQS drops inside its 5-minute window.
      await input.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: input.dlqUrl, Entries: toDelete })).catch(() => undefined);
      moved += sentIndexes.length;
    }
    // A whole batch that could not be sent: stop rather than spin on the same messages.
    if (sentIndexes.length === 0) break;
  }

  const depth = await queueDepth(input.sqs, input.dlqUrl);
  return { moved, failed: failures.length, remaining: depth.visible + depth.inFlight, truncated, failures };
}
