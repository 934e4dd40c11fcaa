/**
 * `POST /connections/{id}/test`: the "Test credentials" button. Re-reads the stored secret past any
 * cache, checks both sides with calls that change nothing, and reports each side; the webhook
 * policy is checked too. The status follows the result: a refused credential moves an ACTIVE
 * connection to ERROR (with the reason), and an ERROR connection whose checks all pass (policy
 * registered) is ACTIVE again. An outage changes nothing.
 */
import { type Connection } from '../domain/connection';
import { ConnectorError } from '../domain/errors';
import { type Dependencies } from '../runtime/dependencies';
import { SequenceNotFoundError } from '../sequence';
import { type SideResult, checkBoth } from './credentials';
import { requireConnection } from './lookup';
import { describeFailure } from './webhook-policy';

export interface SideReport {
  ok: boolean;
  code?: string;
  message?: string;
}

export interface TestReport {
  sequence: SideReport;
  sphere: SideReport;
  webhookPolicy: SideReport;
}

function report<T>(result: SideResult<T>, okMessage: string): SideReport {
  if (result.ok) return { ok: true, message: okMessage };
  const e = result.error;
  return { ok: false, code: e.code, message: e.fix ? `${e.message}. ${e.fix}` : e.message };
}

export async function testConnection(deps: Dependencies, connectionId: string, options: { checkDeadlineMs?: number } = {}): Promise<{ report: TestReport; connection: Connection }> {
  const connection = await requireConnection(deps, connectionId, { live: 'be tested' });
  const secrets = await deps.vault.get(connection.id, { forceRefresh: true });
  const clients = deps.clientsFor({
    connectionId: connection.id,
    sequence: { baseUrl: connection.sequenceBaseUrl, ...secrets.sequence },
    sphere: { baseUrl: connection.sphereBaseUrl, apiKey: secrets.sphere.apiKey },
  });
  const deadline = options.checkDeadlineMs ? { deadlineMs: options.checkDeadlineMs } : {};
  const checks = await checkBoth(clients, {
    sequence: { baseUrl: connection.sequenceBaseUrl, environment: connection.environment, ...deadline },
    sphere: { baseUrl: connection.sphereBaseUrl, ...deadline },
  });

  const sequence = report(checks.sequence, `Sequence ${connection.environment} accepted the API client`);
  if (checks.sequence.ok && checks.sequence.value.sequenceAccountId !== connection.sequenceAccountId) {
    Object.assign(sequence, {
      ok: false,
      code: 'sequence_account_mismatch',
      message: `The stored Sequence credentials now belong to another Sequence account than ${connection.sequenceAccountId}. Update them with PATCH /connections/${connection.id}.`,
    });
  }
  const sphere = report(checks.sphere, 'Sphere accepted the API key');

  let webhookPolicy: SideReport;
  if (!connection.notificationPolicyId) {
    webhookPolicy = { ok: false, code: 'webhook_policy_missing', message: `No webhook policy is registered; retry registration with PATCH /connections/${connection.id}.` };
  } else if (!checks.sequence.ok) {
    webhookPolicy = { ok: false, code: 'not_checked', message: 'Not checked: Sequence could not be called.' };
  } else {
    try {
      await clients.sequence.getNotificationPolicy(connection.notificationPolicyId);
      webhookPolicy = { ok: true, message: `Webhook policy ${connection.notificationPolicyId} is registered` };
    } catch (error) {
      webhookPolicy =
        error instanceof SequenceNotFoundError
          ? { ok: false, code: 'webhook_policy_missing', message: `Webhook policy ${connection.notificationPolicyId} no longer exists in Sequence; webhooks will not arrive. Disconnect and connect again.` }
          : { ok: false, code: describeFailure(error).code, message: `The webhook policy could not be read (${describeFailure(error).code}).` };
    }
  }

  const result: TestReport = { sequence, sphere, webhookPolicy };
  const refused = [checks.sequence, checks.sphere].find((r): r is { ok: false; error: ConnectorError } => !r.ok && r.error.kind === 'user');
  let current = connection;
  if (refused && connection.status === 'ACTIVE') {
    current = await deps.connections.setStatus(connection.id, 'ERROR', { code: refused.error.code, message: refused.error.message, at: new Date().toISOString() });
    deps.logger.warn('Connection test failed; connection marked ERROR', { connectionId: connection.id, code: refused.error.code });
  } else if (connection.status === 'ERROR' && sequence.ok && sphere.ok && webhookPolicy.ok) {
    current = await deps.connections.setStatus(connection.id, 'ACTIVE');
    deps.logger.info('Connection test passed; connection ACTIVE again', { connectionId: connection.id });
  }
  return { report: result, connection: current };
}
