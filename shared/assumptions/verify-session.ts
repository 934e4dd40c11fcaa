/**
 * What `sphere-connector verify` works with: the real SequenceClient and SphereClient (so the checks
 * run the connector's own codecs and echo checks), a log of every raw response they received (the
 * checks that are about the wire read it: headers, where a field sits), a local webhook receiver, and
 * the test resources, each created at most once however many checks need it and removed at the end.
 *
 * A step that fails throws StepFailed naming the step: the check that owns the step may read the
 * cause as a refutation (e.g. `sphere_field_not_accepted` on the customer write); every other check
 * that needed it reports `unknown`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import * as z from 'zod';
import { type Customer, type Invoice, type LineItem, type NotificationPolicy, SequenceClient, customerToRequest, lineItemToRequest } from '../sequence';
import { scanForNativeLink } from '../connections/native-integration';
import { type EchoDifference, SphereFieldNotAcceptedError, echoDifferences } from '../domain/echo-checks';
import { type NativeLinkEvidence } from '../domain/native-integration';
import { minorUnitsToDecimal } from '../domain/money';
import {
  type SphereCustomer,
  type SphereCustomerInput,
  type SphereProduct,
  type SphereProductInput,
  type SphereTaxCalculation,
  type SphereTransaction,
  type SphereTransactionInput,
  SPHERE_ECHO_CHECKED,
  SphereClient,
  SphereFieldNames,
  SphereNotFoundError,
  encodeCustomer,
  encodeProduct,
  encodeTransaction,
} from '../sphere';

export const VERIFY_PREFIX = 'sphere-connector-verify';

/** Sphere v1 has no delete: these fixed ids are upserted again by the next run instead of piling up. */
export const SPHERE_VERIFY_IDS = {
  taxableCustomer: `${VERIFY_PREFIX}-taxable`,
  reverseChargeCustomer: `${VERIFY_PREFIX}-reverse-charge`,
  product: `${VERIFY_PREFIX}-product`,
} as const;

/** A taxed US address (California is the usual first registration) and an EU business buyer. */
export const VERIFY_ADDRESSES = {
  us: { line1: '1315 10th St', city: 'Sacramento', state: 'CA', postalCode: '95814', country: 'US' },
  eu: { line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' },
} as const;
export const VERIFY_EU_TAX_ID = { type: 'eu_vat', value: 'DE123456789' } as const;

/**
 * The line that tells the rounding rules apart: 10.10 × 0.05 = 0.505 exactly, a tie. Half-up gives
 * 0.51; half-even, truncation and a percentage reading (0.00505) all give something else.
 */
export const VERIFY_LINE = { rate: '10.10', taxRate: '0.05', currency: 'USD' } as const;
/** The amount of the Sphere quotes and the transaction, in minor units (100.00). */
export const VERIFY_AMOUNT_MINOR = 10_000;
/** A usage-like line quantity: Sequence sends metered quantities with this many decimals, and the connector passes them on. */
export const VERIFY_LONG_QUANTITY = '1.123456789012';

export interface WireEntry {
  service: 'sequence' | 'sphere';
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  body?: string;
}

export interface ReceivedWebhook {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  receivedAtMs: number;
  /** What the receiver answered: 500 to the first delivery of the test customer, to see the retry. */
  answeredStatus: number;
}

export interface VerifyOptions {
  sequenceBaseUrl: string;
  sequenceClientId: string;
  sequenceClientSecret: string;
  sphereBaseUrl: string;
  sphereApiKey: string;
  /** A product tax code of the Sphere organisation (the one connect will get as `taxCodes.default`). */
  taxCode: string;
  /** A public URL that forwards to the local receiver (a tunnel); without it, only a loopback Sequence can reach it. */
  webhookUrl?: string;
  /** Port of the local receiver; 0 = any free port. */
  webhookPort?: number;
  /** How long to wait for the webhook. */
  webhookWaitMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

/** The steps a run may take, each at most once; a StepFailed names one. */
export const STEPS = {
  sequenceCustomer: 'create the Sequence test customer',
  sequenceTaxedLine: 'write a taxed line to a Sequence draft invoice',
  webhookPolicy: 'register a notification policy to the local webhook receiver',
  webhook: 'receive a CUSTOMER_UPDATED webhook',
  markAsSent: 'mark a Sequence test invoice as sent, then void it',
  nativeTagProbe: 'tag the Sequence test customer with a Sphere integration id and read the customer list',
  sphereProduct: 'upsert the Sphere test product',
  sphereTaxableCustomer: 'upsert the taxable Sphere test customer',
  sphereReverseChargeCustomer: 'upsert the reverse-charged Sphere test customer',
  sphereTransaction: 'record a Sphere test transaction',
  cancelTransaction: 'cancel the Sphere test transaction',
  sphereStandaloneCredit: 'record a standalone Sphere test credit (no original transaction)',
  sphereLongQuantity: `record a Sphere test transaction whose line quantity is ${VERIFY_LONG_QUANTITY}`,
  nativeLinkScan: 'read customers, products, prices and invoices for signs of a native Sphere link',
} as const;

export class StepFailed extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StepFailed';
  }
}

export type WebhookOutcome =
  | {
      received: true;
      /** The first delivery (answered 500) and its retry, when one arrived in time. */
      delivery: ReceivedWebhook;
      retry?: ReceivedWebhook;
      webhookSecret: string;
      customerAfterPut: Customer;
      waitMs: number;
    }
  | { received: false; reason: string };

/** What mark-as-sent notified about the test invoice, judged against the void after it (which notifies: the control). */
export type MarkAsSentOutcome =
  | {
      observed: true;
      invoiceId: string;
      /** The status mark-as-sent answered with. */
      statusAfter: string;
      /** Deliveries about the invoice showing it FINAL or SENT, or INVOICE_ISSUED: what mark-as-sent notified. */
      notified: ReceivedWebhook[];
      /** The void's delivery, proof that the policy reached the receiver. */
      control: ReceivedWebhook;
    }
  | { observed: false; reason: string };

/** The test customer as the customer list (what the native-link scan reads) showed it after each tag was written. */
export interface NativeTagProbe {
  customerId: string;
  /** Another service's Sphere id, written after the connector's own (the customer id). */
  foreignId: string;
  ownListed: unknown;
  foreignListed: unknown;
  /** The raw `linkedServices` of the test invoice (where a Sphere-linked invoice shows it). */
  invoiceLinkedServices: unknown;
}

/** The notifications the checks watch, in one policy. */
const WATCHED_NOTIFICATIONS = ['CUSTOMER_UPDATED', 'INVOICE_UPDATED', 'INVOICE_ISSUED'] as const;

type WebhookListener = { reachable: true; receiver: Receiver; recipient: string; webhookSecret: string; waitMs: number } | { reachable: false; reason: string };

interface DeliveryAbout {
  notificationType?: unknown;
  resourceId?: unknown;
  resource?: { id?: unknown; status?: unknown };
}

/** The envelope of a delivery when it is about the resource `id` (by resourceId or resource.id). */
function deliveryAbout(delivery: ReceivedWebhook, id: string): DeliveryAbout | undefined {
  try {
    const body = JSON.parse(delivery.rawBody.toString('utf8')) as DeliveryAbout;
    return body.resourceId === id || body.resource?.id === id ? body : undefined;
  } catch {
    return undefined;
  }
}

const CustomerListItemTags = z.looseObject({ id: z.string() });

interface Receiver {
  server: http.Server;
  url: string;
  deliveries: ReceivedWebhook[];
  waiters: (() => void)[];
  /** The first delivery this matches is answered 500 (Sequence then retries it). */
  rejectFirst?: (delivery: ReceivedWebhook) => boolean;
}

const AnyBody = z.unknown();

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '::1' || hostname === '[::1]' || /^127\./.test(hostname);
}

function recordingFetch(service: WireEntry['service'], log: WireEntry[], inner: typeof fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const body = await response
      .clone()
      .text()
      .catch(() => undefined);
    log.push({
      service,
      method: init?.method ?? 'GET',
      path: url.pathname,
      status: response.status,
      headers: Object.fromEntries(response.headers.entries()),
      ...(body !== undefined ? { body } : {}),
    });
    return response;
  };
}

/** A transaction as sent and as Sphere answered the write and a GET after it, raw (the checks judge the wire). */
export interface SphereTransactionRoundTrip {
  sent: unknown;
  echoed: unknown;
  readBack: unknown;
}

export interface SphereVerifyInputs {
  product: SphereProductInput;
  taxableCustomer: SphereCustomerInput;
  reverseChargeCustomer: SphereCustomerInput;
  transaction: SphereTransactionInput;
}

/** What the run writes to Sphere: every field the connector writes, with non-default values. */
function sphereVerifyInputs(taxCode: string, runId: string, today: string): SphereVerifyInputs {
  return {
    product: { externalId: SPHERE_VERIFY_IDS.product, name: `${VERIFY_PREFIX} product (test)`, taxCode: taxCode },
    /** A taxable US customer, the one the test transaction is recorded for. */
    taxableCustomer: { externalId: SPHERE_VERIFY_IDS.taxableCustomer, name: `${VERIFY_PREFIX} taxable (test)`, billingAddress: { ...VERIFY_ADDRESSES.us }, exemptionStatus: 'taxable' },
    /** Address with both lines, tax ids, a non-default exemption. */
    reverseChargeCustomer: {
      externalId: SPHERE_VERIFY_IDS.reverseChargeCustomer,
      name: `${VERIFY_PREFIX} reverse charge (test)`,
      billingAddress: { ...VERIFY_ADDRESSES.eu, line2: 'Test building' },
      taxIds: [{ ...VERIFY_EU_TAX_ID }],
      exemptionStatus: 'reverse_charge',
    },
    /** A finalized debit, as the connector records a finalised invoice. */
    transaction: {
      externalId: `${VERIFY_PREFIX}-${runId}`,
      type: 'debit',
      status: 'finalized',
      customerId: SPHERE_VERIFY_IDS.taxableCustomer,
      currency: 'usd',
      transactionDate: today,
      lineItems: [{ id: 'line_1', productId: SPHERE_VERIFY_IDS.product, amount: minorUnitsToDecimal(VERIFY_AMOUNT_MINOR, 'USD'), quantity: '1' }],
    },
  };
}

export class VerifySession {
  readonly sequence: SequenceClient;
  readonly sphere: SphereClient;
  readonly wire: WireEntry[] = [];
  /** Leftovers the run could not remove, for the user to delete by hand. */
  readonly cleanupFailures: string[] = [];
  readonly runId = randomUUID().slice(0, 8);
  readonly now: () => number;
  readonly sphereInputs: SphereVerifyInputs;
  private readonly cleanups: { what: string; run: () => Promise<unknown> }[] = [];
  private readonly memo = new Map<string, Promise<unknown>>();
  private receiver?: Receiver;

  constructor(readonly options: VerifyOptions) {
    const inner = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.sphereInputs = sphereVerifyInputs(options.taxCode, this.runId, new Date(this.now()).toISOString().slice(0, 10));
    this.sequence = new SequenceClient({
      baseUrl: options.sequenceBaseUrl,
      clientId: options.sequenceClientId,
      clientSecret: options.sequenceClientSecret,
      fetch: recordingFetch('sequence', this.wire, inner),
    });
    this.sphere = new SphereClient({ baseUrl: options.sphereBaseUrl, apiKey: options.sphereApiKey, fetch: recordingFetch('sphere', this.wire, inner) });
  }

  /** Runs `fn` once per session; later callers share its result (or its StepFailed). */
  private once<T>(step: string, fn: () => Promise<T>): Promise<T> {
    let result = this.memo.get(step) as Promise<T> | undefined;
    if (!result) {
      result = fn().catch((error: unknown) => {
        throw error instanceof StepFailed ? error : new StepFailed(step, error);
      });
      this.memo.set(step, result);
    }
    return result;
  }

  private onCleanup(what: string, run: () => Promise<unknown>): void {
    this.cleanups.push({ what, run });
  }

  // ---- Sequence ------------------------------------------------------------------------------

  sequenceCustomer(): Promise<Customer> {
    return this.once(STEPS.sequenceCustomer, async () => {
      const a = VERIFY_ADDRESSES.us;
      const customer = await this.sequence.createCustomer({
        legalName: `${VERIFY_PREFIX} ${this.runId} (test customer, safe to delete)`,
        address: { line1: a.line1, town: a.city, state: a.state, postcode: a.postalCode, country: a.country },
        contacts: [],
        taxStatus: 'TAXED',
      });
      this.onCleanup(`Sequence customer ${customer.id} (archive it)`, () => this.sequence.request('POST', `/customers/${encodeURIComponent(customer.id)}/archive`, AnyBody));
      return customer;
    });
  }

  /** A DRAFT invoice with one line written with taxRate 0, then PUT with VERIFY_LINE.taxRate as the connector does. */
  sequenceTaxedLine(): Promise<{ put: LineItem; invoice: Invoice }> {
    return this.once(STEPS.sequenceTaxedLine, async () => {
      const customer = await this.sequenceCustomer();
      const draft = await this.sequence.createInvoice({ currency: VERIFY_LINE.currency, customerId: customer.id });
      this.onCleanup(`Sequence invoice ${draft.id} (delete the draft)`, () => this.deleteDraft(draft.id));
      const line = await this.sequence.createLineItem(draft.id, { title: `${VERIFY_PREFIX} line`, quantity: '1', rate: VERIFY_LINE.rate, taxRate: '0', externalIds: [] });
      const put = await this.sequence.updateLineItem(draft.id, line.id, lineItemToRequest(line, { taxRate: VERIFY_LINE.taxRate }));
      const invoice = await this.sequence.getInvoice(draft.id);
      return { put, invoice };
    });
  }

  private async deleteDraft(invoiceId: string): Promise<void> {
    try {
      await this.sequence.request('DELETE', `/invoices/${encodeURIComponent(invoiceId)}`, AnyBody);
    } catch {
      await this.sequence.voidInvoice(invoiceId);
    }
  }

  /**
   * The local receiver and one notification policy sending it what the checks watch. Skipped (with
   * the reason) when Sequence cannot reach this machine.
   */
  private webhookListener(): Promise<WebhookListener> {
    return this.once(STEPS.webhookPolicy, async (): Promise<WebhookListener> => {
      const sequenceHost = new URL(this.options.sequenceBaseUrl).hostname;
      if (!this.options.webhookUrl && !isLoopback(sequenceHost)) {
        return {
          reachable: false,
          reason: `Sequence at ${sequenceHost} cannot reach a receiver on this machine, so no policy was registered; pass --webhook-url https://… (a tunnel to --webhook-port) to check it`,
        };
      }
      const receiver = await this.startReceiver();
      const recipient = this.options.webhookUrl ?? receiver.url;
      const webhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
      const policy: NotificationPolicy = await this.sequence.createNotificationPolicy({
        name: `${VERIFY_PREFIX} ${this.runId}`,
        recipients: [recipient],
        channel: 'WEBHOOK',
        notificationTypes: [...WATCHED_NOTIFICATIONS],
        webhookSecret,
      });
      this.onCleanup(`Sequence notification policy ${policy.id} (delete it)`, () => this.sequence.deleteNotificationPolicy(policy.id));
      return { reachable: true, receiver, recipient, webhookSecret, waitMs: this.options.webhookWaitMs ?? 30_000 };
    });
  }

  /** Updates the test customer and waits for its CUSTOMER_UPDATED (answered 500 once, to see the retry). */
  customerUpdatedWebhook(): Promise<WebhookOutcome> {
    return this.once(STEPS.webhook, async (): Promise<WebhookOutcome> => {
      const listener = await this.webhookListener();
      if (!listener.reachable) return { received: false, reason: listener.reason };
      const { receiver, recipient, webhookSecret, waitMs } = listener;
      const customer = await this.sequenceCustomer();
      const mine = (d: ReceivedWebhook) => deliveryAbout(d, customer.id)?.notificationType === 'CUSTOMER_UPDATED';
      receiver.rejectFirst = mine;
      const customerAfterPut = await this.sequence.updateCustomer(customer.id, { ...customerToRequest(customer), label: `${VERIFY_PREFIX} ${this.runId} updated` });
      const deadline = this.now() + waitMs;
      const delivery = await this.waitForDelivery(mine, deadline);
      if (!delivery) {
        return {
          received: false,
          reason: `no CUSTOMER_UPDATED for the test customer reached ${recipient} within ${waitMs / 1000} s (${receiver.deliveries.length} other deliveries)`,
        };
      }
      const retry = await this.waitForDelivery((d) => d !== delivery && mine(d), deadline);
      return { received: true, delivery, ...(retry ? { retry } : {}), webhookSecret, customerAfterPut, waitMs };
    });
  }

  /**
   * A DRAFT test invoice marked as sent, then voided. The void notifies (INVOICE_UPDATED), so once its
   * delivery arrives the policy provably reaches the receiver, and what arrived about the invoice in
   * between is what mark-as-sent notified. The void also removes the invoice from the books.
   */
  invoiceMarkedAsSent(): Promise<MarkAsSentOutcome> {
    return this.once(STEPS.markAsSent, async (): Promise<MarkAsSentOutcome> => {
      const listener = await this.webhookListener();
      if (!listener.reachable) return { observed: false, reason: listener.reason };
      const { receiver, recipient, waitMs } = listener;
      const customer = await this.sequenceCustomer();
      const draft = await this.sequence.createInvoice({ currency: VERIFY_LINE.currency, customerId: customer.id });
      let voided = false;
      this.onCleanup(`Sequence invoice ${draft.id} (void it)`, () => (voided ? Promise.resolve() : this.deleteDraft(draft.id)));
      await this.sequence.createLineItem(draft.id, { title: `${VERIFY_PREFIX} line`, quantity: '1', rate: VERIFY_LINE.rate, taxRate: '0', externalIds: [] });
      const sent = await this.sequence.markInvoiceAsSent(draft.id);
      await this.sequence.voidInvoice(draft.id);
      voided = true;
      const control = await this.waitForDelivery((d) => deliveryAbout(d, draft.id)?.resource?.status === 'VOIDED', this.now() + waitMs);
      if (!control) {
        return {
          observed: false,
          reason: `the void of test invoice ${draft.id}, which notifies, did not reach ${recipient} within ${waitMs / 1000} s, so no delivery after mark-as-sent proves nothing`,
        };
      }
      const notified = receiver.deliveries.filter((d) => {
        const about = d === control ? undefined : deliveryAbout(d, draft.id);
        return about !== undefined && (about.notificationType === 'INVOICE_ISSUED' || about.resource?.status === 'FINAL' || about.resource?.status === 'SENT');
      });
      return { observed: true, invoiceId: draft.id, statusAfter: sent.status, notified, control };
    });
  }

  private async startReceiver(): Promise<Receiver> {
    if (this.receiver) return this.receiver;
    const deliveries: ReceivedWebhook[] = [];
    const waiters: (() => void)[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const delivery: ReceivedWebhook = { headers: req.headers, rawBody: Buffer.concat(chunks), receivedAtMs: this.now(), answeredStatus: 200 };
        const receiver = this.receiver!;
        if (receiver.rejectFirst?.(delivery)) {
          receiver.rejectFirst = undefined;
          delivery.answeredStatus = 500;
        }
        deliveries.push(delivery);
        res.writeHead(delivery.answeredStatus, { 'content-type': 'application/json' }).end('{}');
        for (const w of waiters.splice(0)) w();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.webhookPort ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    this.receiver = { server, url: `http://127.0.0.1:${port}/webhooks/verify`, deliveries, waiters };
    this.onCleanup('the local webhook receiver', () => new Promise<void>((resolve) => server.close(() => resolve())));
    return this.receiver;
  }

  /** Waits for a matching delivery, woken by each arrival; gives up at `deadline` (ms). */
  private async waitForDelivery(match: (d: ReceivedWebhook) => boolean, deadline: number): Promise<ReceivedWebhook | undefined> {
    const receiver = this.receiver!;
    for (;;) {
      const found = receiver.deliveries.find(match);
      if (found) return found;
      const left = deadline - this.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        receiver.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  // ---- Sphere --------------------------------------------------------------------------------

  sphereProduct(): Promise<SphereProduct> {
    return this.once(STEPS.sphereProduct, () => this.sphere.upsertProduct(this.sphereInputs.product));
  }

  sphereTaxableCustomer(): Promise<SphereCustomer> {
    return this.once(STEPS.sphereTaxableCustomer, () => this.sphere.upsertCustomer(this.sphereInputs.taxableCustomer));
  }

  sphereReverseChargeCustomer(): Promise<SphereCustomer> {
    return this.once(STEPS.sphereReverseChargeCustomer, () => this.sphere.upsertCustomer(this.sphereInputs.reverseChargeCustomer));
  }

  /**
   * GET a written record back (through the client, so its codec runs) and compare what was sent with
   * what Sphere now holds, field by field, the way the connector compares a write's echo.
   */
  async sphereReadBack(kind: 'product' | 'customer' | 'transaction', input: SphereProductInput | SphereCustomerInput | SphereTransactionInput): Promise<EchoDifference[]> {
    const found =
      kind === 'product' ? await this.sphere.getProduct(input.externalId) : kind === 'customer' ? await this.sphere.getCustomer(input.externalId) : await this.sphere.getTransaction(input.externalId);
    if (!found) return [{ field: '(the whole record)', sent: input.externalId, echoed: '(missing: GET answered 404)' }];
    const path = `${kind === 'product' ? SphereFieldNames.SPHERE_PATHS.products : kind === 'customer' ? SphereFieldNames.SPHERE_PATHS.customers : SphereFieldNames.SPHERE_PATHS.transactions}/${encodeURIComponent(input.externalId)}`;
    const raw = JSON.parse(this.lastWire('sphere', 'GET', path)?.body ?? 'null') as unknown;
    const sent =
      kind === 'product'
        ? encodeProduct(input as SphereProductInput)
        : kind === 'customer'
          ? encodeCustomer(input as SphereCustomerInput)
          : encodeTransaction(input as SphereTransactionInput);
    return echoDifferences(sent, raw, SPHERE_ECHO_CHECKED[kind]);
  }

  private quote(step: string, input: { address: keyof typeof VERIFY_ADDRESSES; taxId?: string; taxExempt?: boolean }): Promise<{ calculation: SphereTaxCalculation; wire: WireEntry }> {
    return this.once(step, async () => {
      await this.sphereProduct();
      const calculation = await this.sphere.calculateTax({
        currency: 'usd',
        lineItems: [{ id: 'line_1', amount: VERIFY_AMOUNT_MINOR, productId: SPHERE_VERIFY_IDS.product }],
        customerAddress: { ...VERIFY_ADDRESSES[input.address] },
        ...(input.taxId ? { taxId: input.taxId } : {}),
        ...(input.taxExempt ? { taxExempt: true } : {}),
        includeTaxabilityReason: true,
      });
      return { calculation, wire: this.lastWire('sphere', 'POST', '/tax_api/calculate_tax')! };
    });
  }

  quoteUs() {
    return this.quote('quote tax for a US customer', { address: 'us' });
  }
  quoteEuBusiness() {
    return this.quote('quote tax for an EU business with a tax id', { address: 'eu', taxId: VERIFY_EU_TAX_ID.value });
  }
  quoteEuNoTaxId() {
    return this.quote('quote tax for an EU buyer without a tax id', { address: 'eu' });
  }
  quoteExempt() {
    return this.quote('quote tax for an exempt customer', { address: 'us', taxExempt: true });
  }

  sphereTransaction(): Promise<SphereTransaction> {
    return this.once(STEPS.sphereTransaction, async () => {
      await Promise.all([this.sphereProduct(), this.sphereTaxableCustomer()]);
      const { externalId } = this.sphereInputs.transaction;
      this.onCleanup(`Sphere transaction ${externalId} (cancel it)`, async () => {
        if (this.memo.has(STEPS.cancelTransaction)) return;
        try {
          await this.sphere.cancelTransaction(externalId);
        } catch (error) {
          if (!(error instanceof SphereNotFoundError)) throw error; // never created: nothing to cancel
        }
      });
      return this.sphere.createTransaction(this.sphereInputs.transaction);
    });
  }

  /** A finalized credit without original_transaction_id, as the connector records a credit note created from scratch. */
  sphereStandaloneCredit(): Promise<SphereTransaction> {
    return this.once(STEPS.sphereStandaloneCredit, async () => {
      await Promise.all([this.sphereProduct(), this.sphereTaxableCustomer()]);
      const externalId = `${this.sphereInputs.transaction.externalId}-credit`;
      this.cancelOnCleanup(externalId);
      return this.sphere.createTransaction({ ...this.sphereInputs.transaction, externalId, type: 'credit' });
    });
  }

  /**
   * The test transaction under its own id (a refusal must not hide the other transaction checks), its
   * line carrying VERIFY_LONG_QUANTITY as the connector passes a usage quantity on. Read back by GET
   * too: a write may answer the value as validated while the record stores it rounded.
   */
  sphereLongQuantityTransaction(): Promise<SphereTransactionRoundTrip> {
    return this.once(STEPS.sphereLongQuantity, async () => {
      await Promise.all([this.sphereProduct(), this.sphereTaxableCustomer()]);
      const { transactions } = SphereFieldNames.SPHERE_PATHS;
      const input: SphereTransactionInput = {
        ...this.sphereInputs.transaction,
        externalId: `${this.sphereInputs.transaction.externalId}-quantity`,
        lineItems: this.sphereInputs.transaction.lineItems.map((line) => ({ ...line, quantity: VERIFY_LONG_QUANTITY })),
      };
      this.cancelOnCleanup(input.externalId);
      await this.sphere.createTransaction(input);
      const echoed = JSON.parse(this.lastWire('sphere', 'POST', transactions)?.body ?? 'null') as unknown;
      await this.sphere.getTransaction(input.externalId);
      const readBack = JSON.parse(this.lastWire('sphere', 'GET', `${transactions}/${encodeURIComponent(input.externalId)}`)?.body ?? 'null') as unknown;
      return { sent: encodeTransaction(input), echoed, readBack };
    });
  }

  /** Cancels a test transaction at the end, if Sphere took it. */
  private cancelOnCleanup(externalId: string): void {
    this.onCleanup(`Sphere transaction ${externalId} (cancel it)`, async () => {
      try {
        await this.sphere.cancelTransaction(externalId);
      } catch (error) {
        if (error instanceof SphereNotFoundError) return; // refused: nothing to cancel
        // The cancel went through and only its status reads differently: SPHERE-V1-CANCELLED-STATUS reports that.
        if (error instanceof SphereFieldNotAcceptedError) return;
        throw error;
      }
    });
  }

  /** What connect and "Test credentials" look at (shared/connections/native-integration.ts); reads only. */
  nativeLinkScan(): Promise<NativeLinkEvidence[]> {
    return this.once(STEPS.nativeLinkScan, () => scanForNativeLink({ sequence: this.sequence }));
  }

  /**
   * Writes the connector's own Sphere tag (the customer id) on the test customer, then another
   * service's, reading the customer list (what the scan reads) after each; the tags are removed
   * again at the end. Also hands back the test invoice's raw `linkedServices`.
   */
  nativeTagProbe(): Promise<NativeTagProbe> {
    return this.once(STEPS.nativeTagProbe, async () => {
      const { invoice } = await this.sequenceTaxedLine();
      const invoiceLinkedServices = (JSON.parse(this.lastWire('sequence', 'GET', `/invoices/${encodeURIComponent(invoice.id)}`)?.body ?? '{}') as { linkedServices?: unknown }).linkedServices;
      const { id: customerId, legalName } = await this.sequenceCustomer();
      const foreignId = `${VERIFY_PREFIX}-foreign-${this.runId}`;
      const tag = async (sphereId: string | undefined): Promise<unknown> => {
        const current = await this.sequence.getCustomer(customerId);
        await this.sequence.updateCustomer(customerId, { ...customerToRequest(current), integrationIds: sphereId ? [{ service: 'Sphere', id: sphereId }] : [] });
        for await (const item of this.sequence.paginate('/customers', CustomerListItemTags, { legalName })) if (item.id === customerId) return item;
        return undefined;
      };
      this.onCleanup(`the Sphere integration id on Sequence customer ${customerId} (remove it)`, () => tag(undefined));
      const ownListed = await tag(customerId);
      const foreignListed = await tag(foreignId);
      return { customerId, foreignId, ownListed, foreignListed, invoiceLinkedServices };
    });
  }

  cancelledTransaction(): Promise<SphereTransaction> {
    return this.once(STEPS.cancelTransaction, async () => this.sphere.cancelTransaction((await this.sphereTransaction()).externalId));
  }

  lastWire(service: WireEntry['service'], method: string, path: string): WireEntry | undefined {
    return [...this.wire].reverse().find((w) => w.service === service && w.method === method && w.path.endsWith(path));
  }

  /** Removes what the run created, newest first; what cannot be removed is listed in cleanupFailures. */
  async cleanup(): Promise<void> {
    for (const { what, run } of this.cleanups.splice(0).reverse()) {
      try {
        await run();
      } catch (error) {
        this.cleanupFailures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
