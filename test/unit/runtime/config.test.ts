import { ConfigError, config, loadConfig, requireQueueUrl, resetConfigCache } from '../../../shared/runtime/config';
import { thrownBy } from '../../support/thrown';

const base = { CONNECTOR_TABLE_NAME: 'connector', IDEMPOTENCY_TABLE_NAME: 'idem' };

const errorOf = (fn: () => unknown): ConfigError => thrownBy(fn, ConfigError);

describe('loadConfig', () => {
  it('parses a minimal environment with defaults', () => {
    const cfg = loadConfig(base);
    expect(cfg).toMatchObject({
      stage: 'local',
      connectorTableName: 'connector',
      idempotencyTableName: 'idem',
      queueUrls: {},
      secrets: { backend: 'secrets-manager', prefix: 'sphere-connector/local/connections/', localVaultDir: '.local/vault', cacheSeconds: 300 },
      logLevel: 'INFO',
      adminTaxBudgetMs: 25_000,
      webhookSignatureToleranceSeconds: 300,
    });
    expect(cfg.publicUrl).toBeUndefined();
    expect(loadConfig({ ...base, WEBHOOK_SIGNATURE_TOLERANCE_SECONDS: '3600' }).webhookSignatureToleranceSeconds).toBe(3600);
  });

  it('reads queue URLs, the public URL and the vault settings', () => {
    const cfg = loadConfig({
      ...base,
      STAGE: 'sandbox',
      INVOICE_TAX_QUEUE_URL: 'http://127.0.0.1:1/000000000000/invoice-tax.fifo',
      CUSTOMER_SYNC_QUEUE_URL: 'http://127.0.0.1:1/000000000000/customer-sync.fifo',
      CONNECTOR_PUBLIC_URL: 'https://abc.execute-api.eu-west-1.amazonaws.com/',
      SECRETS_PREFIX: 'sphere-connector/sandbox/connections/',
      SECRETS_CACHE_SECONDS: '60',
    });
    expect(cfg.queueUrls).toEqual({ invoiceTax: 'http://127.0.0.1:1/000000000000/invoice-tax.fifo', customerSync: 'http://127.0.0.1:1/000000000000/customer-sync.fifo' });
    expect(cfg.publicUrl).toBe('https://abc.execute-api.eu-west-1.amazonaws.com');
    expect(cfg.secrets).toMatchObject({ prefix: 'sphere-connector/sandbox/connections/', cacheSeconds: 60 });
    expect(requireQueueUrl(cfg, 'invoiceTax')).toContain('invoice-tax.fifo');
  });

  it('names each missing variable', () => {
    const error = errorOf(() => loadConfig({}));
    expect(error.variables.sort()).toEqual(['CONNECTOR_TABLE_NAME', 'IDEMPOTENCY_TABLE_NAME']);
    expect(error.message).toContain('CONNECTOR_TABLE_NAME is required but not set');
    expect(error.message).toContain('IDEMPOTENCY_TABLE_NAME is required but not set');
  });

  it.each([
    ['SECRETS_BACKEND', 'vault-of-doom'],
    ['CONNECTOR_PUBLIC_URL', 'not a url'],
    ['INVOICE_TAX_QUEUE_URL', 'queue'],
    ['SECRETS_CACHE_SECONDS', '-5'],
    ['WEBHOOK_SIGNATURE_TOLERANCE_SECONDS', '0'],
    ['SECRETS_PREFIX', 'bad prefix with spaces'],
    ['LOG_LEVEL', 'LOUD'],
  ])('names the invalid variable %s without echoing its value', (name, value) => {
    const error = errorOf(() => loadConfig({ ...base, [name]: value }));
    expect(error.variables).toEqual([name]);
    expect(error.message).toContain(name);
    expect(error.message).not.toContain(value);
  });

  it('refuses the local vault outside local/test stages', () => {
    const error = errorOf(() => loadConfig({ ...base, STAGE: 'production', SECRETS_BACKEND: 'local-vault' }));
    expect(error.variables).toEqual(['SECRETS_BACKEND']);
    expect(loadConfig({ ...base, SECRETS_BACKEND: 'local-vault' }).secrets.backend).toBe('local-vault');
  });

  it('requireQueueUrl names the variable a function is missing', () => {
    const error = errorOf(() => requireQueueUrl(loadConfig(base), 'exemptions'));
    expect(error.message).toContain('EXEMPTIONS_QUEUE_URL');
  });

  it('config() parses process.env once and caches it', () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, base);
      resetConfigCache();
      const first = config();
      process.env.CONNECTOR_TABLE_NAME = 'changed';
      expect(config()).toBe(first);
      resetConfigCache();
      expect(config().connectorTableName).toBe('changed');
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
      resetConfigCache();
    }
  });
});
