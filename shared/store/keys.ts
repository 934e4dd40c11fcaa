/**
 * The single-table key scheme. Everything that belongs to a connection lives under its partition,
 * so one Query reads a connection's world and nothing can leak across merchants by key.
 *
 *  PK                         SK                                  what
 *  CONN#<id>                  META                                the connection (GSI1: CONNECTIONS / <createdAt>#<id>)
 *  ACCOUNT#<env>#<accountId>  LOCK                                one live connection per Sequence account and environment
 *  CONN#<id>                  CUSTOMER#<sequenceId>               customer link (Sphere id, content hash, tax status)
 *  CONN#<id>                  PRODUCT#<sequenceId>                product link
 *  CONN#<id>                  INVOICE#<invoiceId>                 invoice tax record (+ input hash)
 *  CONN#<id>                  TXN#<documentId>                    Sphere transaction record state
 *  CONN#<id>                  FAILURE#<resourceType>#<resourceId> failure record (retryable or not)
 *  CONN#<id>                  DELIVERY#<deliveryKey>              webhook dedupe (ttl)
 *  CONN#<id>                  AUDIT#<iso time>#<seq>              upstream call audit log (ttl)
 *  CONN#<id>                  REGSNAP#<runId>#<customerId>#<regId> a backfill run's tax registrations (ttl)
 *  CONN#<id>                  LEASE#<name>                        short exclusive lease, e.g. one invoice's tax (ttl)
 *  RATE#<scope>:<fingerprint> W#<window index>                    calls made in one window of an upstream budget (ttl)
 */
export const connectionPk = (connectionId: string) => `CONN#${connectionId}`;
export const accountLockPk = (environment: string, sequenceAccountId: string) => `ACCOUNT#${environment}#${sequenceAccountId}`;
export const CONNECTIONS_INDEX = 'GSI1';
export const CONNECTIONS_GSI_PK = 'CONNECTIONS';

/**
 * The connector table's key schema, as the stack (lib/data-stack.ts) and the local emulator
 * (local/runtime/dynamo.ts) create it: string keys, on-demand, the connection list as GSI1
 * projecting every attribute, expiry in `ttl`.
 */
export const CONNECTOR_TABLE = {
  partitionKey: 'PK',
  sortKey: 'SK',
  timeToLiveAttribute: 'ttl',
  indexes: [{ indexName: CONNECTIONS_INDEX, partitionKey: 'GSI1PK', sortKey: 'GSI1SK' }],
} as const;

/** Powertools' idempotency table (DynamoDBPersistenceLayer defaults: key `id`, expiry `expiration`). */
export const IDEMPOTENCY_TABLE = { partitionKey: 'id', timeToLiveAttribute: 'expiration' } as const;

export const SK = {
  meta: 'META',
  lock: 'LOCK',
  customer: (id: string) => `CUSTOMER#${id}`,
  product: (id: string) => `PRODUCT#${id}`,
  invoice: (id: string) => `INVOICE#${id}`,
  transaction: (id: string) => `TXN#${id}`,
  failure: (resourceType: string, resourceId: string) => `FAILURE#${resourceType}#${resourceId}`,
  delivery: (key: string) => `DELIVERY#${key}`,
  audit: (iso: string, seq: string) => `AUDIT#${iso}#${seq}`,
  lease: (name: string) => `LEASE#${name}`,
} as const;

export function ttlAfterSeconds(seconds: number, now: number = Date.now()): number {
  return Math.floor(now / 1000) + seconds;
}
