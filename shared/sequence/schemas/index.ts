/**
 * zod schemas for the Sequence resources the connector reads or writes, built from the component
 * schemas of Sequence's OpenAPI document, API version 2024-07-30 (names in comments are the
 * OpenAPI component names).
 *
 * Policy:
 *  - Responses are loose objects: unknown extra fields pass through untouched, so Sequence adding a
 *    field never breaks us.
 *  - Fields the spec marks required are required. Optional fields accept absence AND `null`
 *    (`.nullish()`): the spec rarely marks `nullable`, but JVM backends commonly serialise absent
 *    optionals as null, and rejecting a whole invoice because `memo` is null would be absurd.
 *  - Fields the connector computes with are strict: money, quantities and rates are decimal
 *    strings (never numbers), ids are strings, and the enums the connector branches on
 *    (statuses, currency, tax status, country, state) are exact. Enums the connector only displays
 *    (dunning status, payment options, ...) are plain strings so a new value is not an outage.
 *  - Request bodies are strict objects built from the request components, so a typo in a body the
 *    connector sends is caught before it leaves the process.
 *
 * One file per resource (customers, catalogue, invoices, credit notes, tax registrations,
 * notification policies and the webhook envelope, accounts, error bodies) over ./common.ts (scalars,
 * enums and shared shapes); this index re-exports them all.
 */
export * from './common';
export * from './customers';
export * from './catalogue';
export * from './invoices';
export * from './credit-notes';
export * from './tax-registrations';
export * from './notification-policies';
export * from './accounts';
export * from './error-bodies';
