/**
 * `POST /connections/{id}/test`: the "Test credentials" button. Re-reads the stored secret past any
 * cache, checks both sides with calls that change nothing, and reports each side; the webhook
 * policy is checked too, that Sphere accepts every configured tax code (./tax-codes-check.ts), and
 * that no native Sequence↔Sphere integration shows (./native-integration.ts; kept as a warning on
 * the connection). The status follows the result: a refused credential moves an ACTIVE connection to
 * ERROR (with the reason), and an ERROR connection whose checks all pass (policy registered) is
 * ACTIVE again. An outage changes nothing.
 */
import { type Connection, type ConnectionWarning, type TaxCodeMapping } from '../domain/connection';
import { type CheckCredentialsInput } from '../domain/connection-input';
import { ConnectorError } from '../domain/errors';
import { type ClientFactory, type FlowLogger, type SecretStore } from '../runtime/ports';
import { type ConnectionLookup, type ConnectionUpdates } from '../store/ports';
import { SequenceNotFoundError } from '../sequence';
import { type SphereClient } from '../sphere';
import { type SideResult, checkBoth } from './credentials';
import { TAX_CODE_FIX, checkTaxCodes, describeRejections } from './tax-codes-check';
import { requireConnection } from './lookup';
import { applyNativeLinkFinding, scanForNativeLink } from './native-integration';
import { NATIVE_SPHERE_WARNING_CODE, warningsAfterScan } from '../domain/native-integration';
import { type ConnectionSettings, resolveBaseUrls } from './create-connection';
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
  /** Does Sphere accept every configured tax code (default and per category)? Checked with a calculate_tax quote. */
  taxCodes: SideReport;
  /** No sign of a native Sequence↔Sphere integration beside this connector (./native-integration.ts). */
  nativeIntegration: SideReport;
}

function report<T>(result: SideResult<T>, okMessage: string): SideReport {
  if (result.ok) return { ok: true, message: okMessage };
  const e = result.error;
  return { ok: false, code: e.code, message: e.fix ? `${e.message}. ${e.fix}` : e.message };
}

const NOT_CHECKED_WITHOUT_SPHERE: SideReport = { ok: false, code: 'not_checked', message: 'Not checked: Sphere could not be called.' };

async function taxCodesReport(sphere: SphereClient, mapping: TaxCodeMapping): Promise<SideReport> {
  try {
    const rejections = await checkTaxCodes(sphere, mapping);
    if (rejections.length === 0) return { ok: true, message: 'Sphere accepted every configured tax code' };
    return { ok: false, code: 'sphere_tax_code_not_accepted', message: `Sphere did not accept: ${describeRejections(rejections)}. ${TAX_CODE_FIX}` };
  } catch (error) {
    return { ok: false, code: describeFailure(error).code, message: `The tax codes could not be checked (${describeFailure(error).code}).` };
  }
}

/**
 * The connect form's "Test credentials", before anything is saved: both sides checked with calls
 * that change nothing, each side's result reported. Stores nothing, so no audit entries either.
 */
export async function checkCredentials(
  deps: ClientFactory & { config: Pick<ConnectionSettings, 'sequenceBaseUrl' | 'sphereBaseUrl'> },
  input: CheckCredentialsInput,
  options: { checkDeadlineMs?: number } = {},
): Promise<Pick<TestReport, 'sequence' | 'sphere' | 'nativeIntegration'> & Partial<Pick<TestReport, 'taxCodes'>>> {
  const environment = input.sequence.environment;
  const { sequenceBaseUrl, sphereBaseUrl } = resolveBaseUrls(deps.config, { environment, sequenceBaseUrl: input.sequence.baseUrl, sphereBaseUrl: input.sphere.baseUrl });
  const clients = deps.clientsFor({
    sequence: { baseUrl: sequenceBaseUrl, clientId: input.sequence.clientId, clientSecret: input.sequence.clientSecret },
    sphere: { baseUrl: sphereBaseUrl, apiKey: input.sphere.apiKey },
  });
  const deadline = options.checkDeadlineMs ? { deadlineMs: options.checkDeadlineMs } : {};
  const checks = await checkBoth(clients, { sequence: { baseUrl: sequenceBaseUrl, environment, ...deadline }, sphere: { baseUrl: sphereBaseUrl, ...deadline } });
  // Tax codes, when given: checked like "Test credentials" does for a saved connection (the stand-in
  // products it writes in Sphere are the ones the first calculation would write anyway).
  const mapping = input.taxCodes ? { default: input.taxCodes.default, byTaxCategory: input.taxCodes.byTaxCategory ?? {} } : undefined;
  return {
    sequence: report(checks.sequence, checks.sequence.ok ? `Sequence ${environment} accepted the API client (account ${checks.sequence.value.companyName})` : ''),
    sphere: report(checks.sphere, 'Sphere accepted the API key'),
    ...(mapping ? { taxCodes: checks.sphere.ok ? await taxCodesReport(clients.sphere, mapping) : NOT_CHECKED_WITHOUT_SPHERE } : {}),
    // Before saving nothing is stored: the warning is only reported.
    nativeIntegration: checks.sequence.ok
      ? await nativeIntegrationReport(async () => warningsAfterScan({}, await scanForNativeLink(clients), new Date().toISOString())[0])
      : NOT_CHECKED_WITHOUT_SEQUENCE,
  };
}

const NOT_CHECKED_WITHOUT_SEQUENCE: SideReport = { ok: false, code: 'not_checked', message: 'Not checked: Sequence could not be called.' };

/** The scan connect runs (./native-integration.ts) as a side of the report: `scan` gives the native-link warning, if any. */
async function nativeIntegrationReport(scan: () => Promise<ConnectionWarning | undefined>): Promise<SideReport> {
  try {
    const warning = await scan();
    return warning ? { ok: false, code: warning.code, message: warning.message } : NO_NATIVE_LINK;
  } catch (error) {
    return { ok: false, code: describeFailure(error).code, message: `Could not look for a native Sequence↔Sphere integration (${describeFailure(error).code}).` };
  }
}

const NO_NATIVE_LINK: SideReport = { ok: true, message: 'No sign of a native Sequence↔Sphere integration' };

/** What testing a saved connection uses: its secret, clients for it, the record it updates. */
export interface TestConnectionDeps extends ClientFactory {
  connections: ConnectionLookup & ConnectionUpdates;
  vault: Pick<SecretStore, 'get'>;
  logger: FlowLogger;
}

export async function testConnection(deps: TestConnectionDeps, connectionId: string, options: { checkDeadlineMs?: number } = {}): Promise<{ report: TestReport; connection: Connection }> {
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

  const taxCodes = checks.sphere.ok ? await taxCodesReport(clients.sphere, connection.taxCodes) : NOT_CHECKED_WITHOUT_SPHERE;

  let current = connection;
  const nativeIntegration =
    checks.sequence.ok && sequence.ok
      ? await nativeIntegrationReport(async () => {
          current = await applyNativeLinkFinding(deps, connection, await scanForNativeLink(clients));
          return current.warnings?.find((w) => w.code === NATIVE_SPHERE_WARNING_CODE);
        })
      : NOT_CHECKED_WITHOUT_SEQUENCE;

  const result: TestReport = { sequence, sphere, webhookPolicy, taxCodes, nativeIntegration };
  const refused = [checks.sequence, checks.sphere].find((r): r is { ok: false; error: ConnectorError } => !r.ok && r.error.kind === 'user');
  if (refused && connection.status === 'ACTIVE') {
    current = await deps.connections.setStatus(connection.id, 'ERROR', { code: refused.error.code, message: refused.error.message, at: new Date().toISOString() });
    deps.logger.warn('Connection test failed; connection marked ERROR', { connectionId: connection.id, code: refused.error.code });
  } else if (connection.status === 'ERROR' && sequence.ok && sphere.ok && webhookPolicy.ok) {
    current = await deps.connections.setStatus(connection.id, 'ACTIVE');
    deps.logger.info('Connection test passed; connection ACTIVE again', { connectionId: connection.id });
  }
  return { report: result, connection: current };
}
