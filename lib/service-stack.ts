import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { CfnStage, HttpApi, HttpStage, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ConnectorData } from './data-stack';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { AdminApi } from './constructs/admin-api';
import { InvoiceTax } from './constructs/invoice-tax';
import { ConnectorOperations, addOperationsRoutes } from './constructs/operations';
import { connectorLogGroup } from './constructs/log-group';
import { SyncFlows } from './constructs/sync-flows';
import { ADMIN_FUNCTION_NAME, ADMIN_ROUTES, QUEUES, WEBHOOK_ROUTE } from '../shared/runtime/catalogue';
import { METRICS_NAMESPACE, type StageConfig } from './stage-config';

export interface ServiceStackProps extends StackProps {
  readonly config: StageConfig;
  /** The data stack's tables and secrets prefix. */
  readonly data: ConnectorData;
  /** Optional e-mail address subscribed to the alarm topic. */
  readonly alarmEmail?: string;
  /** Roles (e.g. a billing workflow's) allowed to invoke calculate-invoice-tax directly. */
  readonly directInvokerRoleArns?: readonly string[];
}

/**
 * What can be replaced: the HTTP API, functions, queues, alarms. No state lives here except logs.
 * Functions and routes are added by later work; this stack already carries the API front door
 * (throttled default stage with JSON access logs) and the alarm topic every alarm routes to.
 */
export class ServiceStack extends Stack {
  public readonly config: StageConfig;
  public readonly data: ConnectorData;
  /** IAM resource pattern matching every per-connection secret (for `secretsmanager:*` grants). */
  public readonly secretsArnPattern: string;
  public readonly httpApi: HttpApi;
  public readonly apiStage: HttpStage;
  public readonly accessLogGroup: LogGroup;
  /** Every alarm in the service notifies this topic. */
  public readonly alarmTopic: Topic;
  /** HTTP API 5xx answers on the stage (alarm and OK to `alarmTopic`). */
  public readonly api5xxAlarm: Alarm;
  public readonly adminApi: AdminApi;
  public readonly sync: SyncFlows;
  public readonly invoiceTax: InvoiceTax;
  public readonly operations: ConnectorOperations;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    // The three values, not the data stack itself (`shared` below spreads them).
    this.data = { connectorTable: props.data.connectorTable, idempotencyTable: props.data.idempotencyTable, secretsPrefix: props.data.secretsPrefix };
    // Secrets Manager appends `-XXXXXX` to the name in the ARN, hence the trailing wildcard.
    this.secretsArnPattern = this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${this.data.secretsPrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // ── Alarm topic ────────────────────────────────────────────────────────────────────────────────
    this.alarmTopic = new Topic(this, 'AlarmTopic', { enforceSSL: true });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    }

    // ── HTTP API ───────────────────────────────────────────────────────────────────────────────────
    // HTTP API (payload format 2.0): webhooks are authenticated by HMAC in the ingress function, admin
    // routes by IAM. The default stage is declared explicitly to get throttling and access logs.
    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `${config.resourcePrefix}-api`,
      description: `Sequence ↔ Sphere tax connector (${config.stage})`,
      createDefaultStage: false,
    });

    this.accessLogGroup = connectorLogGroup(this, 'ApiAccessLogs', config, 'api-access');

    this.apiStage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.apiThrottle.rateLimit, burstLimit: config.apiThrottle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        // One JSON line per request; no bodies, no headers (signatures and tokens stay out of logs).
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            httpMethod: '$context.httpMethod',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            errorMessage: '$context.error.message',
          }),
        ),
      },
    });

    this.api5xxAlarm = new Alarm(this, 'Api5xxAlarm', {
      alarmDescription: 'HTTP API answered 5xx',
      metric: this.apiStage.metricServerError({ statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // Alarm and OK, like every other alarm: the operator also learns when the API recovered.
    this.api5xxAlarm.addAlarmAction(new SnsAction(this.alarmTopic));
    this.api5xxAlarm.addOkAction(new SnsAction(this.alarmTopic));

    // ── Flows ─────────────────────────────────────────────────────────────────────────────────────
    // Invoice tax owns the invoice-tax and exemptions queues; sync routes webhooks into them.
    const shared = { config, ...this.data };
    this.invoiceTax = new InvoiceTax(this, 'InvoiceTax', {
      ...shared,
      alarmTopic: this.alarmTopic,
      directInvokerRoleArns: props.directInvokerRoleArns ?? [],
    });
    this.sync = new SyncFlows(this, 'Sync', {
      ...shared,
      httpApi: this.httpApi,
      secretsArnPattern: this.secretsArnPattern,
      invoiceTaxQueue: this.invoiceTax.invoiceTaxQueue.queue,
      exemptionsQueue: this.invoiceTax.exemptionsQueue.queue,
      alarmTopic: this.alarmTopic,
    });
    // The webhook route's own token bucket (the stage default above then serves the admin routes alone).
    // The stage names the route by its key, so it must be created after the route.
    const stage = this.apiStage.node.defaultChild as CfnStage;
    stage.routeSettings = {
      [`${WEBHOOK_ROUTE.method} ${WEBHOOK_ROUTE.path}`]: {
        ThrottlingRateLimit: config.webhookThrottle.rateLimit,
        ThrottlingBurstLimit: config.webhookThrottle.burstLimit,
      },
    };
    stage.node.addDependency(this.sync.webhookRoute);
    // Construct id stays 'ConnectApi' (its name before the admin API was named for what it is): it prefixes the
    // logical ids of the function, its role, the routes and AdminRole, and a new id would replace them all
    // (a new AdminRole ARN for every operator who assumes it).
    this.adminApi = new AdminApi(this, 'ConnectApi', { ...shared, httpApi: this.httpApi, backfillQueue: this.sync.backfillQueue.queue });
    this.invoiceTax.grantAdminFunction(this.adminApi.function);
    for (const route of ADMIN_ROUTES.invoiceTax) this.adminApi.addAdminRoute(route);
    const queues = {
      customerSync: this.sync.customerSyncQueue,
      productSync: this.sync.productSyncQueue,
      backfill: this.sync.backfillQueue,
      invoiceTax: this.invoiceTax.invoiceTaxQueue,
      exemptions: this.invoiceTax.exemptionsQueue,
    };
    // Failure retry and DLQ redrive: the admin function may send to every queue and drain every DLQ.
    addOperationsRoutes(this.adminApi, this.httpApi, queues);

    this.operations = new ConnectorOperations(this, 'Operations', {
      functions: {
        [ADMIN_FUNCTION_NAME]: this.adminApi.function,
        [WEBHOOK_ROUTE.functionName]: this.sync.webhookIngest,
        [QUEUES.customerSync.functionName]: this.sync.syncCustomer,
        [QUEUES.productSync.functionName]: this.sync.syncProduct,
        [QUEUES.backfill.functionName]: this.sync.backfill,
        reconcile: this.sync.reconcile,
        [QUEUES.invoiceTax.functionName]: this.invoiceTax.calculateFunction,
        [QUEUES.exemptions.functionName]: this.invoiceTax.exemptionsFunction,
      },
      queues,
      httpApi: this.httpApi,
      alarmTopic: this.alarmTopic,
      metricsNamespace: METRICS_NAMESPACE,
      dashboardName: config.resourcePrefix,
      apiServerErrorAlarm: false, // Api5xxAlarm above
    });

    new CfnOutput(this, 'ApiUrl', { value: this.apiStage.url, description: 'Base URL of the connector HTTP API' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
  }
}
