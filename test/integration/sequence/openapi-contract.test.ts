/**
 * The simulator's responses, validated against Sequence's own OpenAPI document (2024-07-30),
 * read at test time from the shared contracts folder (never copied into the repository).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CURRENCIES } from '../../../shared/domain/currency';
import { SIM_TAX_CATEGORY_IDS, type SequenceSimulator, startSequenceSimulator } from '../../../local/sequence-sim/server';
import { type OpenApiValidator, loadOpenApiValidator } from './openapi';

// test/integration/sequence → repo root is three levels up; the shared folder sits beside the repo.
const CONTRACT = path.resolve(__dirname, '../../../../shared/contracts/sequence-openapi-2024-07-30.json');
const describeIfContract = existsSync(CONTRACT) ? describe : describe.skip;
if (!existsSync(CONTRACT)) {
  console.warn(`Skipping the Sequence OpenAPI contract tests: ${CONTRACT} is missing (mount the shared folder beside the repository).`);
}

interface Recorded {
  method: string;
  template: string;
  status: number;
  body: unknown;
}

describeIfContract('Sequence simulator ↔ OpenAPI 2024-07-30', () => {
  let sim: SequenceSimulator;
  let oas: OpenApiValidator;
  const recorded: Recorded[] = [];

  async function call<T = Record<string, unknown>>(method: string, template: string, params: Record<string, string> = {}, body?: unknown, query = ''): Promise<T> {
    const p = template.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(params[k]));
    const res = await fetch(`${sim.apiUrl}${p}${query}`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64')}`,
        'sequence-version': '2024-07-30',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json()) as T;
    recorded.push({ method, template, status: res.status, body: json });
    return json;
  }

  beforeAll(async () => {
    oas = loadOpenApiValidator(CONTRACT);
    sim = await startSequenceSimulator({ port: 0 });

    const address = { line1: '10 Downing St', town: 'London', postcode: 'SW1A 2AA', country: 'GB' };
    const customer = await call<{ id: string }>('POST', '/customers', {}, {
      legalName: 'Contract Ltd',
      address,
      contacts: [{ name: 'Bea', email: 'bea@contract.example', billingPreference: 'PRIMARY' }],
      taxStatus: 'REVERSE_CHARGED',
      url: 'https://contract.example',
      customProperties: { region: 'emea' },
    });
    await call('GET', '/customers');
    await call('GET', '/customers/{id}', { id: customer.id });
    await call('PUT', '/customers/{id}', { id: customer.id }, {
      legalName: 'Contract Ltd',
      address: { line1: '1 Market St', town: 'San Francisco', state: 'CA', postcode: '94105', country: 'US' },
      contacts: [{ name: 'Bea', email: 'bea@contract.example', billingPreference: 'PRIMARY' }],
      taxStatus: 'TAXED',
      integrationIds: [{ service: 'Sphere', id: 'sph_1' }],
    });

    const product = await call<{ id: string }>('POST', '/products', {}, { name: 'API calls', label: 'api', taxCategoryId: SIM_TAX_CATEGORY_IDS.digitalServices });
    await call('GET', '/products');
    await call('GET', '/products/{id}', { id: product.id });
    await call('PUT', '/products/{id}', { id: product.id }, { name: 'API calls v2', taxCategoryId: SIM_TAX_CATEGORY_IDS.saas });
    const price = await call<{ id: string }>('POST', '/prices', {}, {
      productId: product.id,
      name: 'API calls',
      currency: 'USD',
      structure: { pricingType: 'FIXED', price: '20.00' },
      billingFrequency: 'MONTHLY',
      billingType: 'IN_ADVANCE',
    });
    await call('GET', '/prices');
    await call('GET', '/prices/{id}', { id: price.id });

    await call('POST', '/tax-registrations', {}, { taxIdentifier: 'GB123456789', customerId: customer.id, country: 'GB' });
    const reg = await call<{ id: string }>('POST', '/tax-registrations', {}, { taxIdentifier: '12-999', customerId: customer.id, country: 'US', state: 'CA' });
    await call('GET', '/tax-registrations');
    await call('GET', '/tax-registrations/{id}', { id: reg.id });
    await call('PUT', '/tax-registrations/{id}', { id: reg.id }, { taxIdentifier: '12-998', customerId: customer.id, country: 'US', state: 'CA' });
    await call('GET', '/tax-registrations/for-customer/{id}', { id: customer.id });

    const invoice = await call<{ id: string }>('POST', '/invoices', {}, { currency: 'USD', customerId: customer.id, memo: 'hello', metadata: [{ key: 'k', value: 'v' }] });
    await call('GET', '/invoices/{id}', { id: invoice.id });
    await call('PUT', '/invoices/{id}', { id: invoice.id }, { memo: 'changed', purchaseOrderNumber: 'PO-1' });
    await call('PATCH', '/invoices/{id}', { id: invoice.id }, { reference: 'ref-1' });
    const group = await call<{ id: string }>('POST', '/invoices/{invoice}/line-item-groups', { invoice: invoice.id }, { title: 'API', taxCategoryId: SIM_TAX_CATEGORY_IDS.saas });
    await call('PUT', '/invoices/{invoice}/line-item-groups/{id}', { invoice: invoice.id, id: group.id }, { title: 'API usage', taxCategoryId: SIM_TAX_CATEGORY_IDS.saas, index: 0 });
    await call('GET', '/invoices/{invoice}/line-item-groups', { invoice: invoice.id });
    const line = await call<{ id: string }>('POST', '/invoices/{invoice}/line-items', { invoice: invoice.id }, {
      title: 'Calls',
      quantity: '1000',
      rate: '0.0125',
      taxRate: '0.0',
      groupId: group.id,
      priceId: price.id,
      externalIds: [{ key: 'Sphere', value: 'line-1' }],
      servicePeriod: { startDate: '2024-08-01', endDate: '2024-08-31' },
    });
    await call('PUT', '/invoices/{invoice}/line-items/{id}', { invoice: invoice.id, id: line.id }, {
      title: 'Calls',
      quantity: '1000',
      rate: '0.0125',
      taxRate: '0.0863',
      groupId: group.id,
      priceId: price.id,
      externalIds: [{ key: 'Sphere', value: 'line-1' }],
    });
    const extra = await call<{ id: string }>('POST', '/invoices/{invoice}/line-items', { invoice: invoice.id }, { title: 'Temp', quantity: '1', rate: '1', taxRate: '0', externalIds: [] });
    await call('DELETE', '/invoices/{invoice}/line-items/{id}', { invoice: invoice.id, id: extra.id });
    await call('GET', '/invoices/{invoice}/line-items', { invoice: invoice.id });
    await call('GET', '/invoices', {}, undefined, '?invoiceStatus=DRAFT');
    await call('POST', '/invoices/{id}/finalize', { id: invoice.id });
    await call('POST', '/invoices/{id}/send', { id: invoice.id });

    const second = await call<{ id: string }>('POST', '/invoices', {}, { currency: 'JPY', customerId: customer.id });
    await call('POST', '/invoices/{id}/finalize-and-send', { id: second.id });
    const third = await call<{ id: string }>('POST', '/invoices', {}, { currency: 'EUR', customerId: customer.id });
    const tempGroup = await call<{ id: string }>('POST', '/invoices/{invoice}/line-item-groups', { invoice: third.id }, { title: 'Temp' });
    await call('DELETE', '/invoices/{invoice}/line-item-groups/{id}', { invoice: third.id, id: tempGroup.id });
    await call('POST', '/invoices/{id}/void', { id: third.id });

    const cn = await call<{ id: string }>('POST', '/credit-notes', {}, { currency: 'USD', customerId: customer.id, invoiceId: invoice.id, memo: 'refund' });
    await call('POST', '/credit-notes/{creditnote}/line-items', { creditnote: cn.id }, { creditNoteId: cn.id, title: 'Refund', quantity: '1', rate: '5.00', taxRate: '0.0863', externalIds: [], lineItemId: line.id });
    await call('GET', '/credit-notes/{creditnote}/line-items', { creditnote: cn.id });
    await call('GET', '/credit-notes/{id}', { id: cn.id });
    await call('GET', '/credit-notes');
    await call('POST', '/credit-notes/{id}/finalize', { id: cn.id });
    await call('POST', '/credit-notes/{id}/send', { id: cn.id });
    const cn2 = await call<{ id: string }>('POST', '/credit-notes', {}, { currency: 'USD', customerId: customer.id });
    await call('POST', '/credit-notes/{id}/void', { id: cn2.id });

    const policy = await call<{ id: string }>('POST', '/notifications/policies', {}, { name: 'hook', recipients: ['https://example.com/hook'], channel: 'WEBHOOK', notificationTypes: ['INVOICE_UPDATED'] });
    await call('POST', '/notifications/policies', {}, { name: 'bad', recipients: ['https://example.com/hook'], channel: 'WEBHOOK', notificationTypes: ['NOT_A_TYPE'] });
    await call('GET', '/notifications/policies');
    await call('GET', '/notifications/policies/{id}', { id: policy.id });
    await call('DELETE', '/notifications/policies/{id}', { id: policy.id });

    const accounts = await call<{ items: { id: string }[] }>('GET', '/sequence-accounts');
    await call('GET', '/sequence-accounts/{id}', { id: accounts.items[0].id });

    await call('POST', '/customers/{id}/archive', { id: customer.id });
    await call('POST', '/products/{id}/archive', { id: product.id });
    await call('DELETE', '/tax-registrations/{id}', { id: reg.id });
  });

  afterAll(async () => {
    await sim?.stop();
  });

  it('exercised the endpoints the connector and the demo rely on', () => {
    expect(recorded.length).toBeGreaterThan(50);
    expect(recorded.filter((r) => r.status >= 500)).toEqual([]);
    // Every call succeeded except the deliberately invalid notification policy.
    expect(recorded.filter((r) => r.status >= 400).map((r) => `${r.method} ${r.template} ${r.status}`)).toEqual(['POST /notifications/policies 400']);
  });

  it('every response with a documented JSON schema validates against it', () => {
    const failures: string[] = [];
    let validated = 0;
    for (const r of recorded) {
      if (!oas.hasResponseSchema(r.method, r.template, r.status)) continue;
      validated++;
      const errors = oas.validateResponse(r.method, r.template, r.status, r.body);
      if (errors.length) failures.push(`${r.method} ${r.template} ${r.status}:\n  ${errors.join('\n  ')}`);
    }
    expect(failures).toEqual([]);
    // Almost every call has a documented schema (a few, like DELETE line-item-group, may not).
    expect(validated).toBeGreaterThan(45);
  });

  it('the documented 400 body of POST /notifications/policies (DatabaseErrors) matches', () => {
    const bad = recorded.find((r) => r.template === '/notifications/policies' && r.status === 400);
    expect(bad).toBeDefined();
    expect(oas.validateResponse('POST', '/notifications/policies', 400, bad?.body)).toEqual([]);
  });

  it('detail: line items, groups and invoices validate as their named components', () => {
    const get = (m: string, t: string) => recorded.find((r) => r.method === m && r.template === t)?.body as { items?: unknown[] } | undefined;
    const lines = get('GET', '/invoices/{invoice}/line-items');
    expect(lines?.items?.length).toBe(1);
    expect(oas.validateComponent('Stable20240101LineItemResponse', lines?.items?.[0])).toEqual([]);
    expect(oas.validateComponent('LineItemGroupResponseModel', get('GET', '/invoices/{invoice}/line-item-groups')?.items?.[0])).toEqual([]);
    expect(oas.validateComponent('InvoiceResponse', get('GET', '/invoices/{id}'))).toEqual([]);
    expect(oas.validateComponent('Customer', get('GET', '/customers/{id}'))).toEqual([]);
  });

  it('the validator really rejects a wrong body (money as a number, missing required field)', () => {
    const line = (recorded.find((r) => r.template === '/invoices/{invoice}/line-items' && r.method === 'GET')?.body as { items: Record<string, unknown>[] }).items[0];
    expect(oas.validateComponent('Stable20240101LineItemResponse', { ...line, totalTax: 1.08 })).not.toEqual([]);
    const { netTotal: _n, ...withoutNet } = line;
    expect(oas.validateComponent('Stable20240101LineItemResponse', withoutNet)).not.toEqual([]);
  });
});

describeIfContract('shared/domain/currency ↔ OpenAPI 2024-07-30', () => {
  // Money handling is only defined for the currencies in CURRENCY_EXPONENTS: a currency Sequence adds
  // to its enum must fail here rather than as "Unsupported currency" on a merchant's invoice.
  it('CURRENCIES is exactly components.schemas.Currency.enum', () => {
    const oasDoc = JSON.parse(readFileSync(CONTRACT, 'utf8')) as { components: { schemas: { Currency: { enum: string[] } } } };
    const documented = oasDoc.components.schemas.Currency.enum;
    expect(documented.length).toBeGreaterThan(0);
    expect([...CURRENCIES].sort()).toEqual([...documented].sort());
  });
});
