/**
 * The admin routes the console added, through the local front door of the `npm start` composition
 * (simulators, real backfill): GET /connections/{id}/records (paged Sphere link state) and
 * POST /connections/test-credentials (check before saving, nothing stored), plus the console files
 * the front door serves without the admin token (and with no secret in them).
 */
import { type InProcessDemoStack, SIM_DEFAULTS, startDemoStack } from '../../../demo/stack';
import { admin, adminOk, poll, sim } from '../../../demo/http';
import { SIM_TAX_CATEGORY_IDS } from '../../../local/sequence-sim/server';

let stack: InProcessDemoStack;
let connectionId: string;
let seeded: { customers: string[]; products: string[] };

interface RecordsPage {
  items: { type: string; id: string; sphereId: string; link: string; lastSyncedAt: string; taxCode?: string }[];
  nextCursor?: string;
}

const customer = (legalName: string) => ({
  legalName,
  address: { line1: '1315 10th St', town: 'Sacramento', state: 'CA', postcode: '95814', country: 'US' },
  contacts: [{ name: 'Billing', email: `billing+${legalName.replace(/\W/g, '').toLowerCase()}@example.com`, billingPreference: 'PRIMARY' }],
  taxStatus: 'TAXED',
});

const credentials = (apiKey: string) => ({
  sequence: { environment: 'sandbox', clientId: SIM_DEFAULTS.sequenceClientId, clientSecret: SIM_DEFAULTS.sequenceClientSecret },
  sphere: { apiKey },
});

beforeAll(async () => {
  stack = await startDemoStack();
  seeded = await sim(stack.targets.sequenceSimUrl, 'POST', '/_sim/seed', {
    customers: [customer('Alpha Co'), customer('Beta Co'), customer('Gamma Co')],
    products: [{ name: 'Cloud plan', taxCategoryId: SIM_TAX_CATEGORY_IDS.saas }, { name: 'Support', taxCategoryId: SIM_TAX_CATEGORY_IDS.standard }],
  });
  const created = await adminOk<{ id: string }>(stack.targets, 'POST', '/connections', { name: 'Records', ...credentials(SIM_DEFAULTS.sphereApiKey), taxCodes: { default: 'txcd_10000000' } });
  connectionId = created.id;
  const done = await poll(async () => {
    const c = await adminOk<{ backfill: { state: string }; counts: { customersSynced: number; productsSynced: number } }>(stack.targets, 'GET', `/connections/${connectionId}`);
    return c.backfill.state === 'COMPLETED' ? c : undefined;
  }, 45_000, 200);
  expect(done).toBeDefined();
  await stack.runtime.drain();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

describe('GET /connections/{id}/records', () => {
  it('pages through the customers with their Sphere link state and last sync', async () => {
    const first = await admin<RecordsPage>(stack.targets, 'GET', `/connections/${connectionId}/records?type=customer&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await admin<RecordsPage>(stack.targets, 'GET', `/connections/${connectionId}/records?type=customer&limit=2&cursor=${encodeURIComponent(first.body.nextCursor!)}`);
    expect(second.status).toBe(200);
    const all = [...first.body.items, ...second.body.items];
    expect(all.map((r) => r.id).sort()).toEqual([...seeded.customers].sort());
    for (const record of all) {
      expect(record).toEqual({ type: 'customer', id: record.id, sphereId: record.id, link: 'linked', taxStatus: 'TAXED', tagged: expect.any(Boolean), lastSyncedAt: expect.any(String) });
      expect(Number.isNaN(Date.parse(record.lastSyncedAt))).toBe(false);
    }
    // The second page may end exactly at the last item; a further page is then empty, never a repeat.
    if (second.body.nextCursor) {
      const third = await admin<RecordsPage>(stack.targets, 'GET', `/connections/${connectionId}/records?type=customer&limit=2&cursor=${encodeURIComponent(second.body.nextCursor)}`);
      expect(third.body.items).toEqual([]);
    }
  });

  it('lists products with their Sphere tax code', async () => {
    const answer = await admin<RecordsPage>(stack.targets, 'GET', `/connections/${connectionId}/records?type=product`);
    expect(answer.status).toBe(200);
    expect(answer.body.nextCursor).toBeUndefined();
    expect(answer.body.items.map((r) => r.id).sort()).toEqual([...seeded.products].sort());
    for (const record of answer.body.items) expect(record).toMatchObject({ type: 'product', link: 'linked', taxCode: expect.stringMatching(/^txcd_/) });
  });

  it.each([
    ['', 'type'],
    ['type=invoice', 'type'],
    ['type=customer&limit=0', 'limit'],
    ['type=customer&limit=201', 'limit'],
    ['type=customer&cursor=not-a-cursor', 'cursor'],
  ])('answers 400 naming the parameter for ?%s', async (query, field) => {
    const answer = await admin<{ error: { code: string; field: string; message: string } }>(stack.targets, 'GET', `/connections/${connectionId}/records?${query}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'invalid_request', field, message: expect.stringContaining(field) });
  });

  it('answers 404 for an unknown connection and 401 without the admin token', async () => {
    expect((await admin(stack.targets, 'GET', '/connections/conn_missing/records?type=customer')).status).toBe(404);
    const anonymous = await fetch(`${stack.runtime.url}/connections/${connectionId}/records?type=customer`);
    expect(anonymous.status).toBe(401);
  });
});

describe('POST /connections/test-credentials', () => {
  it('reports each side without storing anything', async () => {
    const before = await adminOk<{ items: unknown[] }>(stack.targets, 'GET', '/connections');
    const good = await admin<{ sequence: { ok: boolean; message: string }; sphere: { ok: boolean } }>(stack.targets, 'POST', '/connections/test-credentials', credentials(SIM_DEFAULTS.sphereApiKey));
    expect(good.status).toBe(200);
    expect(good.body).toEqual({ sequence: { ok: true, message: expect.stringMatching(/accepted/) }, sphere: { ok: true, message: expect.stringMatching(/accepted/) } });

    const wrongKey = 'sph_test_wrong_key_123';
    const bad = await admin<{ sequence: { ok: boolean }; sphere: { ok: boolean; code: string; message: string } }>(stack.targets, 'POST', '/connections/test-credentials', credentials(wrongKey));
    expect(bad.status).toBe(200);
    expect(bad.body.sequence.ok).toBe(true);
    expect(bad.body.sphere).toMatchObject({ ok: false, code: 'sphere_credentials_rejected', message: expect.stringMatching(/API key/) });
    expect(JSON.stringify(bad.body)).not.toContain(wrongKey);
    expect(JSON.stringify(bad.body)).not.toContain(SIM_DEFAULTS.sequenceClientSecret);

    expect((await adminOk<{ items: unknown[] }>(stack.targets, 'GET', '/connections')).items).toHaveLength(before.items.length);
  });

  it('checks the tax codes with Sphere when given, naming one Sphere does not accept', async () => {
    const checked = await admin<{ taxCodes: { ok: boolean; code?: string; message: string } }>(stack.targets, 'POST', '/connections/test-credentials', {
      ...credentials(SIM_DEFAULTS.sphereApiKey),
      taxCodes: { default: 'txcd_10000000', byTaxCategory: { cat_x: 'not_a_sphere_code' } },
    });
    expect(checked.status).toBe(200);
    expect(checked.body.taxCodes).toMatchObject({ ok: false, code: 'sphere_tax_code_not_accepted', message: expect.stringContaining('"not_a_sphere_code" (taxCodes.byTaxCategory.cat_x)') });
    const accepted = await admin<{ taxCodes: { ok: boolean } }>(stack.targets, 'POST', '/connections/test-credentials', { ...credentials(SIM_DEFAULTS.sphereApiKey), taxCodes: { default: 'txcd_10000000' } });
    expect(accepted.body.taxCodes).toMatchObject({ ok: true });
  });

  it('answers 400 naming the missing or unknown field', async () => {
    const missing = await admin<{ error: { field: string } }>(stack.targets, 'POST', '/connections/test-credentials', { sequence: { environment: 'sandbox', clientId: 'x' }, sphere: { apiKey: 'k' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toBe('sequence.clientSecret');
    const unknown = await admin<{ error: { field: string } }>(stack.targets, 'POST', '/connections/test-credentials', { ...credentials('k'), name: 'not here' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe('name');
  });
});

describe('console files on the front door', () => {
  it('serves the page, its script and its config without the admin token, with a strict content security policy', async () => {
    const page = await fetch(`${stack.runtime.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'self'/);
    expect(await page.text()).toContain('<script src="app.js"');
    const script = await fetch(`${stack.runtime.url}/console/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await script.text()).length).toBeGreaterThan(1000);
    const config = await fetch(`${stack.runtime.url}/console/config.json`);
    const text = await config.text();
    expect(JSON.parse(text)).toMatchObject({ auth: 'token' });
    expect(text).not.toContain(stack.targets.adminToken);
    const redirect = await fetch(`${stack.runtime.url}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe('/console/');
    expect((await fetch(`${stack.runtime.url}/console/nope.js`)).status).toBe(404);
  });
});
