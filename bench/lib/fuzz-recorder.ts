/**
 * A stand-in queue consumer for the fuzz runs: it records every message it receives and reports
 * success, so the fuzzer can count exactly what webhook ingest (and the admin API) put on each
 * queue without any worker acting on it. Records live on globalThis: the local runtime loads this
 * module through its own import, the fuzzer reads the same list.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

export interface RecordedMessage {
  queueArn: string;
  body: Record<string, unknown>;
  messageGroupId?: string;
}

const KEY = '__sphereConnectorFuzzRecorded';

export function recordedMessages(): RecordedMessage[] {
  const g = globalThis as unknown as Record<string, RecordedMessage[] | undefined>;
  return (g[KEY] ??= []);
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  for (const record of event.Records) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(record.body) as Record<string, unknown>;
    } catch {
      body = { unparseable: record.body.slice(0, 200) };
    }
    recordedMessages().push({ queueArn: record.eventSourceARN, body, ...(record.attributes.MessageGroupId ? { messageGroupId: record.attributes.MessageGroupId } : {}) });
  }
  return { batchItemFailures: [] };
}
