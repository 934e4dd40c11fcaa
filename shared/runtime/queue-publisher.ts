/**
 * Sends connector messages to their FIFO queues. Every message is validated against its queue's
 * schema before it leaves, grouped by connection + resource, and deduplicated by an explicit id
 * that each sender derives from the event it sends (the queues do not use content-based
 * deduplication, and neither does this publisher).
 */
import { SQSClient, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { ConnectorBugError } from '../domain/errors';
import { QUEUES, type QueueKey, type QueueMessage } from './catalogue';

export interface OutgoingMessage<K extends QueueKey> {
  message: QueueMessage<K>;
  groupId: string;
  /**
   * Same id within 5 minutes → SQS keeps one copy. It must name the *event* (a webhook delivery, a
   * link version, a sweep run), never just the content: a genuinely new event with the same body
   * (a customer exempted again after being taxed in between) would be dropped. So no default.
   */
  deduplicationId: string;
}

export interface QueuePublisher {
  send<K extends QueueKey>(queue: K, out: OutgoingMessage<K>): Promise<void>;
  sendMany<K extends QueueKey>(queue: K, out: OutgoingMessage<K>[]): Promise<void>;
}

/** A deduplication id (≤ 128 characters, SQS's limit) from a key of any length that names an event. */
export function deduplicationIdFor(eventKey: string): string {
  return createHash('sha256').update(eventKey).digest('hex');
}

export class SqsQueuePublisher implements QueuePublisher {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrls: Partial<Record<QueueKey, string>>,
  ) {}

  private urlFor(queue: QueueKey): string {
    const url = this.queueUrls[queue];
    if (!url) throw new ConnectorBugError('queue_not_configured', `No URL configured for queue ${queue} (set ${QUEUES[queue].envVar})`);
    return url;
  }

  private prepare<K extends QueueKey>(queue: K, out: OutgoingMessage<K>) {
    const parsed = QUEUES[queue].schema.safeParse(out.message);
    if (!parsed.success) {
      throw new ConnectorBugError('invalid_queue_message', `Refusing to send an invalid ${queue} message: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    const body = JSON.stringify(parsed.data);
    return { MessageBody: body, MessageGroupId: out.groupId, MessageDeduplicationId: out.deduplicationId };
  }

  async send<K extends QueueKey>(queue: K, out: OutgoingMessage<K>): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.urlFor(queue), ...this.prepare(queue, out) }));
  }

  async sendMany<K extends QueueKey>(queue: K, out: OutgoingMessage<K>[]): Promise<void> {
    const url = this.urlFor(queue);
    for (let i = 0; i < out.length; i += 10) {
      const chunk = out.slice(i, i + 10);
      const result = await this.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: url, Entries: chunk.map((o, j) => ({ Id: String(j), ...this.prepare(queue, o) })) }),
      );
      if (result.Failed && result.Failed.length > 0) {
        throw new ConnectorBugError('queue_send_failed', `SQS refused ${result.Failed.length} of ${chunk.length} ${queue} messages: ${result.Failed.map((f) => f.Code).join(', ')}`);
      }
    }
  }
}
