/**
 * The scripted walk of `npm run demo` (architecture §5.4), against any stack described by
 * `DemoTargets`: everything the connector does is driven the way an operator and a Sequence user
 * would drive it (the admin API with the bearer token; Sequence's public API on the simulator), and
 * the data set-up and the checks of what reached Sphere go through the simulators' `/_sim` controls.
 * The steps, in order (./steps.ts):
 *
 *  1. connect          POST /connections → ACTIVE, Sequence account, webhook policy registered
 *  2. backfill         seed customers/products in Sequence, POST …/backfill → COMPLETED, all in Sphere
 *  3. taxed invoice    a DRAFT invoice (3 lines) for a San Francisco customer → webhook-driven tax;
 *                      per line Sphere's tax = Sequence's totalTax to the cent
 *  4. finalise         POST …/finalize → FINAL, the Sphere debit transaction recorded
 *  5. Canadian invoice 13 % HST (Ontario)
 *  6. exempt customer  zero tax, reason customer_exempt
 *  7. reverse charge   a German business with a VAT id: zero tax, reason reverse_charge
 *  8. credit note      against the finalised invoice → Sphere credit with original_transaction_id
 *
 * Returns a structured result (what the integration test asserts) and prints tables as it goes.
 * Never prints a secret: the webhook signing secret is never read, the simulator defaults are named
 * as such, the admin token is not shown.
 */
import { table } from '../../cli/format';
import { type DemoTargets, sequence } from '../http';
import { type DemoResult, type WalkOptions } from './results';
import { DEMO_STEPS } from './steps';
import { CATEGORY, type DemoProduct, TRAINING_CATEGORY, type Walk, customers, describe, heading, listAll, mark } from './support';

export type * from './results';

/** The walk's scenario: a tax category of its own (so one product maps to an exempt Sphere code), products and tax codes. */
async function prepare(t: DemoTargets, options: WalkOptions): Promise<Walk> {
  const suffix = ` #${Date.now().toString(36).slice(-5)}`;
  const categories = await listAll<{ id: string; name: string }>(t, '/tax-categories');
  const trainingCategory = categories.find((c) => c.name === TRAINING_CATEGORY) ?? (await sequence<{ id: string; name: string }>(t, 'POST', '/tax-categories', { name: TRAINING_CATEGORY, description: 'Instructor-led training' }));
  const products: DemoProduct[] = [
    { key: 'platform', name: `Analytics Platform (SaaS)${suffix}`, category: CATEGORY.saas, categoryName: 'SaaS' },
    { key: 'services', name: `Implementation services${suffix}`, category: CATEGORY.standard, categoryName: 'Standard' },
    { key: 'training', name: `Admin training${suffix}`, category: trainingCategory.id, categoryName: TRAINING_CATEGORY },
  ];
  // Codes of the Sphere simulator's catalogue. The connector has no built-in default: against a real
  // Sphere organisation these must be its own product tax codes (connect checks them with Sphere).
  const taxCodes = {
    default: 'txcd_10000000',
    byTaxCategory: {
      [CATEGORY.saas]: 'txcd_10103001', // SaaS, business use
      [CATEGORY.standard]: 'txcd_20030000', // general services
      [CATEGORY.digitalServices]: 'txcd_10000000', // electronically supplied services
      [trainingCategory.id]: 'txcd_30070000', // training services, exempt
    },
  };
  return {
    t,
    print: options.print ?? ((text: string) => console.log(text)),
    wait: options.waitTimeoutMs ?? 45_000,
    result: { ok: false, invoices: [], steps: [] },
    customers: customers(suffix),
    products,
    categories,
    trainingCategory,
    taxCodes,
  };
}

export async function runDemoWalk(t: DemoTargets, options: WalkOptions = {}): Promise<DemoResult> {
  const w = await prepare(t, options);
  const { print, result } = w;
  for (const step of DEMO_STEPS) {
    const blocked = step.blockedBy?.(w);
    if (blocked) {
      result.steps.push({ step: step.name, result: `skipped: ${blocked}`, ok: false });
      continue;
    }
    print(heading(step.title(w)));
    // A failure is recorded (✗ with the reason) and the walk continues where it can.
    try {
      const outcome = await step.run(w);
      result.steps.push({ step: step.name, result: outcome.result, ok: outcome.ok });
    } catch (error) {
      const message = describe(error);
      print(`  ✗ ${message}`);
      result.steps.push({ step: step.name, result: message, ok: false });
    }
  }
  return finish(result, print);
}

function finish(result: DemoResult, print: (text: string) => void): DemoResult {
  result.ok = result.steps.length > 0 && result.steps.every((s) => s.ok);
  print(heading('Summary'));
  print(
    table(result.steps, [
      { header: 'step', value: (s) => s.step },
      { header: 'result', value: (s) => s.result },
      { header: '', value: (s) => mark(s.ok) },
    ]),
  );
  const passed = result.steps.filter((s) => s.ok).length;
  print(result.ok ? `All ${passed} steps passed.` : `${passed} of ${result.steps.length} steps passed.`);
  return result;
}
