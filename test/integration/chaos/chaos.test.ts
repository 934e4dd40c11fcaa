/**
 * The reduced chaos run (issue 7) inside npm test: the same scenario and assertions as
 * `npm run chaos` (bench/lib/chaos-scenario.ts) at small sizes — the whole connector on the local
 * runtime, Sphere failing 20% with 5xx and 10% with 429 at 0–200 ms, every Sequence webhook sent
 * twice and out of order. Prints the counts.
 */
import { captureLogs, type LogCapture } from '../../../bench/lib/chaos-log-capture';
import { type ChaosResult, formatChaosSummary, runChaos } from '../../../bench/lib/chaos-scenario';

jest.setTimeout(170_000);

let capture: LogCapture;
let result: ChaosResult;

beforeAll(async () => {
  capture = captureLogs();
  try {
    result = await runChaos({
      sizes: { customers: 32, products: 8, invoices: 16 },
      seed: 11,
      visibilityTimeoutSeconds: 15,
      settleTimeoutMs: 120_000,
      capture,
      progress: (line) => capture.push(line),
    });
  } finally {
    capture.stop();
  }
  process.stdout.write(`${formatChaosSummary(result)}\n`);
});

it('ends with every customer, product and document in Sphere exactly once, in its final state', () => {
  expect(result.problems.filter((p) => /customer|product|transaction|credit|invoice-status|duplicates|finalize/.test(p.check))).toEqual([]);
  expect(result.counts.duplicates).toBe(0);
  expect(result.counts.sphereCustomers).toBe(result.counts.customers);
  expect(result.counts.finalised).toBeGreaterThan(0);
  expect(result.counts.creditNotes).toBeGreaterThan(0);
  expect(result.counts.cancelled).toBeGreaterThan(0);
});

it('taxes every line exactly as Sphere calculates it, to the cent', () => {
  expect(result.problems.filter((p) => p.check.startsWith('tax'))).toEqual([]);
  expect(result.counts.taxMismatches).toBe(0);
});

it('fails only the records seeded to be invalid, each with its reason; DLQs are empty', () => {
  expect(result.problems.filter((p) => /failure|dlq|webhooks/.test(p.check))).toEqual([]);
  expect(result.counts.expectedFailures).toBeGreaterThanOrEqual(4);
  expect(result.counts.unexpectedFailures).toBe(0);
  expect(result.counts.missingFailures).toBe(0);
  expect(result.counts.dlqMessages).toBe(0);
});

it('logs no secret value', () => {
  expect(result.counts.logLines).toBeGreaterThan(100);
  expect(result.counts.secretHits).toBe(0);
});

it('passes as a whole (no other problem)', () => {
  expect(result.problems).toEqual([]);
  expect(result.passed).toBe(true);
});
