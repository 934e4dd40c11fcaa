/**
 * A connection = one Sequence account + one Sphere organisation + one environment, for one
 * merchant. This is the record the admin API shows; it never holds a secret (those live in the
 * credential vault under the connection id).
 */
export type ConnectionStatus = 'PENDING' | 'ACTIVE' | 'ERROR' | 'DISCONNECTED';
export type SequenceEnvironment = 'sandbox' | 'production';

export const COUNTER_NAMES = ['customersSynced', 'productsSynced', 'invoicesTaxed', 'transactionsRecorded', 'failures'] as const;
export type CounterName = (typeof COUNTER_NAMES)[number];
export type ConnectionCounts = Record<CounterName, number>;

export type BackfillState = 'NOT_STARTED' | 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';

export interface BackfillProgress {
  state: BackfillState;
  done: number;
  total: number;
}

export interface TaxCodeMapping {
  /** Sphere product tax code for products whose tax category is not mapped. */
  default: string;
  /** Sequence tax category id → Sphere product tax code. */
  byTaxCategory: Record<string, string>;
}

export interface ConnectionOptions {
  /** Record finalised invoices, voids and credit notes as Sphere transactions (default on). */
  recordTransactions: boolean;
  /** Calculate tax whenever a DRAFT invoice is created or updated (default on). */
  calculateOnDraft: boolean;
  /**
   * The operator confirms running beside a native Sequence↔Sphere integration (issue 13 §5): transactions
   * are recorded although one was detected. Default off; absent on connections stored before it existed.
   */
  allowBesideNativeIntegration?: boolean;
}

/** A condition the connector reports without failing (shown by the console), e.g. `native_sphere_integration_detected`. */
export interface ConnectionWarning {
  code: string;
  message: string;
  /** The records that show it (shared/domain/native-integration.ts). */
  evidence: { resourceType: string; resourceId: string; found: string }[];
  detectedAt: string;
  lastSeenAt: string;
}

export interface ConnectionError {
  code: string;
  message: string;
  at: string;
}

export interface Connection {
  id: string;
  name: string;
  status: ConnectionStatus;
  environment: SequenceEnvironment;
  sequenceAccountId: string;
  sequenceBaseUrl: string;
  sphereBaseUrl: string;
  /** Id of the webhook notification policy registered in Sequence, once registered. */
  notificationPolicyId?: string;
  taxCodes: TaxCodeMapping;
  options: ConnectionOptions;
  counts: ConnectionCounts;
  backfill: BackfillProgress;
  lastError?: ConnectionError;
  warnings?: ConnectionWarning[];
  createdAt: string;
  updatedAt: string;
  disconnectedAt?: string;
}

export const DEFAULT_OPTIONS: ConnectionOptions = { recordTransactions: true, calculateOnDraft: true };

export function zeroCounts(): ConnectionCounts {
  return { customersSynced: 0, productsSynced: 0, invoicesTaxed: 0, transactionsRecorded: 0, failures: 0 };
}

/** Work for a connection is only done while it is live; everything for a disconnected one is dropped. */
export function acceptsWork(connection: Pick<Connection, 'status'>): boolean {
  return connection.status === 'ACTIVE' || connection.status === 'PENDING' || connection.status === 'ERROR';
}

/** The connection as the admin API shows it (§5.1). */
export function connectionView(c: Connection): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    environment: c.environment,
    sequenceAccountId: c.sequenceAccountId,
    sequenceBaseUrl: c.sequenceBaseUrl,
    sphereBaseUrl: c.sphereBaseUrl,
    taxCodes: c.taxCodes,
    options: c.options,
    counts: c.counts,
    backfill: c.backfill,
    ...(c.lastError ? { lastError: c.lastError } : {}),
    warnings: c.warnings ?? [],
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    ...(c.disconnectedAt ? { disconnectedAt: c.disconnectedAt } : {}),
  };
}
