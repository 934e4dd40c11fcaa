/**
 * Signed webhook delivery, as Sequence documents it: POST the envelope
 * `{notificationType, sequenceAccountId, resourceType, resourceId, resource}` as JSON with
 * `Sequence-Signature: t=<unix ms>,s=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with the
 * policy's webhook secret as given (whsec_ prefix included).
 *
 * The signer is implemented here on purpose (not imported from the connector's verifier), so
 * tests that verify with the connector's code check two independent implementations.
 *
 * Delivery is asynchronous (never blocks the API response), retried on non-2xx and connection
 * failure with exponential backoff, and every attempt is recorded.
 */
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

export function signSequenceWebhook(secret: string, body: string | Buffer, t: number): string {
  const s = createHmac('sha256', secret).update(`${t}.`).update(body).digest('hex');
  return `t=${t},s=${s}`;
}

export interface WebhookAttempt {
  at: string;
  status?: number;
  error?: string;
  durationMs: number;
}

export interface WebhookDelivery {
  id: string;
  policyId: string;
  url: string;
  notificationType: string;
  resourceType?: string;
  resourceId?: string;
  /** The exact raw body sent (the same bytes on every attempt). */
  body: string;
  /** `duplicate` marks the second copy sent when `duplicateWebhooks` is on. */
  duplicate: boolean;
  state: 'pending' | 'delivered' | 'failed';
  attempts: WebhookAttempt[];
  createdAt: string;
}

export interface DispatcherOptions {
  now: () => number;
  /** Delay before retry n (1-based); the length is the number of retries (default 4 retries). */
  retryDelaysMs?: number[];
  requestTimeoutMs?: number;
}

export interface DeliveryFaults {
  duplicateWebhooks: boolean;
  reorderWebhooks: boolean;
  /** How long deliveries are held to be shuffled when reordering. */
  reorderWindowMs: number;
}

export class WebhookDispatcher {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<http.ClientRequest>();
  private held: WebhookDelivery[] = [];
  private heldTimer: NodeJS.Timeout | undefined;
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private stopped = false;
  private readonly retryDelaysMs: number[];
  /** Secrets of pending deliveries only (never exposed through /_sim/webhooks). */
  private readonly secrets = new Map<string, string>();

  constructor(private readonly options: DispatcherOptions) {
    this.retryDelaysMs = options.retryDelaysMs ?? [250, 1000, 4000, 15000];
  }

  enqueue(
    policy: { id: string; webhookSecret: string; url: string },
    envelope: { notificationType: string; sequenceAccountId: string; resourceType?: string; resourceId?: string; resource?: unknown },
    faults: DeliveryFaults,
  ): void {
    if (this.stopped) return;
    const body = JSON.stringify(envelope);
    const copies = faults.duplicateWebhooks ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delivery: WebhookDelivery = {
        id: randomUUID(),
        policyId: policy.id,
        url: policy.url,
        notificationType: envelope.notificationType,
        resourceType: envelope.resourceType,
        resourceId: envelope.resourceId,
        body,
        duplicate: i > 0,
        state: 'pending',
        attempts: [],
        createdAt: new Date(this.options.now()).toISOString(),
      };
      this.deliveries.push(delivery);
      this.secrets.set(delivery.id, policy.webhookSecret);
      this.pending++;
      if (faults.reorderWebhooks) {
        this.held.push(delivery);
        if (!this.heldTimer) {
          this.heldTimer = setTimeout(() => {
            this.heldTimer = undefined;
            const batch = this.held;
            const original = [...batch];
            this.held = [];
            // Fisher-Yates, but never the identity order when there is more than one.
            for (let j = batch.length - 1; j > 0; j--) {
              const k = Math.floor(Math.random() * (j + 1));
              [batch[j], batch[k]] = [batch[k], batch[j]];
            }
            if (batch.length > 1 && batch.every((d, idx) => d === original[idx])) batch.reverse();
            for (const d of batch) this.schedule(d, 0);
          }, faults.reorderWindowMs);
        }
      } else {
        this.schedule(delivery, 0);
      }
    }
  }

  private schedule(delivery: WebhookDelivery, delayMs: number): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery);
    }, delayMs);
    this.timers.add(timer);
  }

  private async attempt(delivery: WebhookDelivery): Promise<void> {
    const secret = this.secrets.get(delivery.id) ?? '';
    const t = this.options.now();
    const started = Date.now();
    const result = await this.post(delivery.url, delivery.body, signSequenceWebhook(secret, delivery.body, t));
    delivery.attempts.push({ at: new Date(t).toISOString(), durationMs: Date.now() - started, ...result });
    if (result.status !== undefined && result.status >= 200 && result.status < 300) {
      delivery.state = 'delivered';
      this.done(delivery);
      return;
    }
    const retry = delivery.attempts.length - 1;
    if (this.stopped || retry >= this.retryDelaysMs.length) {
      delivery.state = 'failed';
      this.done(delivery);
      return;
    }
    this.schedule(delivery, this.retryDelaysMs[retry]);
  }

  private done(delivery: WebhookDelivery): void {
    this.secrets.delete(delivery.id);
    this.pending--;
    if (this.pending <= 0) {
      this.pending = 0;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private post(url: string, body: string, signature: string): Promise<{ status?: number; error?: string }> {
    return new Promise((resolve) => {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        resolve({ error: 'invalid recipient URL' });
        return;
      }
      const mod = target.protocol === 'https:' ? https : http;
      const req = mod.request(
        target,
        {
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'sequence-signature': signature,
            'user-agent': 'Sequence-Webhooks-Simulator/1.0',
            connection: 'close',
          },
          timeout: this.options.requestTimeoutMs ?? 10_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            this.inFlight.delete(req);
            resolve({ status: res.statusCode });
          });
          res.on('error', (err) => {
            this.inFlight.delete(req);
            resolve({ status: res.statusCode, error: err.message });
          });
        },
      );
      this.inFlight.add(req);
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (err) => {
        this.inFlight.delete(req);
        resolve({ error: err.message });
      });
      req.end(body);
    });
  }

  /** Resolves once every delivery so far has been delivered or has failed for good. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  clear(): void {
    this.deliveries.length = 0;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.heldTimer) clearTimeout(this.heldTimer);
    for (const req of this.inFlight) req.destroy();
    this.inFlight.clear();
    for (const d of [...this.held, ...this.deliveries]) if (d.state === 'pending') d.state = 'failed';
    this.held = [];
    this.pending = 0;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
