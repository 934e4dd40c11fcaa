/**
 * Connections for tests that do not go through POST /connections: a record as the store holds it,
 * or one written straight into a stack's store and vault, talking to the stack's simulators.
 */
import { randomUUID } from 'node:crypto';
import { SIM_SEQUENCE_ACCOUNT_ID } from '../../local/sequence-sim/server';
import { SIM_DEFAULTS, type Stack } from '../../local/stack';
import { type Connection, DEFAULT_OPTIONS, zeroCounts } from '../../shared/domain/connection';

/** A code of the Sphere simulator's catalogue (the connector has no built-in default tax code). */
export const SIM_DEFAULT_TAX_CODE = 'txcd_10000000';

/** An ACTIVE sandbox connection record with nothing synced yet; its upstream URLs lead nowhere unless overridden. */
export function connectionRecord(id: string, overrides: Partial<Connection> = {}): Connection {
  const now = new Date().toISOString();
  return {
    id,
    name: `Test ${id}`,
    status: 'ACTIVE',
    environment: 'sandbox',
    sequenceAccountId: `acct-${id}`,
    sequenceBaseUrl: 'http://127.0.0.1:1/api',
    sphereBaseUrl: 'http://127.0.0.1:1',
    taxCodes: { default: SIM_DEFAULT_TAX_CODE, byTaxCategory: {} },
    options: DEFAULT_OPTIONS,
    counts: zeroCounts(),
    backfill: { state: 'NOT_STARTED', done: 0, total: 0 },
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

export interface StoredConnection {
  connection: Connection;
  webhookSecret: string;
  /** Where Sequence delivers this connection's webhooks (the stack's front door). */
  webhookUrl: string;
}

/** A connection to the stack's simulators, straight into its store + vault (no upstream calls, no webhook policy). */
export async function storeConnection(stack: Pick<Stack, 'runtime' | 'sequence' | 'sphere' | 'deps'>, overrides: Partial<Connection> = {}): Promise<StoredConnection> {
  const connection = connectionRecord(`conn_${randomUUID().replace(/-/g, '').slice(0, 16)}`, {
    name: 'Test merchant',
    sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID,
    sequenceBaseUrl: stack.sequence.apiUrl,
    sphereBaseUrl: stack.sphere.url,
    ...overrides,
  });
  const webhookSecret = `whsec_test_${randomUUID().replace(/-/g, '')}`;
  await stack.deps.connections.create(connection);
  await stack.deps.vault.put(connection.id, {
    sequence: { clientId: stack.sequence.clientId, clientSecret: stack.sequence.clientSecret },
    sphere: { apiKey: SIM_DEFAULTS.sphereApiKey },
    webhookSigningSecret: webhookSecret,
  });
  return { connection, webhookSecret, webhookUrl: `${stack.runtime.url}/webhooks/sequence/${connection.id}` };
}

/** A POST /connections body for the simulators' default credentials (the connector's default base URLs lead to them in a stack). */
export function connectBody(overrides: { name?: string; sequence?: Record<string, unknown>; sphere?: Record<string, unknown>; [k: string]: unknown } = {}) {
  const { sequence, sphere, ...rest } = overrides;
  return {
    name: 'Acme Cloud (sandbox)',
    sequence: { environment: 'sandbox', clientId: SIM_DEFAULTS.sequenceClientId, clientSecret: SIM_DEFAULTS.sequenceClientSecret, ...(sequence ?? {}) },
    sphere: { apiKey: SIM_DEFAULTS.sphereApiKey, ...(sphere ?? {}) },
    // Required (no built-in default): a code of the Sphere simulator's catalogue.
    taxCodes: { default: SIM_DEFAULT_TAX_CODE },
    ...rest,
  };
}
