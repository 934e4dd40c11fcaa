/**
 * The function environment, parsed once with zod. Every Lambda (and the local runtime, which sets
 * the same variables for the handlers it hosts) reads its settings through `config()`; nothing
 * else in the connector reads `process.env` for connector settings.
 *
 * Queue URLs are optional: a function only needs the queues it sends to or reads from. Ask for
 * one with `requireQueueUrl(config, 'invoiceTax')`, which names the missing variable.
 */
import * as z from 'zod';
import { QUEUES, QUEUE_KEYS, type QueueKey } from './catalogue';

export const SECRETS_BACKENDS = ['secrets-manager', 'local-vault'] as const;
export type SecretsBackend = (typeof SECRETS_BACKENDS)[number];

const nonEmpty = z.string().trim().min(1, 'must not be empty');
const url = z.url({ message: 'must be an absolute URL (http:// or https://)' });
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), url.optional());
const nonNegativeInt = (fallback: number) =>
  z.preprocess((v) => (v === undefined || v === '' ? fallback : Number(v)), z.number().int('must be an integer').nonnegative('must not be negative'));
const positiveInt = (fallback: number) =>
  z.preprocess((v) => (v === undefined || v === '' ? fallback : Number(v)), z.number().int('must be an integer').positive('must be positive'));

/** Raw environment schema: keys are the variable names, so an issue path names the variable. */
const EnvSchema = z
  .object({
    STAGE: z.preprocess((v) => (v === '' ? undefined : v), nonEmpty.default('local')),
    AWS_REGION: z.preprocess((v) => (v === '' ? undefined : v), nonEmpty.default('eu-west-1')),
    CONNECTOR_TABLE_NAME: nonEmpty,
    IDEMPOTENCY_TABLE_NAME: nonEmpty,
    SECRETS_BACKEND: z.preprocess((v) => (v === '' ? undefined : v), z.enum(SECRETS_BACKENDS, { message: `must be one of ${SECRETS_BACKENDS.join(', ')}` }).default('secrets-manager')),
    SECRETS_PREFIX: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z
        .string()
        .regex(/^[A-Za-z0-9/_+=.@-]*$/, 'may only contain letters, digits and /_+=.@-')
        .refine((s) => !/-[A-Za-z0-9]{6}$/.test(s), 'must not end in "-" plus 6 characters (collides with the ARN suffix)')
        .default('sphere-connector/local/connections/'),
    ),
    LOCAL_VAULT_DIR: z.preprocess((v) => (v === '' ? undefined : v), nonEmpty.default('.local/vault')),
    /**
     * Secret cache lifetime for the Secrets Manager adapter; 0 reads through every time (the IAM
     * proof: all functions share one process there, and each must make its own read).
     */
    SECRETS_CACHE_SECONDS: nonNegativeInt(300),
    /** How far a webhook's signature timestamp may be from now (either way). */
    WEBHOOK_SIGNATURE_TOLERANCE_SECONDS: positiveInt(300),
    CONNECTOR_PUBLIC_URL: optionalUrl,
    SEQUENCE_BASE_URL: optionalUrl,
    SPHERE_BASE_URL: optionalUrl,
    /**
     * How long an admin tax or finalize request may take before it hands the line writes to the
     * invoice-tax worker and answers 202 (API Gateway gives up at 29 s, the function at 30 s).
     */
    ADMIN_TAX_BUDGET_MS: positiveInt(25_000),
    LOG_LEVEL: z.preprocess((v) => (v === '' ? undefined : v), z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT']).default('INFO')),
    ...Object.fromEntries(QUEUE_KEYS.map((key) => [QUEUES[key].envVar, optionalUrl])),
  })
  .superRefine((env, ctx) => {
    if (env.SECRETS_BACKEND === 'local-vault' && env.STAGE !== 'local' && env.STAGE !== 'test') {
      ctx.addIssue({ code: 'custom', path: ['SECRETS_BACKEND'], message: `local-vault is only allowed when STAGE is local or test (STAGE is "${env.STAGE}")` });
    }
  });

export interface ConnectorConfig {
  stage: string;
  region: string;
  connectorTableName: string;
  idempotencyTableName: string;
  /** Queue URLs this function was given (absent keys: not configured for this function). */
  queueUrls: Partial<Record<QueueKey, string>>;
  secrets: {
    backend: SecretsBackend;
    /** Secret name = prefix + connection id, e.g. `sphere-connector/sandbox/connections/`. */
    prefix: string;
    localVaultDir: string;
    cacheSeconds: number;
  };
  /** Base URL Sequence should call for webhooks (`${publicUrl}/webhooks/sequence/{id}`). */
  publicUrl?: string;
  /** Override of the upstream base URLs (simulators locally); absent → per-connection/default. */
  sequenceBaseUrl?: string;
  sphereBaseUrl?: string;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** ADMIN_TAX_BUDGET_MS: the admin tax/finalize routes' time budget (the direct invocation has the function's 120 s). */
  adminTaxBudgetMs: number;
  /** Webhook signature timestamp tolerance, either way (default 300 s). */
  webhookSignatureToleranceSeconds: number;
}

export class ConfigError extends Error {
  /** The environment variables that were missing or invalid. */
  readonly variables: string[];
  constructor(message: string, variables: string[]) {
    super(message);
    this.name = 'ConfigError';
    this.variables = variables;
  }
}

/** Parse an environment; throws ConfigError naming every missing or invalid variable (never its value). */
export function loadConfig(env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): ConnectorConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const variables: string[] = [];
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)');
      variables.push(name);
      const missing = env[name] === undefined || env[name] === '';
      return missing && issue.code === 'invalid_type' ? `${name} is required but not set` : `${name} ${issue.message}`;
    });
    throw new ConfigError(`Invalid connector configuration: ${lines.join('; ')}`, [...new Set(variables)]);
  }
  const e = parsed.data as z.infer<typeof EnvSchema> & Record<string, string | undefined>;
  const queueUrls: Partial<Record<QueueKey, string>> = {};
  for (const key of QUEUE_KEYS) {
    const value = e[QUEUES[key].envVar];
    if (value) queueUrls[key] = value;
  }
  return {
    stage: e.STAGE,
    region: e.AWS_REGION,
    connectorTableName: e.CONNECTOR_TABLE_NAME,
    idempotencyTableName: e.IDEMPOTENCY_TABLE_NAME,
    queueUrls,
    secrets: { backend: e.SECRETS_BACKEND, prefix: e.SECRETS_PREFIX, localVaultDir: e.LOCAL_VAULT_DIR, cacheSeconds: e.SECRETS_CACHE_SECONDS },
    ...(e.CONNECTOR_PUBLIC_URL ? { publicUrl: e.CONNECTOR_PUBLIC_URL.replace(/\/+$/, '') } : {}),
    ...(e.SEQUENCE_BASE_URL ? { sequenceBaseUrl: e.SEQUENCE_BASE_URL } : {}),
    ...(e.SPHERE_BASE_URL ? { sphereBaseUrl: e.SPHERE_BASE_URL } : {}),
    logLevel: e.LOG_LEVEL,
    adminTaxBudgetMs: e.ADMIN_TAX_BUDGET_MS,
    webhookSignatureToleranceSeconds: e.WEBHOOK_SIGNATURE_TOLERANCE_SECONDS,
  };
}

let cached: ConnectorConfig | undefined;

/** The process's configuration, parsed on first use and cached (Lambda module scope). */
export function config(): ConnectorConfig {
  cached ??= loadConfig(process.env);
  return cached;
}

/** Forget the cached configuration (tests and the local runtime after it changes process.env). */
export function resetConfigCache(): void {
  cached = undefined;
}

/** The URL of a queue this function must have; throws ConfigError naming the variable otherwise. */
export function requireQueueUrl(cfg: ConnectorConfig, queue: QueueKey): string {
  const value = cfg.queueUrls[queue];
  const variable = QUEUES[queue].envVar;
  if (!value) throw new ConfigError(`${variable} is required by this function but not set`, [variable]);
  return value;
}
