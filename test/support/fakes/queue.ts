/**
 * An in-memory FIFO publisher (the flows' QueueSender port). Like SqsQueuePublisher it refuses a
 * message its queue's schema rejects; like an SQS FIFO queue it keeps one copy per deduplication id
 * within five minutes. `failNext` plays an unreachable queue.
 */
import { ConnectorBugError } from '../../../shared/domain/errors';
import { QUEUES, type QueueKey, type QueueMessage } from '../../../shared/runtime/catalogue';
import { type QueueSender } from '../../../shared/runtime/ports';
import { type OutgoingMessage } from '../../../shared/runtime/queue-publisher';

const DEDUPLICATION_WINDOW_MS = 5 * 60_000;

export interface SentMessage<K extends QueueKey = QueueKey> {
  queue: K;
  message: QueueMessage<K>;
  groupId: string;
  deduplicationId: string;
}

export class FakeQueues implements QueueSender {
  readonly sent: SentMessage[] = [];
  private readonly seen = new Map<string, number>();
  private failures: Error[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** The next send throws `error` (once). */
  failNext(error: Error = new Error('connect ECONNREFUSED (fake queue)')): void {
    this.failures.push(error);
  }

  async send<K extends QueueKey>(queue: K, out: OutgoingMessage<K>): Promise<void> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    const parsed = QUEUES[queue].schema.safeParse(out.message);
    if (!parsed.success) throw new ConnectorBugError('invalid_queue_message', `Refusing to send an invalid ${queue} message: ${parsed.error.message}`);
    const dedupeKey = `${queue}|${out.deduplicationId}`;
    const at = this.seen.get(dedupeKey);
    if (at !== undefined && this.now() - at < DEDUPLICATION_WINDOW_MS) return;
    this.seen.set(dedupeKey, this.now());
    this.sent.push({ queue, message: parsed.data as QueueMessage<K>, groupId: out.groupId, deduplicationId: out.deduplicationId });
  }

  async sendMany<K extends QueueKey>(queue: K, out: OutgoingMessage<K>[]): Promise<void> {
    for (const o of out) await this.send(queue, o);
  }

  on<K extends QueueKey>(queue: K): QueueMessage<K>[] {
    return this.sent.filter((s) => s.queue === queue).map((s) => s.message as QueueMessage<K>);
  }
}
