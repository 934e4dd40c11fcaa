/**
 * Records every AWS SDK call the hosted handlers make, attributed to the function whose invocation
 * made it: service, IAM action and the resource it names (table, index, queue, secret). The IAM
 * proof (test/integration/iam) checks each recorded call against that function's role in the
 * synthesized template, because none of the emulators enforces IAM.
 *
 * The middleware is attached to every client built through `instrumentAwsClient`
 * (shared/runtime/aws-clients.ts); the function comes from the invocation scope of
 * `invokeHandler`. Calls made outside any invocation (a test's own set-up) carry no function.
 */
import { onAwsClient, type InstrumentableClient } from '../../shared/runtime/aws-clients';
import { currentFunctionName } from './lambda';

export type AwsResource =
  | { kind: 'table'; table: string }
  | { kind: 'index'; table: string; index: string }
  | { kind: 'queue'; queue: string }
  | { kind: 'secret'; secret: string }
  | { kind: 'none' };

export interface AwsCall {
  /** Local function name (local/wiring.ts), undefined outside an invocation. */
  functionName: string | undefined;
  /** IAM service prefix: `dynamodb`, `sqs`, `secretsmanager`. */
  service: string;
  /** IAM action name (what the policy must allow), e.g. `BatchWriteItem`, `DeleteMessage` for DeleteMessageBatch. */
  action: string;
  /** The SDK operation, when it differs from the action (`DeleteMessageBatch`). */
  operation: string;
  resource: AwsResource;
  /** Request facts the policy conditions may test (`aws:RequestTag/<key>`, `aws:TagKeys`). */
  context: Record<string, string | string[]>;
}

export interface AwsCallLog {
  readonly calls: AwsCall[];
  stop(): void;
}

const SERVICES: Record<string, string> = { DynamoDBClient: 'dynamodb', SQSClient: 'sqs', SecretsManagerClient: 'secretsmanager' };

/** SDK operations authorised by another action's permission (SQS batch calls; AWS SQS API reference). */
const ACTION_OF_OPERATION: Record<string, string> = {
  'sqs:SendMessageBatch': 'SendMessage',
  'sqs:DeleteMessageBatch': 'DeleteMessage',
  'sqs:ChangeMessageVisibilityBatch': 'ChangeMessageVisibility',
};

type Input = Record<string, unknown>;

const queueName = (url: unknown) => (typeof url === 'string' ? (url.split('/').pop() ?? url) : '');

/** The resources one request names: batch and transaction calls may name several tables. */
function resourcesOf(service: string, operation: string, input: Input): AwsResource[] {
  if (service === 'dynamodb') {
    if (operation === 'BatchWriteItem' || operation === 'BatchGetItem') {
      return Object.keys((input.RequestItems as Input | undefined) ?? {}).map((table) => ({ kind: 'table', table }));
    }
    if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
      const items = (input.TransactItems as Input[] | undefined) ?? [];
      const tables = new Set(items.flatMap((item) => Object.values(item).map((op) => String((op as Input).TableName))));
      return [...tables].map((table) => ({ kind: 'table', table }));
    }
    const table = String(input.TableName ?? '');
    return [typeof input.IndexName === 'string' ? { kind: 'index', table, index: input.IndexName } : { kind: 'table', table }];
  }
  if (service === 'sqs') return [{ kind: 'queue', queue: operation === 'GetQueueUrl' ? String(input.QueueName) : queueName(input.QueueUrl) }];
  if (service === 'secretsmanager') return [{ kind: 'secret', secret: String(input.SecretId ?? input.Name ?? '') }];
  return [{ kind: 'none' }];
}

function requestContext(input: Input): AwsCall['context'] {
  const tags = (input.Tags as { Key?: string; Value?: string }[] | undefined) ?? [];
  if (tags.length === 0) return {};
  const context: AwsCall['context'] = { 'aws:TagKeys': tags.map((t) => String(t.Key)) };
  for (const tag of tags) context[`aws:RequestTag/${tag.Key}`] = String(tag.Value);
  return context;
}

/** Every call a request needs authorised: tagging on create also needs TagResource (Secrets Manager docs). */
export function describeAwsCall(clientName: string, operation: string, input: Input, functionName: string | undefined): AwsCall[] {
  const service = SERVICES[clientName] ?? clientName.replace(/Client$/, '').toLowerCase();
  const action = ACTION_OF_OPERATION[`${service}:${operation}`] ?? operation;
  const context = requestContext(input);
  const calls = resourcesOf(service, operation, input).map((resource): AwsCall => ({ functionName, service, action, operation, resource, context }));
  if (service === 'secretsmanager' && operation === 'CreateSecret' && Array.isArray(input.Tags) && input.Tags.length > 0) {
    calls.push(...calls.map((call) => ({ ...call, action: 'TagResource' })));
  }
  return calls;
}

/** Start recording the calls of every client built from now on; `stop()` detaches from clients built later. */
export function recordAwsCalls(): AwsCallLog {
  const calls: AwsCall[] = [];
  const unregister = onAwsClient((client: InstrumentableClient) => {
    const stack = client.middlewareStack as unknown as {
      add: (mw: (next: (args: { input: Input }) => Promise<unknown>, context: Record<string | symbol, unknown>) => (args: { input: Input }) => Promise<unknown>, options: { step: string; name: string; override: boolean }) => void;
    };
    stack.add(
      (next, context) => async (args) => {
        const smithy = context.__smithy_context as { operation?: string } | undefined;
        const operation = smithy?.operation ?? String(context.commandName ?? '').replace(/Command$/, '');
        calls.push(...describeAwsCall(String(context.clientName ?? ''), operation, args.input, currentFunctionName()));
        return next(args);
      },
      { step: 'initialize', name: 'recordAwsCall', override: true },
    );
  });
  return { calls, stop: unregister };
}
