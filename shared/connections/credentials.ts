/**
 * "Test credentials": prove each side's credential with a call that changes nothing, and turn
 * every way it can fail into an error that names the side, the reason and the fix.
 *
 * | what happened                                   | code                              | status |
 * |-------------------------------------------------|-----------------------------------|--------|
 * | 401/403 from the upstream                       | `<side>_credentials_rejected`     | 422    |
 * | connection refused, DNS, timeout, our deadline  | `<side>_unreachable`              | 422    |
 * | the base URL answers, but not like that API     | `<side>_unexpected_response`      | 422    |
 * | Sequence accepted the key but lists no account  | `sequence_account_not_found`      | 422    |
 * | upstream 5xx / 429 after retries                | `<side>_unavailable`              | 503    |
 *
 * Unreachable is a 4xx on purpose: the base URL and environment are the caller's input, and nothing
 * was stored. Messages never carry a credential (they only ever travel in request headers).
 */
import { ConnectorError, RetryableUpstreamError, UserActionRequiredError } from '../domain/errors';
import { type SequenceEnvironment } from '../domain/connection';
import { type SequenceClient } from '../sequence';
import { type SphereClient } from '../sphere';

export type Side = 'sequence' | 'sphere';

const SIDE_NAME: Record<Side, string> = { sequence: 'Sequence', sphere: 'Sphere' };

/** Longest a single side's check may take (the HTTP API integration times out at 30 s). */
export const DEFAULT_CHECK_DEADLINE_MS = 10_000;

export interface CheckContext {
  baseUrl: string;
  /** Sequence only. */
  environment?: SequenceEnvironment;
  deadlineMs?: number;
}

export interface SequenceCheck {
  sequenceAccountId: string;
  companyName: string;
}

function fixFor(side: Side, ctx: CheckContext): string {
  if (side === 'sequence') {
    const env = ctx.environment ?? 'sandbox';
    const other = env === 'sandbox' ? 'production' : 'sandbox';
    return (
      `Check the client id and secret, and that the key was created in the Sequence ${env} environment ` +
      `(a ${other} key does not work against ${env}; base URL ${ctx.baseUrl}). Create a new key under Settings → API keys if needed.`
    );
  }
  return `Check the Sphere API key (Sphere dashboard, Settings → API Keys, or "Generate API Key" on the integration card); keys belong to one Sphere organisation (test or live). Base URL ${ctx.baseUrl}.`;
}

/** Map what went wrong while checking one side to the table above. */
export function credentialCheckFailure(side: Side, error: unknown, ctx: CheckContext): ConnectorError {
  const name = SIDE_NAME[side];
  const where = side === 'sequence' ? `${name} (${ctx.environment ?? 'sandbox'}, ${ctx.baseUrl})` : `${name} (${ctx.baseUrl})`;
  const upstream = { service: side } as const;
  if (!(error instanceof ConnectorError)) {
    return new UserActionRequiredError(`${side}_unreachable`, `${where} could not be called: ${error instanceof Error ? error.message : String(error)}`, {
      fix: 'Check the base URL (or leave it out to use the default for the environment), then try again.',
      upstream,
    });
  }
  if (error.code === `${side}_credentials_rejected`) {
    const detail = error.upstream?.status !== undefined ? `HTTP ${error.upstream.status}` : 'rejected';
    const what = side === 'sequence' ? 'the API client id/secret' : 'the API key';
    return new UserActionRequiredError(`${side}_credentials_rejected`, `${where} rejected ${what} (${detail})`, { fix: fixFor(side, ctx), upstream });
  }
  if (error.code === 'upstream_unreachable' || error.code === 'upstream_timeout' || error.code === `${side}_unreachable`) {
    return new UserActionRequiredError(`${side}_unreachable`, `${where} could not be reached (${error.code === 'upstream_timeout' ? 'timed out' : error.message})`, {
      fix: `Check the ${name} base URL (or leave it out to use the default for the environment) and that the service is reachable from the connector, then try again.`,
      upstream,
    });
  }
  if (error.kind === 'retryable') {
    return new RetryableUpstreamError(`${side}_unavailable`, `${where} is not available right now (${error.code}): the credential could not be checked`, {
      ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
      upstream,
    });
  }
  return new UserActionRequiredError(`${side}_unexpected_response`, `${where} did not answer like the ${name} API (${error.code})`, {
    fix: `Check the ${name} base URL: it must point at the ${name} API${side === 'sequence' ? ' (ending in /api)' : ''}.`,
    upstream,
  });
}

/** Resolve with `work`, or reject with an `upstream_timeout` once `ms` have passed. */
export async function withDeadline<T>(work: Promise<T>, ms: number, side: Side): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RetryableUpstreamError('upstream_timeout', `${SIDE_NAME[side]} did not answer within ${ms} ms`, { upstream: { service: side } })),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sequence: an authenticated read that also yields the Sequence account id. */
export async function checkSequence(client: SequenceClient, ctx: CheckContext): Promise<SequenceCheck> {
  let accounts;
  try {
    accounts = await withDeadline(client.listSequenceAccounts(), ctx.deadlineMs ?? DEFAULT_CHECK_DEADLINE_MS, 'sequence');
  } catch (error) {
    throw credentialCheckFailure('sequence', error, ctx);
  }
  const account = accounts[0];
  if (!account) {
    throw new UserActionRequiredError('sequence_account_not_found', `Sequence (${ctx.environment ?? 'sandbox'}, ${ctx.baseUrl}) accepted the credentials but lists no Sequence account for them`, {
      fix: 'Use an API key created inside the Sequence account you want to connect (Settings → API keys).',
      upstream: { service: 'sequence' },
    });
  }
  return { sequenceAccountId: account.id, companyName: account.companyName };
}

/** Sphere: `verifyKey()`, an authenticated read that cannot change data. */
export async function checkSphere(client: SphereClient, ctx: CheckContext): Promise<void> {
  try {
    await withDeadline(client.verifyKey(), ctx.deadlineMs ?? DEFAULT_CHECK_DEADLINE_MS, 'sphere');
  } catch (error) {
    throw credentialCheckFailure('sphere', error, ctx);
  }
}

export type SideResult<T> = { ok: true; value: T } | { ok: false; error: ConnectorError };

async function settle<T>(work: Promise<T>): Promise<SideResult<T>> {
  try {
    return { ok: true, value: await work };
  } catch (error) {
    if (error instanceof ConnectorError) return { ok: false, error };
    throw error;
  }
}

/** Check both sides at once; each result says ok or why not. */
export async function checkBoth(
  clients: { sequence: SequenceClient; sphere: SphereClient },
  ctx: { sequence: CheckContext; sphere: CheckContext },
): Promise<{ sequence: SideResult<SequenceCheck>; sphere: SideResult<void> }> {
  const [sequence, sphere] = await Promise.all([settle(checkSequence(clients.sequence, ctx.sequence)), settle(checkSphere(clients.sphere, ctx.sphere))]);
  return { sequence, sphere };
}

/**
 * Both sides must pass. Otherwise throw the most actionable failure (a user error before an
 * outage, Sequence before Sphere), mentioning the other side's failure too.
 */
export function requireBoth(results: { sequence: SideResult<SequenceCheck>; sphere: SideResult<void> }): SequenceCheck {
  const failures = [results.sequence, results.sphere].flatMap((r) => (r.ok ? [] : [r.error]));
  if (results.sequence.ok && failures.length === 0) return results.sequence.value;
  const ordered = [...failures].sort((a, b) => Number(a.kind !== 'user') - Number(b.kind !== 'user'));
  const first = ordered[0]!;
  const second = ordered[1];
  if (!second) throw first;
  const message = `${first.message}; also ${second.message} (${second.code})`;
  if (first instanceof UserActionRequiredError) throw new UserActionRequiredError(first.code, message, { fix: first.fix ?? '', ...(first.upstream ? { upstream: first.upstream } : {}) });
  throw new RetryableUpstreamError(first.code, message, { ...(first.upstream ? { upstream: first.upstream } : {}), ...(first.retryAfterMs !== undefined ? { retryAfterMs: first.retryAfterMs } : {}) });
}
