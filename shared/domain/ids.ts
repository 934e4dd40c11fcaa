/**
 * What an id of each kind looks like. Every id that arrives from outside (an admin path or body, a
 * direct invocation, a webhook envelope) is checked against its pattern at the edge, before it
 * becomes a DynamoDB key or a segment of an upstream URL: so no dot segment (`.`, `..`, `%2e`) can
 * reach Sequence or Sphere, and no id can outgrow a DynamoDB key (answered 500 before).
 */

/**
 * Connection ids are ours: `conn_` + 32 hex (newConnectionId); 1–128 of `[A-Za-z0-9_-]` covers
 * older and test ids. The same id names the connection's file in the local vault.
 */
export const CONNECTION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Sequence resource ids (invoices, credit notes, customers, products — and so the resource id of a
 * failure record): UUIDs in practice (reference: sequence-api.md, "IDs: UUID strings"); the
 * simulator's seeded ids are readable (`inv_1`). Never a dot, a slash or a percent sign.
 */
export const SEQUENCE_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function isConnectionId(value: unknown): value is string {
  return typeof value === 'string' && CONNECTION_ID_PATTERN.test(value);
}

export function isSequenceId(value: unknown): value is string {
  return typeof value === 'string' && SEQUENCE_ID_PATTERN.test(value);
}

/** How an id that failed its pattern is shown back: never the (possibly huge or hostile) value itself. */
export function describeRejectedId(value: string): string {
  return value.length > 64 ? `an id of ${value.length} characters` : JSON.stringify(value);
}
