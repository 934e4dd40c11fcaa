/**
 * How the local runtime is wired: routes and queue bindings are data (local/wiring.ts derives
 * them from the catalogue the CDK stack reads, shared/runtime/catalogue.ts), and the handlers are
 * loaded lazily (after the runtime has set process.env for the emulators, because handlers build
 * their dependencies at module scope).
 */
import { QUEUES, QUEUE_KEYS } from '../../shared/runtime/catalogue';

/** Any Lambda handler: `(event, context)` returning a promise (or, legacy, using the callback). */
export type LambdaHandler = (event: never, context: never, callback: never) => unknown;

export interface HandlerModule {
  handler: LambdaHandler;
}

export interface HttpRoute {
  /** HTTP method (`GET`, `POST`, …) or `ANY`. */
  method: string;
  /** Route template as API Gateway writes it: `/connections/{id}/invoices/{invoiceId}/tax`, `{proxy+}` greedy. */
  path: string;
  /** `admin`: `Authorization: Bearer <CONNECTOR_ADMIN_TOKEN>` (IAM on AWS); `none`: public (webhooks). */
  auth: 'admin' | 'none';
  /** Lambda function name, as in the stack (shows up in the context and the logs). */
  functionName: string;
  load: () => Promise<HandlerModule>;
  /** Lambda timeout (default 30 s, the HTTP API integration limit). */
  timeoutSeconds?: number;
  memoryMb?: number;
}

export interface QueueBinding {
  /** Source queue name; ends in `.fifo`. */
  queueName: string;
  /** Its dead-letter queue; ends in `.fifo`. */
  dlqName: string;
  functionName: string;
  load: () => Promise<HandlerModule>;
  /** Event source mapping batch size (default 10, FIFO maximum). */
  batchSize?: number;
  visibilityTimeoutSeconds: number;
  /** Redrive: receives before SQS moves a message to the DLQ. */
  maxReceiveCount: number;
  /** Event source mapping ScalingConfig.MaximumConcurrency (default 2). */
  maxConcurrency?: number;
  /** Lambda timeout (default: the visibility timeout). */
  timeoutSeconds?: number;
  memoryMb?: number;
  /**
   * Environment variables that receive this queue's URL and its DLQ's. Default: the catalogue's
   * (QUEUES in shared/runtime/catalogue.ts) for the queue of that name; a queue outside the catalogue must set both.
   */
  envVar?: string;
  dlqEnvVar?: string;
}

/**
 * The environment variables of a binding's queue and DLQ URLs: its own, or the catalogue's for the
 * queue of that name (`invoice-tax.fifo` → QUEUES.invoiceTax).
 */
export function queueEnvVars(binding: Pick<QueueBinding, 'queueName' | 'envVar' | 'dlqEnvVar'>): { envVar: string; dlqEnvVar: string } {
  const key = QUEUE_KEYS.find((k) => `${QUEUES[k].name}.fifo` === binding.queueName);
  const envVar = binding.envVar ?? (key && QUEUES[key].envVar);
  const dlqEnvVar = binding.dlqEnvVar ?? (key && QUEUES[key].dlqEnvVar);
  if (!envVar || !dlqEnvVar) throw new Error(`Queue ${binding.queueName} is not in the catalogue (shared/runtime/catalogue.ts): set envVar and dlqEnvVar on its binding`);
  return { envVar, dlqEnvVar };
}
