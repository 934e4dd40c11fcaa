import { CreateConnectionInputSchema, UpdateConnectionInputSchema, firstInputProblem } from '../../../shared/domain/connection-input';

const valid = {
  name: 'Acme',
  sequence: { environment: 'sandbox', clientId: 'cid', clientSecret: 'csecret' },
  sphere: { apiKey: 'sph_key' },
  taxCodes: { default: 'ptc_general' },
};

function problem(schema: typeof CreateConnectionInputSchema | typeof UpdateConnectionInputSchema, body: unknown) {
  const parsed = schema.safeParse(body);
  if (parsed.success) throw new Error('expected a parse failure');
  return firstInputProblem(parsed.error);
}

describe('CreateConnectionInputSchema', () => {
  it('accepts the minimal body and the full one (base URLs normalised, credentials trimmed)', () => {
    expect(CreateConnectionInputSchema.parse(valid)).toEqual(valid);
    const full = CreateConnectionInputSchema.parse({
      ...valid,
      sequence: { ...valid.sequence, environment: 'production', clientSecret: '  csecret\n', baseUrl: 'https://eu.sequencehq.com/api/' },
      sphere: { apiKey: 'sph_key', baseUrl: 'http://127.0.0.1:3102' },
      taxCodes: { default: 'txcd_10000000', byTaxCategory: { 'cat-1': 'txcd_20030000' } },
      options: { recordTransactions: false, calculateOnDraft: true },
    });
    expect(full.sequence).toEqual({ environment: 'production', clientId: 'cid', clientSecret: 'csecret', baseUrl: 'https://eu.sequencehq.com/api' });
    expect(full.taxCodes).toEqual({ default: 'txcd_10000000', byTaxCategory: { 'cat-1': 'txcd_20030000' } });
  });

  it.each<[string, unknown, string, RegExp]>([
    ['missing name', { ...valid, name: undefined }, 'name', /name is required/],
    ['blank name', { ...valid, name: '  ' }, 'name', /must not be empty/],
    ['missing sequence', { name: 'A', sphere: valid.sphere }, 'sequence', /sequence is required/],
    ['sequence not an object', { ...valid, sequence: 'x' }, 'sequence', /must be an object/],
    ['missing clientId', { ...valid, sequence: { environment: 'sandbox', clientSecret: 's' } }, 'sequence.clientId', /is required/],
    ['clientId with a colon', { ...valid, sequence: { ...valid.sequence, clientId: 'a:b' } }, 'sequence.clientId', /":"/],
    ['secret with whitespace inside', { ...valid, sequence: { ...valid.sequence, clientSecret: 'a b' } }, 'sequence.clientSecret', /whitespace/],
    ['number secret', { ...valid, sequence: { ...valid.sequence, clientSecret: 7 } }, 'sequence.clientSecret', /must be a string/],
    ['unknown environment', { ...valid, sequence: { ...valid.sequence, environment: 'staging' } }, 'sequence.environment', /"sandbox" or "production"/],
    ['ftp base URL', { ...valid, sphere: { ...valid.sphere, baseUrl: 'ftp://x' } }, 'sphere.baseUrl', /http\(s\) URL/],
    ['missing apiKey', { ...valid, sphere: {} }, 'sphere.apiKey', /is required/],
    ['taxCodes.default missing', { ...valid, taxCodes: {} }, 'taxCodes.default', /is required/],
    ['taxCodes missing (no built-in default)', { ...valid, taxCodes: undefined }, 'taxCodes', /taxCodes is required: .*no built-in default/],
    ['bad tax code', { ...valid, taxCodes: { default: 'tx code' } }, 'taxCodes.default', /may only contain/],
    ['bad mapping value', { ...valid, taxCodes: { default: 'txcd_1', byTaxCategory: { c: 1 } } }, 'taxCodes.byTaxCategory.c', /must be a string/],
    ['option not boolean', { ...valid, options: { recordTransactions: 'no' } }, 'options.recordTransactions', /true or false/],
    ['array body', [valid], 'body', /JSON object/],
    ['null body', null, 'body', /JSON object/],
    ['no body', undefined, 'body', /JSON object/],
  ])('%s → names %s', (_label, body, field, message) => {
    const p = problem(CreateConnectionInputSchema, body);
    expect(p.field).toBe(field);
    expect(p.message).toMatch(message);
  });

  it.each([
    ['top level', { ...valid, password: 'pw-value-123' }, 'password'],
    ['sequence', { ...valid, sequence: { ...valid.sequence, apiSecret: 'pw-value-123' } }, 'sequence.apiSecret'],
    ['sphere', { ...valid, sphere: { ...valid.sphere, secretKey: 'pw-value-123' } }, 'sphere.secretKey'],
    ['options', { ...valid, options: { token: 'pw-value-123' } }, 'options.token'],
  ])('an unknown (secret-looking) key in %s is refused by its own path, without echoing the value', (_where, body, field) => {
    const p = problem(CreateConnectionInputSchema, body);
    expect(p.field).toBe(field);
    expect(p.message).toContain(`${field} is not a known field`);
    expect(p.message).toContain('nothing was stored');
    expect(JSON.stringify(p)).not.toContain('pw-value-123');
  });

  it('never echoes a value in any message', () => {
    const secret = 'sk_live_never_echo_me';
    for (const body of [
      { ...valid, sequence: { ...valid.sequence, environment: secret } },
      { ...valid, sphere: { apiKey: secret, baseUrl: secret } },
      { ...valid, name: { secret } },
      { ...valid, taxCodes: { default: `${secret} x` } },
    ]) {
      expect(JSON.stringify(problem(CreateConnectionInputSchema, body))).not.toContain(secret);
    }
  });
});

describe('UpdateConnectionInputSchema', () => {
  it('accepts an empty body and partial changes', () => {
    expect(UpdateConnectionInputSchema.parse({})).toEqual({});
    expect(UpdateConnectionInputSchema.parse({ sphere: { apiKey: 'new' }, taxCodes: { byTaxCategory: { c: 'txcd_1' } } })).toEqual({ sphere: { apiKey: 'new' }, taxCodes: { byTaxCategory: { c: 'txcd_1' } } });
  });

  it.each<[string, unknown, string]>([
    ['environment change', { sequence: { environment: 'production' } }, 'sequence.environment'],
    ['blank name', { name: '' }, 'name'],
    ['unknown key', { webhookSecret: 'x' }, 'webhookSecret'],
    ['unknown nested key', { sequence: { secret: 'x' } }, 'sequence.secret'],
    ['wrong type', { options: { calculateOnDraft: 1 } }, 'options.calculateOnDraft'],
  ])('%s → 400 naming %s', (_label, body, field) => {
    expect(problem(UpdateConnectionInputSchema, body).field).toBe(field);
  });
});
