import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME, type StageConfig } from '../stage-config';
import { connectorLogGroup } from './log-group';

/** Repository root (this file lives in `lib/constructs/`). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/**
 * The Lambda runtime of every connector function. Development, CI and the benchmarks run the same Node
 * major (the `node` devDependency puts it first on every npm script's PATH); a unit test fails when the
 * two drift apart.
 */
export const LAMBDA_RUNTIME = Runtime.NODEJS_22_X;

/** Default Lambda timeout; SQS consumers derive the queue visibility timeout from it (×6). */
export const DEFAULT_TIMEOUT = Duration.seconds(30);
/** Default Lambda memory (MB). */
export const DEFAULT_MEMORY_MB = 256;

/**
 * esbuild options shared by every connector function. Exported so a test can bundle each handler with
 * exactly these options and import the result, catching ESM/CJS interop problems ts-jest cannot see.
 *
 * - ESM + `target: node22` matches the Lambda runtime.
 * - `externalModules: []` bundles the AWS SDK too, so Lambda runs the SDK version the lockfile pins.
 * - The banner gives ESM output a `require` for CJS dependencies (e.g. the X-Ray SDK used by Tracer).
 * - `mainFields: ['module', 'main']` prefers ESM entry points of dependencies.
 * - `sourcesContent: false` keeps the original sources out of the source map (≈4.7 MB → ≈1.3 MB):
 *   with `--enable-source-maps` Node reads and parses the whole map at import, and stack traces
 *   only need the mappings (file:line:column), not the sources. See bench/COLD-START.md.
 */
export const CONNECTOR_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  keepNames: true,
  mainFields: ['module', 'main'],
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  externalModules: [] as string[],
} satisfies BundlingOptions;

/** `functions/<name>/handler.ts` under the repository root. */
export function functionEntry(name: string): string {
  return path.join(PROJECT_ROOT, 'functions', name, 'handler.ts');
}

/** Props fixed by the house defaults cannot be overridden. */
type FixedProps =
  | 'runtime'
  | 'architecture'
  | 'tracing'
  | 'logGroup'
  | 'logRetention'
  | 'bundling'
  | 'code'
  | 'handler'
  | 'entry'
  | 'projectRoot'
  | 'depsLockFilePath'
  | 'role';

export interface ConnectorFunctionProps extends Omit<NodejsFunctionProps, FixedProps> {
  /** Function folder name: the entry is `functions/<name>/handler.ts` (unless `entry` is given). */
  readonly name: string;
  /** Stage settings (log retention, log level, removal policy of the log group). */
  readonly config: StageConfig;
  /** Explicit entry file; only for tests and fixtures. Default: `functions/<name>/handler.ts`. */
  readonly entry?: string;
  /** Default 30 s. */
  readonly timeout?: Duration;
  /** Default 256 MB. */
  readonly memorySize?: number;
}

/**
 * NodejsFunction with the connector's house defaults: Node 22 on arm64, X-Ray tracing, an explicit
 * log group with per-stage retention, Powertools environment, source maps, and one esbuild config
 * (`CONNECTOR_BUNDLING`) for every function. Handlers are exported as `handler` from `handler.ts`.
 */
export class ConnectorFunction extends NodejsFunction {
  /** The execution role (logs scoped to `functionLogGroup`; X-Ray; plus whatever is granted later). */
  public readonly serviceRole: Role;
  /** The function's own log group (created explicitly so retention is set and it is removed with the stack). */
  public readonly functionLogGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ConnectorFunctionProps) {
    const { name, config, entry, environment, timeout, memorySize, ...rest } = props;

    // The log group must exist before super() runs, so it is a sibling of the function in the tree.
    const logGroup = connectorLogGroup(scope, `${id}LogGroup`, config, `lambda/${name}`);

    // An explicit role that may write only to this log group, instead of the AWS-managed
    // AWSLambdaBasicExecutionRole (logs:* on every log group; cdk-nag AwsSolutions-IAM4).
    const role = new Role(scope, `${id}ServiceRole`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${scope.node.path}/${id}`,
    });
    logGroup.grantWrite(role);

    super(scope, id, {
      ...rest,
      role,
      entry: entry ?? functionEntry(name),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      timeout: timeout ?? DEFAULT_TIMEOUT,
      memorySize: memorySize ?? DEFAULT_MEMORY_MB,
      logGroup,
      bundling: CONNECTOR_BUNDLING,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: config.logLevel,
        ...environment,
      },
    });

    this.functionLogGroup = logGroup;
    this.serviceRole = role;

    // House-default findings, acknowledged once here by their full finding ids:
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active X-Ray tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which support no ' +
        'resource-level permissions (resource must be *). Every other grant on this role names its resource.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: the code is bundled for and tested against Node 22 (esbuild target ' +
        'node22); moving to nodejs24.x is a deliberate upgrade, not a default.',
    });
    Validations.of(this).acknowledge({
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason:
        'The functions reach only public endpoints (Sequence, Sphere, and DynamoDB, SQS, Secrets Manager, X-Ray over ' +
        'HTTPS with IAM); there is no private resource to reach. A VPC would add NAT gateways (cost, another failure ' +
        'point) for no isolation gain.',
    });
  }
}
