/**
 * IAM proof: no emulator the project uses enforces IAM, so a call a role does not allow passes every
 * other test and fails only on AWS (AccessDenied). Here every flow runs through the real handlers in
 * the `npm start` composition (local/wiring.ts; secrets in a fake Secrets Manager, as deployed), every
 * AWS SDK call is recorded by function, and each one is evaluated against that function's role in
 * the synthesized stacks. Denied calls and whole-service grants fail; grants no call used are printed
 * (README, "Reading the IAM proof").
 */
import type { AddressInfo } from 'node:net';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import { type DemoTargets, admin, adminOk, poll, sequence, sim } from '../../../demo/http';
import { type InProcessDemoStack, startDemoStack } from '../../../demo/stack';
import { runDemoWalk } from '../../../demo/walk';
import { invokeHandler } from '../../../local/runtime/lambda';
import { queues as deployedQueues } from '../../../local/wiring';
import { stageConfig } from '../../../lib/stage-config';
import { connectorApp } from '../../infra/helpers';
import { fakeSecretsManager } from '../../support/fake-secrets-manager';
import { type ProofReport, formatReport, proveCalls } from '../../support/iam/proof';
import { type CfnTemplate, TemplateResolver, functionRoles } from '../../support/iam/template';
import { CATEGORY, customerBody, priceBody } from '../tax/harness';

const STAGE = 'sandbox';
const config = stageConfig(STAGE);
const secrets = fakeSecretsManager();
let stack: InProcessDemoStack;
let t: DemoTargets;
let report: ProofReport;
let stackFunctions: string[];

const SACRAMENTO = { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' };

interface Seeded {
  customers: string[];
  products: string[];
  invoices: { id: string; lineItemIds: string[] }[];
}

const seed = (body: Record<string, unknown>) => sim<Seeded>(t.sequenceSimUrl, 'POST', '/_sim/seed', body);

/** Wait until every queue is empty and every webhook delivered, twice (work queues more work). */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await stack.sequence.webhooksIdle();
    await stack.runtime.drain();
  }
}

/** The flows the demo walk does not cover, through the admin API, webhooks, queues and direct invocations. */
async function driveRemainingFlows(connectionId: string, finalizedInvoiceId: string | undefined): Promise<void> {
  const base = `/connections/${connectionId}`;
  await adminOk(t, 'POST', `${base}/test`);
  await adminOk(t, 'PATCH', base, { sphere: { apiKey: t.sphereApiKey } }); // rotation: the secret is rewritten
  await adminOk(t, 'GET', base);
  await adminOk(t, 'GET', '/connections');

  // A customer, product and invoice seeded in Sequence (the simulator seeds without webhooks), taxed through the admin routes.
  const taxed = await seed({
    customers: [customerBody('IAM Proof Buyer Inc', SACRAMENTO)],
    products: [{ name: 'IAM proof plan', taxCategoryId: CATEGORY.saas }],
    prices: [priceBody('$products[0]', 'USD')],
    invoices: [{ customerId: '$customers[0]', currency: 'USD', lineItems: [{ title: 'Plan', quantity: '1', rate: '120.00', taxRate: '0', priceId: '$prices[0]' }] }],
  });
  await settle();
  const invoiceId = taxed.invoices[0]!.id;
  await adminOk(t, 'POST', `${base}/invoices/${invoiceId}/tax`);
  await adminOk(t, 'GET', `${base}/invoices/${invoiceId}/tax`);

  // The customer becomes tax-exempt: sync-customer tells the exemptions worker, which re-taxes the draft.
  const customerId = taxed.customers[0]!;
  const customer = await sequence<{ contacts: Record<string, unknown>[] }>(t, 'GET', `/customers/${customerId}`);
  const contacts = customer.contacts.map((c) => ({ name: c.name, email: c.email, billingPreference: c.billingPreference }));
  await sequence(t, 'PUT', `/customers/${customerId}`, { ...customerBody('IAM Proof Buyer Inc', SACRAMENTO, 'TAX_EXEMPT'), contacts });
  await settle();

  // The direct invocation a billing workflow makes (calculate-invoice-tax, not through SQS).
  const calculate = (await import('../../../functions/calculate-invoice-tax/handler')).handler;
  await invokeHandler(calculate, { connectionId, invoiceId, finalize: true }, { functionName: 'calculate-invoice-tax', timeoutSeconds: 120 });
  await settle();

  // A void cancels the recorded Sphere transaction (webhook → calculate-invoice-tax).
  for (const id of [invoiceId, finalizedInvoiceId].filter((x): x is string => x !== undefined)) await sequence(t, 'POST', `/invoices/${id}/void`);
  await settle();

  // A failure (a product without a tax category), listed and retried.
  const failing = await seed({
    customers: [customerBody('IAM Proof Uncategorised Inc', SACRAMENTO)],
    products: [{ name: 'IAM proof widget' }],
    prices: [priceBody('$products[0]', 'USD')],
    invoices: [{ customerId: '$customers[0]', currency: 'USD', lineItems: [{ title: 'Widget', quantity: '1', rate: '50.00', taxRate: '0', priceId: '$prices[0]' }] }],
  });
  await settle();
  expect((await admin(t, 'POST', `${base}/invoices/${failing.invoices[0]!.id}/tax`)).status).toBe(422);
  await adminOk(t, 'GET', `${base}/failures`);
  // The retried message meets Sequence's rate limit (429 without Retry-After), which fails the receive
  // at once: the worker hands it back to its queue with ChangeMessageVisibility (a few seconds).
  await sim(t.sequenceSimUrl, 'POST', '/_sim/faults', { failNext: 1, statuses: [429], retryAfterSeconds: null });
  await adminOk(t, 'POST', `${base}/failures/retry`, { all: true });
  await settle();

  // A message no worker can parse: each worker moves it to its DLQ itself; then list and redrive.
  for (const binding of deployedQueues) {
    await stack.runtime.sqs.client.send(
      new SendMessageCommand({ QueueUrl: stack.runtime.queueUrls[binding.queueName]!, MessageBody: '{"not":"a connector message"}', MessageGroupId: 'iam-proof', MessageDeduplicationId: `iam-${binding.queueName}` }),
    );
  }
  await settle();
  const dlqs = await adminOk<{ items: { queue: string }[] }>(t, 'GET', '/dlq');
  for (const { queue } of dlqs.items) await adminOk(t, 'POST', `/dlq/${queue}/redrive`);
  await settle();
  await adminOk(t, 'GET', `${base}/audit`);

  // The scheduled drift sweep (EventBridge → reconcile).
  const reconcile = (await import('../../../functions/reconcile/handler')).handler;
  await invokeHandler(reconcile, {}, { functionName: 'reconcile', timeoutSeconds: 600 });
  await settle();

  // Disconnect (the secret is scheduled for deletion), then reconnect the same account (restored).
  await adminOk(t, 'DELETE', base);
  await settle();
  const again = await adminOk<{ id: string }>(t, 'POST', '/connections', {
    name: 'IAM proof reconnect',
    sequence: { environment: 'sandbox', clientId: t.sequenceClientId, clientSecret: t.sequenceClientSecret, baseUrl: `${t.sequenceSimUrl}/api` },
    sphere: { apiKey: t.sphereApiKey, baseUrl: t.sphereSimUrl },
    taxCodes: { default: 'txcd_10000000', byTaxCategory: {} },
  });
  await poll(async () => {
    const view = await adminOk<{ backfill: { state: string } }>(t, 'GET', `/connections/${again.id}`);
    return view.backfill.state === 'COMPLETED' || view.backfill.state === 'FAILED';
  }, 30_000);
  await settle();
}

beforeAll(async () => {
  await new Promise<void>((resolve) => secrets.server.listen(0, '127.0.0.1', resolve));
  stack = await startDemoStack({
    recordAwsCalls: true,
    env: {
      SECRETS_BACKEND: 'secrets-manager',
      SECRETS_PREFIX: config.secretsPrefix,
      // Every function shares this process (and would share one secret cache): read through, so
      // each function's own read is recorded, as each Lambda function makes its own.
      SECRETS_CACHE_SECONDS: '0',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(secrets.server.address() as AddressInfo).port}`,
    },
  });
  t = stack.targets;
  try {
    const walk = await runDemoWalk(t, { print: () => undefined });
    expect(walk.steps.filter((s) => !s.ok)).toEqual([]);
    await settle();
    await driveRemainingFlows(walk.connection!.id, walk.finalized?.invoiceId);
  } finally {
    await stack.stop();
    await new Promise<void>((resolve) => secrets.server.close(() => resolve()));
  }

  const { data, service } = connectorApp(STAGE);
  const resolver = new TemplateResolver([data, service].map((s) => ({ stackName: s.stackName, template: Template.fromStack(s).toJSON() as CfnTemplate })));
  const dataStack = resolver.stack(data.stackName);
  const tableName = (output: string) => String(resolver.resolve(dataStack, dataStack.template.Outputs![output]!.Value));
  const roles = functionRoles(resolver, service.stackName);
  stackFunctions = roles.map((r) => r.name).sort();
  report = proveCalls(stack.runtime.awsCalls!.calls, roles, {
    tables: { [stack.runtime.tableNames.connector]: tableName('ConnectorTableName'), [stack.runtime.tableNames.idempotency]: tableName('IdempotencyTableName') },
    queues: Object.fromEntries(
      deployedQueues.flatMap((q) => [q.queueName, q.dlqName]).map((local) => [local, `${config.resourcePrefix}-${local}`]),
    ),
  });
  console.log(formatReport(report));
}, 240_000);

it('exercised every function of the stack through its real handler', () => {
  const called = new Set(report.calls.map((c) => c.functionName));
  expect(stackFunctions).toEqual(['admin-api', 'backfill', 'calculate-invoice-tax', 'exemptions', 'reconcile', 'sync-customer', 'sync-product', 'webhook-ingest']);
  expect([...called].sort()).toEqual(stackFunctions);
  expect(report.unknownFunctions).toEqual([]);
});

it('exercised the workers\' retry path (the message handed back with ChangeMessageVisibility)', () => {
  expect(report.calls.filter((c) => c.action === 'sqs:ChangeMessageVisibility')).not.toEqual([]);
});

it('every AWS call a function makes is allowed by its role', () => {
  expect(report.denied.map((c) => `${c.functionName} [${c.functionLogicalId}] ${c.action} on ${c.resource} (${c.decision})`)).toEqual([]);
});

it('no role is granted a whole service', () => {
  expect(report.wholeService).toEqual([]);
});
