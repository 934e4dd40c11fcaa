/**
 * Embedded SQS: fauxqs (SQS JSON protocol, FIFO, visibility timeout, redrive) with the
 * connector's FIFO queues, each with a FIFO DLQ and a RedrivePolicy, created through the SQS API
 * exactly as the CDK stack declares them.
 *
 * fauxqs honours RedrivePolicy on receive: a message whose receive count would exceed
 * maxReceiveCount moves to the DLQ instead of being delivered (AWS semantics). Differences from
 * AWS: state is in memory only (queues are empty after a restart), and a FIFO receive returns at
 * most one message per message group (AWS may return several of one group, in order).
 */
import { CreateQueueCommand, GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { FauxqsServer } from 'fauxqs';
import { loadFauxqs } from './esm';

export interface QueueDefinition {
  /** Source queue name, ending in `.fifo`. */
  queueName: string;
  /** Dead-letter queue name, ending in `.fifo`. */
  dlqName: string;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  /** Message retention of the source queue (default 4 days) and the DLQ (14 days). */
  retentionSeconds?: number;
}

export interface CreatedQueue {
  queueUrl: string;
  queueArn: string;
  dlqUrl: string;
  dlqArn: string;
}

export interface EmbeddedSqs {
  endpoint: string;
  port: number;
  client: SQSClient;
  server: FauxqsServer;
  /** Queue name → URL, for every queue and DLQ created. */
  queueUrls: Record<string, string>;
  createQueues(definition: QueueDefinition): Promise<CreatedQueue>;
  healthy(): Promise<boolean>;
  stop(): Promise<void>;
}

export interface StartSqsOptions {
  port?: number;
  region?: string;
}

export function validateQueueDefinition(def: QueueDefinition): void {
  for (const name of [def.queueName, def.dlqName]) {
    if (!/^[A-Za-z0-9_-]{1,75}\.fifo$/.test(name)) throw new Error(`Queue name ${name} must be 1-80 characters of letters, digits, - or _ and end in .fifo`);
  }
  if (!Number.isInteger(def.maxReceiveCount) || def.maxReceiveCount < 1 || def.maxReceiveCount > 1000) throw new Error(`maxReceiveCount of ${def.queueName} must be 1-1000`);
  if (!Number.isInteger(def.visibilityTimeoutSeconds) || def.visibilityTimeoutSeconds < 0 || def.visibilityTimeoutSeconds > 43200) throw new Error(`visibilityTimeoutSeconds of ${def.queueName} must be 0-43200`);
}

export async function startSqs(options: StartSqsOptions = {}): Promise<EmbeddedSqs> {
  const { startFauxqs } = await loadFauxqs();
  const region = options.region ?? process.env.AWS_REGION ?? 'eu-west-1';
  const server = await startFauxqs({ port: options.port ?? 0, logger: false, defaultRegion: region });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new SQSClient({ endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const queueUrls: Record<string, string> = {};
  let stopped = false;

  async function createOne(name: string, attributes: Record<string, string>): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    if (!QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    const arn = Attributes?.QueueArn;
    if (!arn) throw new Error(`Queue ${name} has no ARN`);
    queueUrls[name] = QueueUrl;
    return { url: QueueUrl, arn };
  }

  return {
    endpoint,
    port: server.port,
    client,
    server,
    queueUrls,
    async createQueues(def) {
      validateQueueDefinition(def);
      const dlq = await createOne(def.dlqName, {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        MessageRetentionPeriod: String(14 * 86400),
        VisibilityTimeout: String(def.visibilityTimeoutSeconds),
      });
      const source = await createOne(def.queueName, {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        VisibilityTimeout: String(def.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(def.retentionSeconds ?? 4 * 86400),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: def.maxReceiveCount }),
      });
      return { queueUrl: source.url, queueArn: source.arn, dlqUrl: dlq.url, dlqArn: dlq.arn };
    },
    async healthy() {
      if (stopped) return false;
      try {
        await client.send(new ListQueuesCommand({ MaxResults: 1 }));
        return true;
      } catch {
        return false;
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      client.destroy();
      await server.stop();
    },
  };
}
