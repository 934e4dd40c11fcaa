/**
 * The reduced fuzz run (issue 7) inside npm test: fast-check webhook requests (signed, replayed,
 * forged, stale, malformed, huge, empty, base64-encoded, unknown types, other accounts, unknown
 * and disconnected connections), admin API bodies and hostile path ids and non-UTF-8 bodies (issue
 * 11 §3), through the real front door, with recording
 * queue consumers. Zero 5xx, the contract's status for every request, nothing queued without a
 * valid signature, no credential echoed or logged. `npm run fuzz` runs the full sizes.
 */
import { captureLogs, type LogCapture, secretHits } from '../../../bench/lib/chaos-log-capture';
import { type AdminFuzzReport, fuzzAdmin } from '../../../bench/lib/fuzz-admin';
import { type PathFuzzReport, fuzzPaths } from '../../../bench/lib/fuzz-paths';
import { type FuzzStack, startFuzzStack } from '../../../bench/lib/fuzz-stack';
import { type WebhookFuzzReport, fuzzWebhooks } from '../../../bench/lib/fuzz-webhooks';
import { flushAuditLog } from '../../../shared/runtime/dependencies';

jest.setTimeout(120_000);

const SEED = Number(process.env.FUZZ_SEED ?? 20240730);
let capture: LogCapture;
let stack: FuzzStack;
let webhooks: WebhookFuzzReport;
let adminReport: AdminFuzzReport;
let paths: PathFuzzReport;
let secrets: string[];

beforeAll(async () => {
  capture = captureLogs();
  try {
    stack = await startFuzzStack(capture);
    secrets = [stack.secrets.clientSecret, stack.secrets.sphereKey, stack.webhookSecret, Buffer.from(`${stack.secrets.clientId}:${stack.secrets.clientSecret}`).toString('base64')];
    webhooks = await fuzzWebhooks(stack, { runs: 800, seed: SEED });
    adminReport = await fuzzAdmin(stack, { runs: 200, seed: SEED + 1 });
    paths = await fuzzPaths(stack, { runs: 150, seed: SEED + 2 });
    await flushAuditLog(); // audit writes run beside the requests: let them finish before stopping
  } finally {
    await stack?.stop();
    capture.stop();
  }
  process.stdout.write(`fuzz (seed ${SEED}): webhooks ${JSON.stringify(webhooks.byStatus)}, admin ${JSON.stringify(adminReport.byStatus)}, paths ${JSON.stringify(paths.byStatus)}\n`);
});

it('answers every webhook request with the contract status, never a 5xx', () => {
  expect(webhooks.requests).toBe(800);
  expect(webhooks.unexpected).toEqual([]);
  expect(webhooks.fiveXx).toBe(0);
  // The generators reach every status of §5.2.
  for (const status of ['200', '202', '400', '401', '404', '413']) expect(webhooks.byStatus[status]).toBeGreaterThan(0);
});

it('queues exactly one message per accepted, validly signed webhook and nothing else', () => {
  expect(webhooks.acceptedQueueing).toBeGreaterThan(50);
  expect(webhooks.queuedWithoutSignature).toBe(0);
  expect(webhooks.lostMessages).toBe(0);
  expect(webhooks.duplicateMessages).toBe(0);
  expect(webhooks.queuedMessages).toBe(webhooks.acceptedQueueing);
});

it('answers every admin body with the right status and error shape, never a 5xx or an echoed secret', () => {
  expect(adminReport.requests).toBe(200);
  expect(adminReport.unexpected).toEqual([]);
  expect(adminReport.fiveXx).toBe(0);
  expect(adminReport.echoedSecrets).toBe(0);
  expect(adminReport.badErrorShape).toBe(0);
});

it('answers hostile path ids and non-UTF-8 bodies with a clean 4xx, and calls no upstream with them', () => {
  expect(paths.requests).toBe(154);
  expect(paths.unexpected).toEqual([]);
  expect(paths.fiveXx).toBe(0);
  // Not one request reached Sequence or Sphere: no dot segment or oversized id is ever sent.
  expect(paths.upstreamCalls).toBe(0);
  expect(paths.nameAfter).toBe(paths.nameBefore);
  for (const status of ['400', '404']) expect(paths.byStatus[status]).toBeGreaterThan(0);
});

it('logs no secret value', () => {
  expect(capture.lines.length).toBeGreaterThan(100);
  expect(secretHits(capture.lines, secrets).total).toBe(0);
});
