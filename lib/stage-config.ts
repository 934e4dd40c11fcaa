import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** The deployment stages the CDK app knows. One AWS account/region pair per stage is the intent. */
export const STAGES = ['sandbox', 'production'] as const;
export type Stage = (typeof STAGES)[number];

/** An API Gateway token bucket: steady requests per second, and the burst above it. */
export interface ApiThrottle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** Everything that differs between stages lives here, so stacks never branch on the stage name. */
export interface StageConfig {
  readonly stage: Stage;
  /** Prefix of every stack name, e.g. `SphereConnector-sandbox`. */
  readonly stackPrefix: string;
  /**
   * Prefix of every physical name the stacks choose (HTTP API, queues, dashboard, log groups),
   * e.g. `sphere-connector-sandbox`, so two stages in one account never collide and every resource
   * says which stage it belongs to. Log groups use it as a path: `/sphere-connector-sandbox/…`
   * (`logGroupName`). Functions, roles and tables keep CloudFormation's generated names, which
   * already contain the stack name (and so the stage).
   */
  readonly resourcePrefix: string;
  /**
   * Name prefix of the per-connection secrets, e.g. `sphere-connector/sandbox/connections/`.
   * Secrets are tenant data: the connect flow creates them at runtime, never CDK.
   */
  readonly secretsPrefix: string;
  /** Removal policy for tables. Production data is always retained. */
  readonly dataRemovalPolicy: RemovalPolicy;
  /** DynamoDB deletion protection (production only; sandbox stays easy to tear down). */
  readonly deletionProtection: boolean;
  /** Retention of Lambda and access log groups. */
  readonly logRetention: RetentionDays;
  /**
   * Removal policy for log groups. Production keeps them (RETAIN_ON_UPDATE_OR_DELETE, CloudFormation's
   * `RetainExceptOnCreate`): their names are fixed, so a plain RETAIN would leave them behind when a first
   * deploy rolls back, and the retry would stop on "already exists".
   */
  readonly logRemovalPolicy: RemovalPolicy;
  /** Powertools log level for every function. */
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** HTTP API stage default throttling: every route without its own limit, i.e. the admin routes. */
  readonly apiThrottle: ApiThrottle;
  /**
   * Route-level throttling of the Sequence webhook route (`POST /webhooks/sequence/{connectionId}`), a
   * budget of its own: a webhook burst cannot lock operators out of the admin API, nor the reverse.
   */
  readonly webhookThrottle: ApiThrottle;
}

export const SERVICE_NAME = 'sphere-connector';
export const METRICS_NAMESPACE = 'SphereConnector';

/** The names a stage derives from its own. */
function stageNames(stage: Stage): Pick<StageConfig, 'stage' | 'stackPrefix' | 'resourcePrefix' | 'secretsPrefix'> {
  return { stage, stackPrefix: `SphereConnector-${stage}`, resourcePrefix: `${SERVICE_NAME}-${stage}`, secretsPrefix: `${SERVICE_NAME}/${stage}/connections/` };
}

/** The admin API and the webhook endpoint get the same limits, each as a budget of its own. */
function sameThrottles(throttle: ApiThrottle): Pick<StageConfig, 'apiThrottle' | 'webhookThrottle'> {
  return { apiThrottle: { ...throttle }, webhookThrottle: { ...throttle } };
}

const CONFIGS: Record<Stage, StageConfig> = {
  sandbox: {
    ...stageNames('sandbox'),
    // Sandbox tables may be destroyed with the stack; PITR stays on so mistakes are recoverable.
    dataRemovalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
    logRetention: RetentionDays.TWO_WEEKS,
    logRemovalPolicy: RemovalPolicy.DESTROY,
    logLevel: 'DEBUG',
    ...sameThrottles({ rateLimit: 50, burstLimit: 100 }),
  },
  production: {
    ...stageNames('production'),
    dataRemovalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
    logRetention: RetentionDays.THREE_MONTHS,
    logRemovalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    logLevel: 'INFO',
    ...sameThrottles({ rateLimit: 200, burstLimit: 400 }),
  },
};

export function isStage(value: unknown): value is Stage {
  return typeof value === 'string' && (STAGES as readonly string[]).includes(value);
}

/**
 * Resolve the stage from a CDK context value. `undefined` means the default (`sandbox`);
 * anything else that is not a known stage is a hard error, so a typo never deploys somewhere unexpected.
 */
export function parseStage(value: unknown): Stage {
  if (value === undefined || value === null || value === '') return 'sandbox';
  if (isStage(value)) return value;
  throw new Error(
    `Unknown stage ${JSON.stringify(value)}: pass -c stage=sandbox or -c stage=production (default: sandbox).`,
  );
}

export function stageConfig(stage: Stage): StageConfig {
  return CONFIGS[stage];
}

/**
 * The per-stage log group name for one of the stack's log groups: `/<resourcePrefix>/<path>`, e.g.
 * `/sphere-connector-production/lambda/calculate-invoice-tax`. A fixed name means a retained
 * (production) log group left behind by a deleted stack must be deleted before the stack is created
 * again (README, Deploying); a first creation that rolls back removes them (`logRemovalPolicy`).
 */
export function logGroupName(config: StageConfig, path: string): string {
  return `/${config.resourcePrefix}/${path}`;
}
