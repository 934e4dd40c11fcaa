/**
 * The narrow faces of the process-wide plumbing the flows use: the Powertools logger and metrics and
 * the queue publisher, each cut down to the calls the flows make, so a flow's dependency type names
 * what it touches and a test can hand it in-memory stand-ins (test/support/fakes/).
 */
import { type Connection } from '../domain/connection';
import { type CredentialVault } from '../secrets';
import { type Dependencies } from './dependencies';
import { type logger, type metrics } from './observability';
import { type QueuePublisher } from './queue-publisher';

export type FlowLogger = Pick<typeof logger, 'debug' | 'info' | 'warn' | 'error'>;
/** The logger of a request path that tags every line with the resource (webhook ingest, the direct invocation). */
export type KeyedLogger = FlowLogger & Pick<typeof logger, 'appendKeys' | 'removeKeys'>;
export interface FlowMetrics {
  addMetric(name: string, unit: Parameters<(typeof metrics)['addMetric']>[1], value: number): void;
}
/** Metrics that also emit one metric under its own dimension (the failure metrics, shared/runtime/observability.ts). */
export interface DimensionedMetrics extends FlowMetrics {
  singleMetric(): { addDimension(name: string, value: string): FlowMetrics };
}
export type QueueSender = Pick<QueuePublisher, 'send' | 'sendMany'>;

/**
 * Run work with a stored connection's upstream clients (Dependencies.withUpstream: the secret is
 * re-read once when refused). `C` names the client calls the flow makes.
 */
export interface UpstreamRunner<C> {
  withUpstream<T>(connection: Connection, work: (clients: C) => Promise<T>): Promise<T>;
}
/** Clients for explicit credentials (connect, test, rotation: before or beside what is stored). */
export type ClientFactory = Pick<Dependencies, 'clientsFor'>;
export type SecretStore = Pick<CredentialVault, 'get' | 'put' | 'scheduleDeletion'>;
