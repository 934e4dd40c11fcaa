/**
 * Replay after a fix: messages that failed maxReceiveCount times sit in the DLQ; once the cause is
 * fixed, an operator redrives the DLQ through the admin API and each message is processed exactly
 * once, in order within its group, with `trigger: "redrive"`; the DLQ ends empty.
 */
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { redriveDeadLetterQueue, redriveDeduplicationId } from '../../../shared/operations/redrive';
import { deliveries, processed, reset, state } from '../../fixtures/handlers/sqs-switchable';
import { type OperationsStack, startOperationsStack } from './harness';
import { eventually } from '../../support/eventually';

let stack: OperationsStack;

beforeAll(async () => {
  stack = await startOperationsStack();
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => reset(true));

const queueUrl = () => stack.runtime.queueUrls['invoice-tax.fifo']!;
const dlqUrl = () => stack.runtime.queueUrls['invoice-tax-dlq.fifo']!;

async function send(id: string, group: string) {
  const body = { kind: 'invoice', connectionId: 'conn-1', trigger: 'webhook', invoiceId: id, id };
  await stack.runtime.sqs.client.send(
    new SendMessageCommand({ QueueUrl: queueUrl(), MessageBody: JSON.stringify(body), MessageGroupId: group, MessageDeduplicationId: `${id}-${Date.now()}` }),
  );
}

async function dlqDepth(): Promise<number> {
  const answer = await stack.admin.call('GET', '/dlq');
  const items = answer.body.items as { queue: string; visible: number; inFlight: number }[];
  const item = items.find((i) => i.queue === 'invoiceTax')!;
  return item.visible + item.inFlight;
}

async function failIntoDlq(ids: { id: string; group: string }[]) {
  for (const { id, group } of ids) await send(id, group);
  await stack.runtime.drain();
  await eventually(`${ids.length} messages in the DLQ`, async () => (await dlqDepth()) === ids.length, { timeoutMs: 15_000, everyMs: 50 });
  expect(processed()).toEqual([]);
}

it('lists the DLQs with their depth', async () => {
  const answer = await stack.admin.call('GET', '/dlq');
  expect(answer.status).toBe(200);
  expect(answer.body.items).toEqual([{ queue: 'invoiceTax', deadLetterQueue: 'invoice-tax-dlq.fifo', visible: 0, inFlight: 0 }]);
});

it('redrives every message after the fix; each is processed exactly once and the DLQ ends empty', async () => {
  const messages = [
    { id: 'inv-a1', group: 'conn-1:inv-a' },
    { id: 'inv-a2', group: 'conn-1:inv-a' },
    { id: 'inv-b', group: 'conn-1:inv-b' },
    { id: 'inv-c', group: 'conn-1:inv-c' },
  ];
  await failIntoDlq(messages);
  const failedDeliveries = deliveries.length;
  expect(failedDeliveries).toBeGreaterThanOrEqual(messages.length * 2);

  state.broken = false; // the cause is fixed
  const answer = await stack.admin.call('POST', '/dlq/invoiceTax/redrive');
  expect(answer.status).toBe(200);
  expect(answer.body).toEqual({ queue: 'invoiceTax', moved: 4, failed: 0, remaining: 0 });

  await stack.runtime.drain();
  const after = deliveries.slice(failedDeliveries);
  expect(after.map((d) => d.id).sort()).toEqual(messages.map((m) => m.id).sort());
  expect(processed().sort()).toEqual(messages.map((m) => m.id).sort());
  // Same group, same order; the trigger says where the message came from; a fresh receive count.
  const groupA = after.filter((d) => d.groupId === 'conn-1:inv-a').map((d) => d.id);
  expect(groupA).toEqual(['inv-a1', 'inv-a2']);
  expect(after.every((d) => d.body.trigger === 'redrive' && d.receiveCount === 1)).toBe(true);
  expect(await dlqDepth()).toBe(0);

  // A second redrive finds nothing to do.
  const again = await stack.admin.call('POST', '/dlq/invoiceTax/redrive');
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ moved: 0, failed: 0, remaining: 0 });
  await stack.runtime.drain();
  expect(processed()).toHaveLength(messages.length);
});

it('a redrive that crashed after sending (before deleting) does not duplicate when run again', async () => {
  await failIntoDlq([{ id: 'inv-crash', group: 'conn-1:inv-crash' }]);
  state.broken = false;
  // Simulate the crash: the message was re-sent with its redrive deduplication id, never deleted from the DLQ.
  const { Messages } = await stack.runtime.sqs.client.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl(), MaxNumberOfMessages: 1, AttributeNames: ['All'] }));
  const dead = Messages![0]!;
  await stack.runtime.sqs.client.send(
    new SendMessageCommand({ QueueUrl: queueUrl(), MessageBody: dead.Body!, MessageGroupId: dead.Attributes!.MessageGroupId!, MessageDeduplicationId: redriveDeduplicationId(dead.MessageId!) }),
  );
  await stack.runtime.sqs.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: dlqUrl(), ReceiptHandle: dead.ReceiptHandle!, VisibilityTimeout: 0 }));

  const answer = await stack.admin.call('POST', '/dlq/invoiceTax/redrive');
  expect(answer.status).toBe(200);
  expect(answer.body).toMatchObject({ moved: 1, remaining: 0 });
  await stack.runtime.drain();
  expect(processed()).toEqual(['inv-crash']);
});

it('stops at the time budget and reports what remains (202 semantics), then finishes on the next call', async () => {
  await failIntoDlq([
    { id: 'inv-t1', group: 'conn-1:inv-t1' },
    { id: 'inv-t2', group: 'conn-1:inv-t2' },
  ]);
  state.broken = false;
  const first = await redriveDeadLetterQueue({ sqs: stack.deps.sqs, sourceUrl: queueUrl(), dlqUrl: dlqUrl(), maxMessages: 1 });
  expect(first).toMatchObject({ moved: 1, failed: 0, truncated: true });
  expect(first.remaining).toBe(1);
  const second = await stack.admin.call('POST', '/dlq/invoiceTax/redrive');
  expect(second.status).toBe(200);
  expect(second.body).toMatchObject({ moved: 1, remaining: 0 });
  await stack.runtime.drain();
  expect(processed().sort()).toEqual(['inv-t1', 'inv-t2']);
});

it('counts a failed send as failed and leaves the message in the DLQ', async () => {
  await failIntoDlq([{ id: 'inv-f', group: 'conn-1:inv-f' }]);
  const missing = `${queueUrl().replace(/invoice-tax\.fifo$/, '')}no-such-queue.fifo`;
  const result = await redriveDeadLetterQueue({ sqs: stack.deps.sqs, sourceUrl: missing, dlqUrl: dlqUrl(), visibilityTimeoutSeconds: 0 });
  expect(result.moved).toBe(0);
  expect(result.failed).toBe(1);
  expect(result.failures[0]).toMatchObject({ messageId: expect.any(String), code: expect.any(String) });
  expect(result.remaining).toBe(1);
  // Clean up for the next test: fix and redrive for real.
  state.broken = false;
  expect((await stack.admin.call('POST', '/dlq/invoiceTax/redrive')).body).toMatchObject({ moved: 1, remaining: 0 });
  await stack.runtime.drain();
});

it('answers 404 for an unknown or unconfigured queue and 401 without the admin token', async () => {
  const unknown = await stack.admin.call('POST', '/dlq/nope/redrive');
  expect(unknown.status).toBe(404);
  expect(unknown.body).toEqual({ error: { code: 'queue_not_found', message: expect.stringContaining('invoiceTax') } });
  const unconfigured = await stack.admin.call('POST', '/dlq/customerSync/redrive');
  expect(unconfigured.status).toBe(404);
  expect((unconfigured.body.error as { code: string }).code).toBe('queue_not_configured');
  const anonymous = await stack.admin.withToken(null).call('POST', '/dlq/invoiceTax/redrive');
  expect(anonymous.status).toBe(401);
});
