import { ArnFormat, type CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { type IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct, type IConstruct } from 'constructs';
import { ADMIN_ROUTES, METRICS, QUEUES, type QueueKey } from '../../shared/runtime/catalogue';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../stage-config';
import type { AdminApi } from './admin-api';
import type { FifoQueueWithDlq } from './fifo-queue-with-dlq';
import { grantDeadLetterOperations, grantSendMessage } from './queue-grants';

/** The dashboard's groups of connector metrics. */
const WEBHOOK_METRICS = [METRICS.webhookAccepted, METRICS.webhookDuplicate, METRICS.webhookIgnored, METRICS.webhookRejected];
const RECONCILE_METRICS = [METRICS.reconcileCustomersQueued, METRICS.reconcileProductsQueued, METRICS.reconcileInvoicesQueued];
/** The connection counters (shared/runtime/dependencies.ts mirrors every increment as a metric). */
const FLOW_METRICS = [METRICS.invoicesTaxed, METRICS.customersSynced, METRICS.productsSynced, METRICS.transactionsRecorded];

export interface ConnectorOperationsProps {
  /** The connector's functions by display name (an array is named by each function's construct id). */
  readonly functions: Readonly<Record<string, IFunction>> | readonly IFunction[];
  /** The connector's work queues by display name (an array is named by each queue's construct id). */
  readonly queues: Readonly<Record<string, FifoQueueWithDlq>> | readonly FifoQueueWithDlq[];
  readonly httpApi: IHttpApi;
  /** Every alarm (and its return to OK) notifies this topic. */
  readonly alarmTopic: ITopic;
  /** Namespace of the Powertools metrics. Default METRICS_NAMESPACE. */
  readonly metricsNamespace?: string;
  /** Powertools `service` dimension. Default SERVICE_NAME. */
  readonly serviceName?: string;
  /** Physical dashboard name (letters, digits, `-`, `_`). Default: generated. */
  readonly dashboardName?: string;
  /** Oldest-message age alarm threshold for every queue. Default 15 minutes. */
  readonly maxMessageAge?: Duration;
  /** Alarm when at least this many failures are recorded in 5 minutes. Default 1. */
  readonly failureThreshold?: number;
  /**
   * Add an HTTP API 5xx alarm. Default true; pass false when the stack already has one (ServiceStack
   * creates `Api5xxAlarm`).
   */
  readonly apiServerErrorAlarm?: boolean;
  /** 5xx answers in 5 minutes that raise the API alarm. Default 5. */
  readonly apiServerErrorThreshold?: number;
}

function named<T extends IConstruct>(items: Readonly<Record<string, T>> | readonly T[]): [string, T][] {
  if (Array.isArray(items)) return (items as readonly T[]).map((item) => [item.node.id, item]);
  return Object.entries(items as Readonly<Record<string, T>>);
}

/** `webhook-ingest` → `WebhookIngest`, for construct ids. */
function idPart(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * Alarms and the dashboard of the connector:
 *  - per function: Errors ≥ 1 and Throttles ≥ 1 in 5 minutes;
 *  - per queue (FifoQueueWithDlq.addAlarms): any message in the DLQ, oldest message older than `maxMessageAge`
 *    (a queue whose alarms a flow construct already added keeps those, and they are not duplicated);
 *  - the custom metric `Failures` (failure records written by any entry point: queue workers, admin
 *    tax/finalize routes, the direct invocation) ≥ `failureThreshold` in 5 minutes. It alarms on the
 *    total, not per connection: CloudWatch needs one alarm per dimension value, and connection ids
 *    are tenants created at run time, unknown to the stack. The per-connection series (same metric,
 *    dimension `connectionId`) is on the dashboard ("Failures by connection", a SEARCH), which is
 *    where the alarm sends the operator;
 *  - optionally HTTP API 5xx;
 * all routed to `alarmTopic` (alarm and OK). The dashboard shows, per flow, the API (requests,
 * 4xx/5xx, latency), each function (invocations, errors, throttles, duration), each queue (depth,
 * DLQ depth, oldest message age), the connector's custom metrics, failures by connection (a SEARCH
 * on a `connectionId` dimension) and the state of every alarm.
 */
export class ConnectorOperations extends Construct {
  public readonly dashboard: Dashboard;
  /** Every alarm this construct created, in creation order. */
  public readonly alarms: Alarm[] = [];
  public readonly functionAlarms: Record<string, { errors: Alarm; throttles: Alarm }> = {};
  public readonly queueAlarms: Record<string, { dlqDepth: Alarm; oldestMessageAge: Alarm }> = {};
  public readonly failuresAlarm: Alarm;
  public readonly apiServerErrorAlarm?: Alarm;
  private readonly namespace: string;
  private readonly serviceName: string;

  constructor(scope: Construct, id: string, props: ConnectorOperationsProps) {
    super(scope, id);
    this.namespace = props.metricsNamespace ?? METRICS_NAMESPACE;
    this.serviceName = props.serviceName ?? SERVICE_NAME;
    const action = new SnsAction(props.alarmTopic);
    const track = (alarm: Alarm): Alarm => {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms.push(alarm);
      return alarm;
    };

    const functions = named<IFunction>(props.functions);
    const queues = named<FifoQueueWithDlq>(props.queues);

    // ── Alarms ────────────────────────────────────────────────────────────────────────────────────
    for (const [name, fn] of functions) {
      const errors = track(
        new Alarm(this, `${idPart(name)}ErrorsAlarm`, {
          alarmDescription: `Function ${name} failed (Errors ≥ 1 in 5 minutes): check its log group for the error and the connection id`,
          metric: fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
      const throttles = track(
        new Alarm(this, `${idPart(name)}ThrottlesAlarm`, {
          alarmDescription: `Function ${name} was throttled (Throttles ≥ 1 in 5 minutes): account concurrency or reserved concurrency too low`,
          metric: fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
      this.functionAlarms[name] = { errors, throttles };
    }

    for (const [name, queue] of queues) {
      // A flow construct may already have added the queue's alarms (addAlarms with the same topic): reuse them.
      const existingDlq = queue.node.tryFindChild('DlqDepthAlarm');
      const existingAge = queue.node.tryFindChild('OldestMessageAgeAlarm');
      const alarms =
        existingDlq instanceof Alarm && existingAge instanceof Alarm
          ? { dlqDepth: existingDlq, oldestMessageAge: existingAge }
          : queue.addAlarms({ topic: props.alarmTopic, ...(props.maxMessageAge ? { maxMessageAge: props.maxMessageAge } : {}) });
      this.queueAlarms[name] = alarms;
      this.alarms.push(alarms.dlqDepth, alarms.oldestMessageAge);
    }

    this.failuresAlarm = track(
      new Alarm(this, 'FailuresAlarm', {
        alarmDescription:
          'The connector recorded failures (tax, sync or transaction work that needs a fix or exhausted its retries). ' +
          'The dashboard widget "Failures by connection" names the connection; then `sphere-connector failures <id>` and `sphere-connector retry <id>`.',
        metric: this.connectorMetric(METRICS.failures),
        threshold: props.failureThreshold ?? 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    if (props.apiServerErrorAlarm ?? true) {
      this.apiServerErrorAlarm = track(
        new Alarm(this, 'Api5xxAlarm', {
          alarmDescription: 'HTTP API answered 5xx',
          metric: props.httpApi.metricServerError({ statistic: 'Sum', period: FIVE_MINUTES }),
          threshold: props.apiServerErrorThreshold ?? 5,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    // ── Dashboard ─────────────────────────────────────────────────────────────────────────────────
    this.dashboard = new Dashboard(this, 'Dashboard', {
      ...(props.dashboardName ? { dashboardName: props.dashboardName } : {}),
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          `# ${this.serviceName}\n` +
          'Flows: webhook → queues → workers → Sphere/Sequence. DLQ messages: `sphere-connector dlq`, then `sphere-connector redrive <queue>` once the cause is fixed. ' +
          'Failures: `sphere-connector failures <connectionId>`.',
        width: 12,
        height: 4,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 12, height: 4 }),
    );

    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'API requests',
        left: [props.httpApi.metricCount({ statistic: 'Sum', period: FIVE_MINUTES, label: 'requests' })],
        width: 8,
      }),
      new GraphWidget({
        title: 'API 4xx / 5xx',
        left: [
          props.httpApi.metricClientError({ statistic: 'Sum', period: FIVE_MINUTES, label: '4xx' }),
          props.httpApi.metricServerError({ statistic: 'Sum', period: FIVE_MINUTES, label: '5xx' }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'API latency (ms)',
        left: ['p50', 'p90', 'p99'].map((statistic) => props.httpApi.metricLatency({ statistic, period: FIVE_MINUTES, label: statistic })),
        width: 8,
      }),
    );

    const functionWidgets: IWidget[] = functions.map(
      ([name, fn]) =>
        new GraphWidget({
          title: `λ ${name}`,
          left: [
            fn.metricInvocations({ statistic: 'Sum', period: FIVE_MINUTES, label: 'invocations' }),
            fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES, label: 'errors' }),
            fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES, label: 'throttles' }),
          ],
          right: [
            fn.metricDuration({ statistic: 'Average', period: FIVE_MINUTES, label: 'duration avg (ms)' }),
            fn.metricDuration({ statistic: 'p99', period: FIVE_MINUTES, label: 'duration p99 (ms)' }),
          ],
          width: 8,
        }),
    );
    for (let i = 0; i < functionWidgets.length; i += 3) this.dashboard.addWidgets(...functionWidgets.slice(i, i + 3));

    const queueWidgets: IWidget[] = queues.map(
      ([name, q]) =>
        new GraphWidget({
          title: `Queue ${name}`,
          left: [
            q.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1), label: 'visible' }),
            q.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period: Duration.minutes(1), label: 'in flight' }),
            q.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1), label: 'DLQ' }),
          ],
          right: [q.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(1), label: 'oldest message age (s)' })],
          width: 8,
        }),
    );
    for (let i = 0; i < queueWidgets.length; i += 3) this.dashboard.addWidgets(...queueWidgets.slice(i, i + 3));

    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Failures recorded',
        left: [this.connectorMetric(METRICS.failures, 'failures'), this.connectorMetric(METRICS.unparseableMessages, 'unparseable messages')],
        width: 8,
      }),
      new GraphWidget({
        title: 'Failures by connection',
        left: [
          new MathExpression({
            expression: `SEARCH('{${this.namespace},connectionId,service} MetricName="${METRICS.failures}"', 'Sum', 300)`,
            usingMetrics: {},
            label: '',
            period: FIVE_MINUTES,
          }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Failures by code',
        left: [
          new MathExpression({
            expression: `SEARCH('{${this.namespace},code,service} MetricName="${METRICS.failuresByCode}"', 'Sum', 300)`,
            usingMetrics: {},
            label: '',
            period: FIVE_MINUTES,
          }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Work done (invoices taxed, records synced, transactions recorded)',
        left: FLOW_METRICS.map((m) => this.connectorMetric(m, m)),
        width: 8,
      }),
      new GraphWidget({
        title: 'Sync lag by queue (ms, p90)',
        left: [
          new MathExpression({
            expression: `SEARCH('{${this.namespace},queue,service} MetricName="${METRICS.syncLag}"', 'p90', 300)`,
            usingMetrics: {},
            label: '',
            period: FIVE_MINUTES,
          }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Webhooks and reconcile',
        left: WEBHOOK_METRICS.map((m) => this.connectorMetric(m, m.replace(/^Webhook/, 'webhook ').toLowerCase())),
        right: RECONCILE_METRICS.map((m) => this.connectorMetric(m, m.replace(/^Reconcile/, 'reconcile ').toLowerCase())),
        width: 8,
      }),
    );
  }

  /** A connector custom metric (Powertools EMF: namespace + `service` dimension), summed over 5 minutes. */
  public connectorMetric(metricName: string, label?: string): IMetric {
    return new Metric({
      namespace: this.namespace,
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: 'Sum',
      period: FIVE_MINUTES,
      ...(label ? { label } : {}),
    });
  }
}

/**
 * What the admin function needs for the DLQ routes: each queue's URL and its DLQ's URL in its
 * environment (`<QUEUE>_QUEUE_URL`, `<QUEUE>_DLQ_URL`), send rights on the source queue and
 * attribute/receive/delete rights on the DLQ (DLQ_OPERATIONS_ACTIONS).
 */
export function grantQueueOperations(adminFunction: LambdaFunction, queues: Partial<Record<QueueKey, FifoQueueWithDlq>>): void {
  for (const [key, q] of Object.entries(queues) as [QueueKey, FifoQueueWithDlq | undefined][]) {
    if (!q) continue;
    adminFunction.addEnvironment(QUEUES[key].envVar, q.queue.queueUrl);
    adminFunction.addEnvironment(QUEUES[key].dlqEnvVar, q.deadLetterQueue.queueUrl);
    grantSendMessage(q.queue, adminFunction);
    grantDeadLetterOperations(q.deadLetterQueue, adminFunction);
  }
}

/**
 * Wire the operations routes into the admin API: the routes (IAM-authorised, same function), the
 * queue environment and grants (`grantQueueOperations`), and `execute-api:Invoke` on `/dlq` and
 * `/dlq/*` for the admin policy (`/connections/{id}/audit` is already covered by `/connections/*`).
 */
export function addOperationsRoutes(adminApi: AdminApi, httpApi: IHttpApi, queues: Partial<Record<QueueKey, FifoQueueWithDlq>>): void {
  for (const route of ADMIN_ROUTES.operations) adminApi.addAdminRoute(route);
  grantQueueOperations(adminApi.function, queues);

  const stack = Stack.of(adminApi);
  const apiArn = (path: string) =>
    stack.formatArn({ service: 'execute-api', resource: httpApi.apiId, resourceName: `*/*${path}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  adminApi.adminPolicy.addStatements(
    new PolicyStatement({ sid: 'InvokeOperationsRoutes', actions: ['execute-api:Invoke'], resources: [apiArn('/dlq'), apiArn('/dlq/*')] }),
  );
  // cdk-nag names resources with tokens rendered as `<AWS::Region>` / `<LogicalId>`.
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const apiRef = `<${stack.resolve((httpApi.node.defaultChild as CfnElement).logicalId) as string}>`;
  for (const path of ['/dlq', '/dlq/*']) {
    Validations.of(adminApi.adminPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:${region}:${account}:${apiRef}/*/*${path}]`,
      reason: 'Any stage and method of the DLQ operations paths of this one API; the queue name is a path parameter.',
    });
  }
}
