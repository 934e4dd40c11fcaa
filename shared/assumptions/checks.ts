/**
 * One live check per assumption of ./registry.ts, keyed by its id (`sphere-connector verify`). A check
 * asks the VerifySession for the test resources it needs (each created at most once per run) and
 * judges what the real service did: `confirmed`, `refuted` (the service differs: the evidence says
 * how) or `unknown` (it could not be observed here, and why).
 */
import { SphereFieldNotAcceptedError, type EchoDifference, echoDifferences } from '../domain/echo-checks';
import { IntegrationIdsSchema } from '../connections/native-integration';
import { customerEchoFingerprint } from '../domain/customer-echo';
import { SPHERE_SERVICE, customerNativeEvidence } from '../domain/native-integration';
import { decimalToMinorUnits } from '../domain/money';
import { sequenceLineTax } from '../domain/sequence-tax-rule';
import { SEQUENCE_REQUEST_ID_HEADER } from '../sequence';
import { SphereFieldNames, type SphereTaxCalculation } from '../sphere';
import { DEFAULT_TOLERANCE_MS, SIGNATURE_HEADER, verifySignature } from '../webhooks/signature';
import { ASSUMPTIONS } from './registry';
import { type ReceivedWebhook, SPHERE_VERIFY_IDS, STEPS, StepFailed, VERIFY_LINE, VERIFY_LONG_QUANTITY, type VerifySession, type WireEntry } from './verify-session';

export type Verdict = 'confirmed' | 'refuted' | 'unknown';

export interface CheckResult {
  verdict: Verdict;
  evidence: string;
}

export type Check = (session: VerifySession) => Promise<CheckResult>;

const confirmed = (evidence: string): CheckResult => ({ verdict: 'confirmed', evidence });
const refuted = (evidence: string): CheckResult => ({ verdict: 'refuted', evidence });
const unknown = (evidence: string): CheckResult => ({ verdict: 'unknown', evidence });

const { TAXABILITY_REASONS, TAXABILITY_REASON_FIELD, REQUEST_ID_HEADER, TRANSACTION_FIELDS, TRANSACTION_LINE_FIELDS } = SphereFieldNames;

/** A quote refused because Sphere does not know the product (calculate_tax's `invalid_product_tax_code` for a missing product), not for its code. */
function productNotRecognised(error: StepFailed): boolean {
  return error.step !== STEPS.sphereProduct && /does not exist|not (?:recogni[sz]ed|found)/i.test(error.message);
}

/** The write step whose echo check failed refutes the check that owns it; a prerequisite's failure propagates (unknown). */
async function owningWrite<T>(owned: string, step: () => Promise<T>): Promise<T | CheckResult> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof StepFailed && error.step === owned && error.cause instanceof SphereFieldNotAcceptedError) return refuted(error.cause.message);
    throw error;
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const isResult = (value: unknown): value is CheckResult => isRecord(value) && 'verdict' in value && 'evidence' in value;

function differencesText(differences: readonly EchoDifference[]): string {
  return differences.map((d) => `${d.field}: sent ${d.sent}, GET returned ${d.echoed}`).join('; ');
}

/** After the write's own echo check passed, the record read back must hold the same fields. */
async function writtenAndReadBack(session: VerifySession, kind: 'product' | 'customer' | 'transaction', owned: string, write: () => Promise<unknown>, fields: string): Promise<CheckResult> {
  const written = await owningWrite(owned, write);
  if (isResult(written)) return written;
  const input = kind === 'product' ? session.sphereInputs.product : kind === 'customer' ? session.sphereInputs.reverseChargeCustomer : session.sphereInputs.transaction;
  const differences = await session.sphereReadBack(kind, input);
  if (differences.length > 0) return refuted(`${kind} ${input.externalId} was echoed but the record read back differs: ${differencesText(differences)}`);
  return confirmed(`${kind} ${input.externalId}: ${fields} sent, echoed by the write and read back unchanged by GET`);
}

function taxMinor(calculation: SphereTaxCalculation): number {
  return calculation.lines.reduce((sum, line) => sum + line.taxAmounts.reduce((s, t) => s + t.amount, 0), 0);
}

function reasonOf(calculation: SphereTaxCalculation): string {
  return calculation.lines[0]?.taxabilityReason ?? '(none given)';
}

/** Where, in a raw calculate_tax answer, `taxability_reason` occurs (dotted paths). */
function reasonPaths(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => {
    const at = path ? `${path}.${key}` : key;
    return [...(key === TAXABILITY_REASON_FIELD ? [at] : []), ...reasonPaths(child, at)];
  });
}

function rawLines(wire: WireEntry): Record<string, unknown>[] {
  const body = JSON.parse(wire.body ?? 'null') as { data?: { lines?: unknown }; lines?: unknown } | null;
  const lines = body?.data?.lines ?? body?.lines;
  return Array.isArray(lines) ? (lines as Record<string, unknown>[]) : [];
}

/** Does every response of the service so far carry the header? */
function requestIdHeaderCheck(session: VerifySession, service: WireEntry['service'], headerName: string): CheckResult {
  const responses = session.wire.filter((w) => w.service === service);
  const header = headerName.toLowerCase();
  const named = responses.filter((w) => w.headers[header]);
  const label = service === 'sphere' ? 'Sphere' : 'Sequence';
  if (responses.length === 0) return unknown(`${label} did not answer, so there were no headers to read`);
  if (responses.length > 0 && named.length === responses.length) return confirmed(`${headerName} on ${named.length} of ${responses.length} ${label} responses (e.g. ${named[0]!.headers[header]})`);
  if (named.length > 0) return refuted(`${headerName} on only ${named.length} of ${responses.length} ${label} responses`);
  return refuted(`no ${headerName} on ${responses.length} ${label} responses; headers seen: ${Object.keys(responses[0]?.headers ?? {}).join(', ')}`);
}

function signatureHeaderOf(delivery: ReceivedWebhook): string | undefined {
  const raw = delivery.headers[SIGNATURE_HEADER];
  return Array.isArray(raw) ? raw.join(',') : raw;
}

function signatureTimestamp(delivery: ReceivedWebhook): number | undefined {
  const match = /(?:^|,)\s*t=(\d+)/.exec(signatureHeaderOf(delivery) ?? '');
  return match ? Number(match[1]) : undefined;
}

/** One delivery's Sequence-Signature against the connector's verifier, with what differs when it fails. */
export function signatureFinding(delivery: ReceivedWebhook, webhookSecret: string): CheckResult {
  const header = signatureHeaderOf(delivery);
  const verdict = verifySignature(header, delivery.rawBody, [webhookSecret], delivery.receivedAtMs, DEFAULT_TOLERANCE_MS);
  if (verdict.ok) {
    return confirmed(`Sequence-Signature t=${verdict.timestampMs} is unix milliseconds (${delivery.receivedAtMs - verdict.timestampMs} ms before receipt); s is the hex HMAC-SHA256 of "<t>.<raw body>" keyed with the secret as given`);
  }
  if (verdict.reason === 'stale_timestamp') {
    const t = delivery.receivedAtMs - verdict.ageMs;
    if (Math.abs(delivery.receivedAtMs - t * 1000) <= DEFAULT_TOLERANCE_MS) return refuted(`the HMAC matches but t=${t} is unix seconds, not milliseconds`);
    return unknown(`the HMAC matches but t=${t} is ${Math.round(verdict.ageMs / 1000)} s from this machine's clock: check the clock and run again`);
  }
  const keys = header ? header.split(',').map((part) => part.split('=')[0]!.trim()) : [];
  return refuted(
    verdict.reason === 'missing_signature'
      ? `the delivery has no ${SIGNATURE_HEADER} header (headers: ${Object.keys(delivery.headers).join(', ')})`
      : `${SIGNATURE_HEADER} (keys ${keys.join(', ') || 'none'}) is ${verdict.reason === 'malformed_signature' ? 'not t=<ms>,s=<hex>' : 'not the HMAC-SHA256 of "<t>.<raw body>" keyed with the secret as given'}`,
  );
}

export const CHECKS: Readonly<Record<string, Check>> = {
  'SEQ-LINE-TAX-RULE': async (s) => {
    const { put, invoice } = await s.sequenceTaxedLine();
    const expected = sequenceLineTax(put.netTotal, VERIFY_LINE.taxRate, VERIFY_LINE.currency);
    const wrote = `PUT taxRate "${VERIFY_LINE.taxRate}" on netTotal ${put.netTotal} (exactly a half cent)`;
    if (decimalToMinorUnits(put.netTotal, VERIFY_LINE.currency) !== decimalToMinorUnits(VERIFY_LINE.rate, VERIFY_LINE.currency)) {
      return refuted(`a line of quantity 1 at rate ${VERIFY_LINE.rate} has netTotal ${put.netTotal}`);
    }
    if (decimalToMinorUnits(put.totalTax, VERIFY_LINE.currency, 'half-up') !== decimalToMinorUnits(expected, VERIFY_LINE.currency)) {
      return refuted(`${wrote}: Sequence answered totalTax ${put.totalTax}, the connector's rule (a fraction, rounded half-up) gives ${expected}`);
    }
    if (decimalToMinorUnits(invoice.totalTax, VERIFY_LINE.currency, 'half-up') !== decimalToMinorUnits(put.totalTax, VERIFY_LINE.currency, 'half-up')) {
      return refuted(`${wrote}: the line's totalTax is ${put.totalTax} but the invoice totalTax is ${invoice.totalTax} (not the sum of its lines)`);
    }
    return confirmed(`${wrote}: line totalTax ${put.totalTax}, invoice totalTax ${invoice.totalTax}`);
  },

  'SEQ-WEBHOOK-SIGNATURE': async (s) => {
    const outcome = await s.customerUpdatedWebhook();
    if (!outcome.received) return unknown(outcome.reason);
    const { delivery, retry, webhookSecret, waitMs } = outcome;
    const first = signatureFinding(delivery, webhookSecret);
    if (first.verdict !== 'confirmed') return first;
    if (!retry) return confirmed(`${first.evidence}; no retry of the delivery answered 500 arrived within ${waitMs / 1000} s, so re-signing was not seen`);
    const again = signatureFinding(retry, webhookSecret);
    if (again.verdict !== 'confirmed') return { verdict: again.verdict, evidence: `the retry after a 500: ${again.evidence}` };
    const t = (d: ReceivedWebhook) => signatureTimestamp(d)!;
    if (t(retry) === t(delivery)) {
      return refuted(`the retry after a 500 carries the first attempt's t=${t(delivery)}: retries are not signed anew, so one later than the tolerance is refused as stale (logged; the reconcile sweep still brings the document)`);
    }
    return confirmed(`${first.evidence}; the retry after a 500 was signed anew (t +${t(retry) - t(delivery)} ms)`);
  },

  'SEQ-CUSTOMER-UPDATED-PAYLOAD': async (s) => {
    const outcome = await s.customerUpdatedWebhook();
    if (!outcome.received) return unknown(outcome.reason);
    const envelope = JSON.parse(outcome.delivery.rawBody.toString('utf8')) as { resource?: unknown };
    const expected = customerEchoFingerprint(outcome.customerAfterPut);
    const got = customerEchoFingerprint(envelope.resource);
    if (expected !== undefined && got === expected) {
      return confirmed('the CUSTOMER_UPDATED resource is the customer as the PUT returned it (id, legalName, address, taxStatus, archivedAt, integrationIds)');
    }
    const shape = envelope.resource && typeof envelope.resource === 'object' ? `resource keys: ${Object.keys(envelope.resource).join(', ')}` : 'no resource object';
    return refuted(`the CUSTOMER_UPDATED payload is not the customer as the PUT returned it (${shape}); echoes will not be recognised and each costs two Sequence reads`);
  },

  'SEQ-MARK-AS-SENT-NO-WEBHOOK': async (s) => {
    const outcome = await s.invoiceMarkedAsSent();
    if (!outcome.observed) return unknown(outcome.reason);
    const { invoiceId, statusAfter, notified } = outcome;
    if (notified.length > 0) {
      const what = notified.map((d) => {
        const body = JSON.parse(d.rawBody.toString('utf8')) as { notificationType?: unknown; resource?: { status?: unknown } };
        return `${String(body.notificationType)} (status ${String(body.resource?.status)})`;
      });
      return refuted(`marking test invoice ${invoiceId} as sent notified the webhook: ${what.join(', ')}; harmless (the connector handles it like any send), but the README's "reach Sphere through the reconcile sweep" is then too pessimistic`);
    }
    return confirmed(`test invoice ${invoiceId} marked as sent (status ${statusAfter}): no webhook showed it FINAL or SENT, while its void right after was delivered (the policy reaches the receiver)`);
  },

  'SEQ-REQUEST-ID-HEADER': async (s) => {
    await s.sequenceCustomer().catch(() => undefined); // any answer will do, an error's too
    return requestIdHeaderCheck(s, 'sequence', SEQUENCE_REQUEST_ID_HEADER);
  },

  'SPHERE-EXEMPTION-HONOURED': async (s) => {
    const exempt = (await s.quoteExempt()).calculation;
    if (taxMinor(exempt) !== 0) return refuted(`calculate_tax with tax_exempt: true returned ${taxMinor(exempt)} minor units of tax: Sphere ignores the exemption`);
    const business = (await s.quoteEuBusiness()).calculation;
    if (taxMinor(business) !== 0) {
      return refuted(`calculate_tax for an EU business with a tax id returned ${taxMinor(business)} minor units of tax: enable reverse charge in your Sphere account`);
    }
    if (reasonOf(business) !== TAXABILITY_REASONS.reverseCharge) {
      return unknown(`the exemption is honoured (no tax, reason ${reasonOf(exempt)}), but the EU business got no tax because of "${reasonOf(business)}", not reverse charge: whether reverse charge is enabled cannot be seen`);
    }
    return confirmed(`tax_exempt: true → no tax (${reasonOf(exempt)}); EU business with a tax id → no tax (${reasonOf(business)}): reverse charge is enabled`);
  },

  'SPHERE-REVERSE-CHARGE-NEEDS-TAX-ID': async (s) => {
    const quote = (await s.quoteEuNoTaxId()).calculation;
    if (taxMinor(quote) > 0) return confirmed(`an EU buyer without a tax id is charged VAT (${taxMinor(quote)} minor units on 100.00)`);
    if (reasonOf(quote) === TAXABILITY_REASONS.reverseCharge) return refuted('Sphere reverse-charged an EU buyer without a tax id');
    return unknown(`no VAT for an EU buyer without a tax id, because of "${reasonOf(quote)}" (is the organisation registered in DE?)`);
  },

  'SPHERE-V1-CUSTOMER-FIELDS': (s) =>
    writtenAndReadBack(s, 'customer', STEPS.sphereReverseChargeCustomer, () => s.sphereReverseChargeCustomer(), 'name, billing_address (both lines), tax_ids and tax_exempt "reverse"'),

  'SPHERE-V1-PRODUCT-TAX-CODE-FIELD': (s) => writtenAndReadBack(s, 'product', STEPS.sphereProduct, () => s.sphereProduct(), `tax_code "${s.options.taxCode}"`),

  'SPHERE-V1-TRANSACTION-FIELDS': (s) =>
    writtenAndReadBack(s, 'transaction', STEPS.sphereTransaction, () => s.sphereTransaction(), 'type, status finalized, customer_id, currency, transaction_date and line product and amount'),

  'SPHERE-V1-CANCELLED-STATUS': async (s) => {
    const cancelled = await owningWrite(STEPS.cancelTransaction, () => s.cancelledTransaction());
    if (isResult(cancelled)) return cancelled;
    return confirmed(`after POST …/cancel, GET ${cancelled.externalId} reads status "${cancelled.status}"`);
  },

  'SPHERE-V1-LINE-QUANTITY-PRECISION': async (s) => {
    const sentAs = `quantity "${VERIFY_LONG_QUANTITY}" on a transaction line`;
    try {
      const { sent, echoed, readBack } = await s.sphereLongQuantityTransaction();
      const only = { only: [`${TRANSACTION_FIELDS.lineItems}.*.${TRANSACTION_LINE_FIELDS.quantity}`] };
      const changed = echoDifferences(sent, echoed, only);
      if (changed.length > 0) return refuted(`Sphere accepted ${sentAs} but answered ${changed.map((d) => `${d.field} ${d.echoed}`).join('; ')}: it rounds or drops usage quantities`);
      const stored = echoDifferences(sent, readBack, only);
      if (stored.length > 0) return refuted(`Sphere echoed ${sentAs} unchanged, but GET reads ${stored.map((d) => `${d.field} ${d.echoed}`).join('; ')}: it stores usage quantities rounded`);
      return confirmed(`${sentAs} was accepted, echoed and read back by GET unchanged`);
    } catch (error) {
      if (error instanceof StepFailed && error.step === STEPS.sphereLongQuantity && error.cause instanceof SphereFieldNotAcceptedError) {
        const answered = error.cause.differences.map((d) => `${d.field}: ${d.echoed}`).join('; ');
        return refuted(`Sphere refused ${sentAs} with HTTP ${error.cause.upstream?.status ?? '400'} (${answered}): invoices with such quantities fail with sphere_field_not_accepted until the connector rounds them`);
      }
      throw error;
    }
  },

  'SPHERE-CREDIT-WITHOUT-ORIGINAL': async (s) => {
    try {
      const credit = await s.sphereStandaloneCredit();
      if (credit.type !== 'credit' || credit.originalTransactionId) return refuted(`the standalone credit came back as type "${credit.type}", original ${credit.originalTransactionId ?? '(none)'}`);
      return confirmed(`a finalized credit without original_transaction_id was accepted (${credit.externalId})`);
    } catch (error) {
      if (error instanceof StepFailed && error.step === STEPS.sphereStandaloneCredit && /original_transaction_id/.test(error.message)) {
        return refuted(`Sphere refused a credit without original_transaction_id (${error.cause instanceof Error ? error.cause.message : String(error.cause)}): credit notes created from scratch will fail`);
      }
      throw error;
    }
  },

  'SEQ-NATIVE-SPHERE-LINK': async (s) => {
    const evidence = await s.nativeLinkScan();
    if (evidence.length > 0) {
      return confirmed(`this account shows a native Sequence↔Sphere link: ${evidence.map((e) => `${e.resourceType} ${e.resourceId} (${e.found})`).join('; ')}. Disconnect it before connecting, or confirm with options.allowBesideNativeIntegration`);
    }
    // No native link here to watch: check instead that the marks the scan looks for show where and as it reads them.
    const probe = await s.nativeTagProbe();
    const shown = (listed: unknown) => (isRecord(listed) ? `integrationIds ${JSON.stringify(listed.integrationIds) ?? '(absent)'}` : 'no such customer');
    const own = IntegrationIdsSchema.safeParse(probe.ownListed);
    if (!own.success || !own.data.integrationIds.some((i) => i.service === SPHERE_SERVICE && i.id === probe.customerId)) {
      return refuted(`after a PUT of integrationIds [{service: "Sphere", id: <the customer id>}] the customer list shows ${shown(probe.ownListed)}: the native-link scan reads integrationIds [{service, id}] there, so another service's Sphere tag would go unseen`);
    }
    if (customerNativeEvidence(own.data)) return refuted(`the connector's own Sphere tag reads as another service's (${shown(probe.ownListed)}): a reconnect would be taken for a native link`);
    const foreign = IntegrationIdsSchema.safeParse(probe.foreignListed);
    if (!foreign.success || !customerNativeEvidence(foreign.data)) {
      return refuted(`after a PUT of another Sphere id ("${probe.foreignId}") the customer list shows ${shown(probe.foreignListed)}: the native-link scan would not see it`);
    }
    if (!Array.isArray(probe.invoiceLinkedServices)) {
      return refuted(`invoices carry no linkedServices array (${JSON.stringify(probe.invoiceLinkedServices) ?? 'absent'}): a Sphere linked service would go unseen`);
    }
    return confirmed(
      'no native link on this account. Proven: the customer list shows integrationIds [{service, id}] as the scan reads them; the connector\'s own Sphere tag (the customer id) is not taken for a native link, another Sphere id on the test customer is; invoices carry linkedServices. ' +
        'Not proven (no native integration to watch): that Sequence\'s or Sphere\'s native integration leaves such a tag or a Sphere linked service',
    );
  },

  'SPHERE-TAX-CODES': async (s) => {
    try {
      await s.quoteUs();
    } catch (error) {
      if (error instanceof StepFailed && /tax.?code/i.test(error.message) && !productNotRecognised(error)) {
        const why = error.cause instanceof Error ? error.cause.message.replace(/\.$/, '') : String(error.cause);
        return refuted(`Sphere does not accept "${s.options.taxCode}" (${why}): give a product tax code of your Sphere organisation (Sphere > Products)`);
      }
      throw error;
    }
    return confirmed(`Sphere accepted "${s.options.taxCode}" on a product and in a calculate_tax quote`);
  },

  'SPHERE-V1-PRODUCT-IN-CALCULATION': async (s) => {
    try {
      await s.quoteUs();
    } catch (error) {
      if (error instanceof StepFailed && productNotRecognised(error)) {
        return refuted(`calculate_tax did not recognise the product created through v1 (${error.cause instanceof Error ? error.cause.message : String(error.cause)})`);
      }
      throw error;
    }
    return confirmed(`calculate_tax priced product_id "${SPHERE_VERIFY_IDS.product}", created through POST /v1/products`);
  },

  'SPHERE-RECORDED-TAX-MATCHES': async (s) => {
    const quoted = taxMinor((await s.quoteUs()).calculation);
    const transaction = await s.sphereTransaction();
    if (transaction.tax === undefined) return unknown('the finalized transaction came back without a tax amount');
    const recorded = decimalToMinorUnits(transaction.tax, 'USD', 'half-up');
    if (recorded !== quoted) return refuted(`calculate_tax quoted ${quoted} minor units, the finalized transaction records ${recorded} for the same line`);
    return confirmed(`calculate_tax and the finalized transaction agree: ${recorded} minor units on 100.00`);
  },

  'SPHERE-TAXABILITY-REASON-LOCATION': async (s) => {
    const { wire } = await s.quoteExempt();
    const line = rawLines(wire)[0];
    if (!line) return unknown('calculate_tax answered without lines');
    if (Array.isArray(line.tax_amounts) && line.tax_amounts.length > 0) return unknown('the exempt quote still had tax_amounts, so the empty case was not seen');
    if (typeof line[TAXABILITY_REASON_FIELD] === 'string') return confirmed(`with empty tax_amounts the line carries ${TAXABILITY_REASON_FIELD} "${String(line[TAXABILITY_REASON_FIELD])}"`);
    const found = reasonPaths(JSON.parse(wire.body ?? 'null'));
    return refuted(found.length > 0 ? `with empty tax_amounts ${TAXABILITY_REASON_FIELD} sits at ${found.join(', ')}, not on the line` : `with empty tax_amounts there is no ${TAXABILITY_REASON_FIELD} anywhere in the answer`);
  },

  'SPHERE-REQUEST-ID-HEADER': async (s) => {
    await s.quoteUs().catch(() => undefined); // any answer will do, an error's too
    return requestIdHeaderCheck(s, 'sphere', REQUEST_ID_HEADER);
  },
};

export interface VerifyResult extends CheckResult {
  id: string;
  assumption: string;
}

/** Runs the check of every registry entry in order (one run, shared test resources), then cleans up. */
export async function runChecks(session: VerifySession): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  try {
    for (const assumption of ASSUMPTIONS) {
      const check = CHECKS[assumption.id];
      let result: CheckResult;
      try {
        result = check ? await check(session) : unknown(`no automatic check; by hand: ${assumption.verify}`);
      } catch (error) {
        result = unknown(error instanceof StepFailed ? `could not ${error.message}` : `could not check: ${error instanceof Error ? error.message : String(error)}`);
      }
      results.push({ id: assumption.id, assumption: assumption.statement, ...result });
    }
  } finally {
    await session.cleanup();
  }
  return results;
}
