/**
 * What the tax entry points write for CloudWatch, read the way CloudWatch reads it: Powertools in
 * Lambda mode writes EMF JSON lines (metrics) and JSON log lines to stdout, captured here.
 *  - an invoice taxed through the admin route emits InvoicesTaxed;
 *  - a failure recorded by the admin route emits Failures (the alarm's metric), Failures per
 *    connectionId and FailuresByCode, as the queue worker does;
 *  - the direct invocation of calculate-invoice-tax (which bypasses the worker) gets the Lambda
 *    context on its log lines and flushes its metrics and audit entries before it returns;
 *  - every log line of an admin tax call and of a webhook delivery names the connection and the
 *    resource, and no key carries over to the next invocation of the same (warm) function.
 */
import { LAMBDA_MODE_ENV, restoreEnv } from './lambda-mode-env'; // first: Powertools reads it at import
// Next: the process's logger and metrics are built now, in Lambda mode, before the runtime sets its own namespace.
import '../../../shared/runtime/observability';
import type { Context } from 'aws-lambda';
import { createLambdaContext } from '../../../local/runtime/lambda';
import { SIM_SEQUENCE_ACCOUNT_ID } from '../../../local/sequence-sim/server';
import { signatureHeader } from '../../../shared/webhooks/signature';
import { ADDRESSES, customerBody, invoiceSeed, useTaxHarness } from './harness';

/** The namespace the process metrics were built with (the local runtime sets its own for handlers loaded later). */
const NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE;
const h = useTaxHarness({ env: LAMBDA_MODE_ENV });
/** stdout and stderr, in order. */
const stdout: string[] = [];
const spies: jest.SpyInstance[] = [];

beforeAll(() => {
  // Lambda sends both streams to CloudWatch; Powertools writes warnings and errors to stderr.
  for (const stream of [process.stdout, process.stderr]) {
    spies.push(jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => (stdout.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')), true)));
  }
});

afterAll(() => {
  for (const spy of spies) spy.mockRestore();
  restoreEnv();
});

interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: { Name: string; Unit: string }[];
}
type EmfLine = Record<string, unknown> & { _aws: { CloudWatchMetrics: EmfDirective[] } };

function jsonLines(from = 0): Record<string, unknown>[] {
  return stdout
    .slice(from)
    .join('')
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function emfLines(from = 0): EmfLine[] {
  return jsonLines(from).filter((l): l is EmfLine => typeof l._aws === 'object' && l._aws !== null);
}

/** The EMF lines that publish `name` with exactly these dimension names. */
function published(lines: EmfLine[], name: string, dimensions: string[]): EmfLine[] {
  return lines.filter((l) =>
    l._aws.CloudWatchMetrics.some(
      (d) => d.Namespace === NAMESPACE && d.Metrics.some((m) => m.Name === name) && d.Dimensions.some((set) => [...set].sort().join() === [...dimensions].sort().join()),
    ),
  );
}

const { SACRAMENTO, NOWHERE } = ADDRESSES;

async function seedInvoice(name: string, address: Record<string, string>): Promise<string> {
  const seeded = await h.seed(invoiceSeed({ customer: customerBody(name, address), lines: [{ title: 'Plan', quantity: '1', rate: '50.00' }] }));
  return seeded.invoices[0]!.id;
}

it('emits InvoicesTaxed when the admin route taxes an invoice', async () => {
  const invoiceId = await seedInvoice('Metric Taxed Co', SACRAMENTO);
  const from = stdout.length;
  const response = await h.admin.call('POST', `/connections/${h.connection.id}/invoices/${invoiceId}/tax`);
  expect(response.status).toBe(200);
  const lines = published(emfLines(from), 'InvoicesTaxed', ['service']);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ service: 'sphere-connector', InvoicesTaxed: 1 });
});

it('emits Failures, Failures per connection and FailuresByCode when the admin route records a failure', async () => {
  const invoiceId = await seedInvoice('Metric Lost Address', NOWHERE);
  const from = stdout.length;
  const response = await h.admin.call<{ error: { code: string } }>('POST', `/connections/${h.connection.id}/invoices/${invoiceId}/tax`);
  expect(response.status).toBe(422);
  expect(response.body.error.code).toBe('customer_tax_location_invalid');
  const lines = emfLines(from);
  expect(published(lines, 'Failures', ['service'])).toEqual([expect.objectContaining({ service: 'sphere-connector', Failures: 1 })]);
  expect(published(lines, 'Failures', ['service', 'connectionId'])).toEqual([expect.objectContaining({ connectionId: h.connection.id, Failures: 1 })]);
  expect(published(lines, 'FailuresByCode', ['service', 'code'])).toEqual([expect.objectContaining({ code: 'customer_tax_location_invalid', FailuresByCode: 1 })]);
});

describe('the direct invocation of calculate-invoice-tax', () => {
  let handler: (event: unknown, context: Context) => Promise<unknown>;
  const context = () => createLambdaContext({ functionName: 'calculate-invoice-tax', timeoutSeconds: 30 }, Date.now() + 30_000);

  beforeAll(async () => {
    ({ handler } = (await import('../../../functions/calculate-invoice-tax/handler')) as unknown as { handler: typeof handler });
  });

  it('flushes InvoicesTaxed and the audit entries before it returns', async () => {
    const invoiceId = await seedInvoice('Direct Taxed Co', SACRAMENTO);
    const auditBefore = (await h.deps.audit.list(h.connection.id, 1000)).length;
    const from = stdout.length;
    const result = await handler({ connectionId: h.connection.id, invoiceId }, context());
    // Read at once, with no waiting: what is not written by now would be lost when Lambda freezes.
    const taxed = published(emfLines(from), 'InvoicesTaxed', ['service']);
    const auditAfter = (await h.deps.audit.list(h.connection.id, 1000)).length;
    expect(result).toMatchObject({ statusCode: 200, invoiceId });
    expect(taxed).toEqual([expect.objectContaining({ InvoicesTaxed: 1 })]);
    expect(auditAfter).toBeGreaterThan(auditBefore);
  });

  it('logs with the Lambda context, connection and invoice id, and emits the failure metrics', async () => {
    const invoiceId = await seedInvoice('Direct Lost Address', NOWHERE);
    const ctx = context();
    const from = stdout.length;
    const result = await handler({ connectionId: h.connection.id, invoiceId }, ctx);
    expect(result).toMatchObject({ statusCode: 422, error: { code: 'customer_tax_location_invalid' } });
    const logs = jsonLines(from).filter((l) => typeof l.message === 'string');
    expect(logs).toContainEqual(
      expect.objectContaining({ message: 'Direct invocation failed', function_request_id: ctx.awsRequestId, function_name: 'calculate-invoice-tax', connectionId: h.connection.id, resourceType: 'invoice', resourceId: invoiceId }),
    );
    const lines = emfLines(from);
    expect(published(lines, 'Failures', ['service', 'connectionId'])).toEqual([expect.objectContaining({ connectionId: h.connection.id })]);
    expect(published(lines, 'FailuresByCode', ['service', 'code'])).toEqual([expect.objectContaining({ code: 'customer_tax_location_invalid' })]);
    expect(published(lines, 'Failures', ['service'])).toHaveLength(1);
  });
});

/** The log lines (not EMF) a function wrote since `from`. */
function logLinesOf(functionName: string, from: number): Record<string, unknown>[] {
  return jsonLines(from).filter((l) => typeof l.message === 'string' && l.function_name === functionName);
}

describe('log keys', () => {
  it('every line of an admin tax call carries the connection id and the invoice as resource', async () => {
    const invoiceId = await seedInvoice('Log Keys Lost Address', NOWHERE);
    const from = stdout.length;
    const response = await h.admin.call('POST', `/connections/${h.connection.id}/invoices/${invoiceId}/tax`);
    expect(response.status).toBe(422);
    const lines = logLinesOf('admin-api', from);
    expect(lines).toContainEqual(expect.objectContaining({ message: 'Request failed', level: 'WARN' }));
    for (const line of lines) expect(line).toMatchObject({ connectionId: h.connection.id, resourceType: 'invoice', resourceId: invoiceId, route: 'POST /connections/{id}/invoices/{invoiceId}/tax' });
  });

  it('every line of a webhook delivery carries the connection id (and the resource once known), and nothing leaks into the next delivery', async () => {
    const invoiceId = await seedInvoice('Log Keys Webhook', SACRAMENTO);
    const post = (body: string, secret: string) =>
      fetch(`${h.runtime.url}/webhooks/sequence/${h.connection.id}`, { method: 'POST', headers: { 'content-type': 'application/json', 'sequence-signature': signatureHeader(secret, body) }, body });
    const envelope = JSON.stringify({ notificationType: 'INVOICE_UPDATED', sequenceAccountId: SIM_SEQUENCE_ACCOUNT_ID, resourceType: 'Invoice', resourceId: invoiceId, resource: { id: invoiceId, updatedAt: new Date().toISOString() } });

    const fromAccepted = stdout.length;
    expect((await post(envelope, h.webhookSecret)).status).toBe(202);
    const accepted = logLinesOf('webhook-ingest', fromAccepted);
    expect(accepted).toContainEqual(expect.objectContaining({ message: 'Webhook queued' }));
    for (const line of accepted) expect(line).toMatchObject({ connectionId: h.connection.id, notificationType: 'INVOICE_UPDATED', resourceType: 'invoice', resourceId: invoiceId });

    // The local runtime hosts every function in this one process with one logger (on AWS each has its
    // own): let the invoice-tax worker finish the queued message so its keys cannot interleave.
    await h.settle();

    // The same warm function, a delivery that is rejected before its resource is read.
    const fromRejected = stdout.length;
    expect((await post(envelope, 'whsec_not_the_secret')).status).toBe(401);
    const rejected = logLinesOf('webhook-ingest', fromRejected);
    expect(rejected).toContainEqual(expect.objectContaining({ message: 'Webhook rejected' }));
    for (const line of rejected) {
      expect(line).toMatchObject({ connectionId: h.connection.id });
      expect(line).not.toHaveProperty('resourceId');
      expect(line).not.toHaveProperty('notificationType');
    }
  });
});
