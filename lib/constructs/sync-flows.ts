import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi, type HttpRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUES, type QueueKey, WEBHOOK_ROUTE } from '../../shared/runtime/catalogue';
import { CONNECTIONS_INDEX } from '../../shared/store/keys';
import type { StageConfig } from '../stage-config';
import { API_INVOKE_PERMISSION_ACK } from './admin-api';
import { ConnectorFunction } from './connector-function';
import { FifoQueueWithDlq, catalogueQueueProps } from './fifo-queue-with-dlq';
import { grantSendMessage } from './queue-grants';
import { CONNECTIONS_INDEX_ACTIONS, CONNECTOR_TABLE_ACTIONS, IDEMPOTENCY_TABLE_ACTIONS } from './table-grants';

export interface SyncFlowsProps {
  readonly config: StageConfig;
  readonly httpApi: HttpApi;
  readonly connectorTable: ITableV2;
  readonly idempotencyTable: ITableV2;
  /** Name prefix of the per-connection secrets. */
  readonly secretsPrefix: string;
  /** IAM resource pattern of every per-connection secret (ServiceStack.secretsArnPattern). */
  readonly secretsArnPattern: string;
  /** The invoice-tax flow's queue: webhook ingest routes invoice and credit-note notifications to it. */
  readonly invoiceTaxQueue: IQueue;
  /** The invoice-tax flow's exemptions queue: customer sync tells it when a customer's tax treatment changed. */
  readonly exemptionsQueue: IQueue;
  /** Alarm topic for DLQ depth and oldest-message age. */
  readonly alarmTopic?: ITopic;
  /** Reconcile schedule (default every hour). */
  readonly reconcileSchedule?: Schedule;
}

/** Worker timeouts, batch sizes and concurrency come from the catalogue (QUEUES); the webhook's from WEBHOOK_ROUTE. */
export const RECONCILE_TIMEOUT = Duration.minutes(10);

/**
 * Webhook ingest, customer and product sync, backfill and reconcile (architecture §2):
 *  - `POST /webhooks/sequence/{connectionId}` → webhook-ingest (no auth: HMAC-verified in the function);
 *  - FIFO queues + FIFO DLQs customer-sync, product-sync, backfill, each consumed with partial batch
 *    responses and maxConcurrency 2; visibility timeout 6 × the consumer timeout; maxReceiveCount 5;
 *  - reconcile on an EventBridge schedule, its failed invocations recorded in a failure queue (alarmed);
 *  - least privilege: each function gets only the tables, secrets and queues it uses.
 */
export class SyncFlows extends Construct {
  public readonly customerSyncQueue: FifoQueueWithDlq;
  public readonly productSyncQueue: FifoQueueWithDlq;
  public readonly backfillQueue: FifoQueueWithDlq;
  public readonly webhookIngest: ConnectorFunction;
  public readonly webhookRoute: HttpRoute;
  public readonly syncCustomer: ConnectorFunction;
  public readonly syncProduct: ConnectorFunction;
  public readonly backfill: ConnectorFunction;
  public readonly reconcile: ConnectorFunction;
  public readonly reconcileRule: Rule;
  /** Failure destination of reconcile's asynchronous invocations (and the schedule target's DLQ). */
  public readonly reconcileFailureQueue: Queue;
  /** Any message in `reconcileFailureQueue` (only with `alarmTopic`). */
  public readonly reconcileFailureAlarm?: Alarm;

  constructor(scope: Construct, id: string, props: SyncFlowsProps) {
    super(scope, id);
    const { config } = props;
    const prefix = config.resourcePrefix;

    this.customerSyncQueue = new FifoQueueWithDlq(this, 'CustomerSyncQueue', catalogueQueueProps(prefix, 'customerSync'));
    this.productSyncQueue = new FifoQueueWithDlq(this, 'ProductSyncQueue', catalogueQueueProps(prefix, 'productSync'));
    this.backfillQueue = new FifoQueueWithDlq(this, 'BackfillQueue', catalogueQueueProps(prefix, 'backfill'));

    const baseEnv = {
      STAGE: config.stage,
      CONNECTOR_TABLE_NAME: props.connectorTable.tableName,
      IDEMPOTENCY_TABLE_NAME: props.idempotencyTable.tableName,
      SECRETS_BACKEND: 'secrets-manager',
      SECRETS_PREFIX: props.secretsPrefix,
    };
    const readSecrets = new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [props.secretsArnPattern] });
    // Explicit item actions instead of grantReadWriteData, whose `index/*` wildcard no function needs:
    // only reconcile lists connections, through GSI1.
    const tableItems = (fn: ConnectorFunction, withConnectionsIndex = false) => {
      fn.addToRolePolicy(new PolicyStatement({ actions: [...CONNECTOR_TABLE_ACTIONS], resources: [props.connectorTable.tableArn] }));
      if (withConnectionsIndex) {
        fn.addToRolePolicy(new PolicyStatement({ actions: [...CONNECTIONS_INDEX_ACTIONS], resources: [`${props.connectorTable.tableArn}/index/${CONNECTIONS_INDEX}`] }));
      }
    };
    const stack = Stack.of(this);
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const acknowledgeSecretPrefix = (fn: ConnectorFunction) =>
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${region}:${account}:secret:${props.secretsPrefix}*]`,
        reason: 'One secret per connection, created at runtime: read access is scoped to the connector’s secret name prefix.',
      });

    // ── webhook ingest ──────────────────────────────────────────────────────────────────────
    this.webhookIngest = new ConnectorFunction(this, 'WebhookIngest', {
      name: WEBHOOK_ROUTE.functionName,
      config,
      timeout: Duration.seconds(WEBHOOK_ROUTE.timeoutSeconds),
      description: 'Verifies, dedupes and routes Sequence webhooks',
      environment: { ...baseEnv, [QUEUES.customerSync.envVar]: this.customerSyncQueue.queue.queueUrl, [QUEUES.invoiceTax.envVar]: props.invoiceTaxQueue.queueUrl },
    });
    tableItems(this.webhookIngest);
    this.webhookIngest.addToRolePolicy(readSecrets);
    acknowledgeSecretPrefix(this.webhookIngest);
    grantSendMessage(this.customerSyncQueue.queue, this.webhookIngest);
    grantSendMessage(props.invoiceTaxQueue, this.webhookIngest);
    const [webhookRoute] = props.httpApi.addRoutes({
      path: WEBHOOK_ROUTE.path,
      methods: [HttpMethod[WEBHOOK_ROUTE.method]],
      integration: new HttpLambdaIntegration('WebhookIngestIntegration', this.webhookIngest),
    });
    this.webhookRoute = webhookRoute!;
    const hmacNotIam =
      'Sequence cannot sign with IAM or send a token: every delivery is authenticated by its HMAC Sequence-Signature (per-connection secret, 5-minute tolerance) before anything is queued.';
    Validations.of(this.webhookRoute).acknowledge(
      { id: 'AwsSolutions-APIG4', reason: hmacNotIam },
      { id: 'cdk-validator-cfnguard::api_gw_v2_authorization_type_configured_check', reason: hmacNotIam },
      API_INVOKE_PERMISSION_ACK,
    );

    // ── workers ──────────────────────────────────────────────────────────────────────────────
    const worker = (fnId: string, key: QueueKey, queue: FifoQueueWithDlq, extraEnv: Record<string, string>, description: string) => {
      const { functionName, timeoutSeconds, envVar, dlqEnvVar, batchSize, maxConcurrency } = QUEUES[key];
      const fn = new ConnectorFunction(this, fnId, {
        name: functionName,
        config,
        timeout: Duration.seconds(timeoutSeconds),
        description,
        environment: { ...baseEnv, [envVar]: queue.queue.queueUrl, [dlqEnvVar]: queue.deadLetterQueue.queueUrl, ...extraEnv },
      });
      tableItems(fn);
      fn.addToRolePolicy(new PolicyStatement({ actions: [...IDEMPOTENCY_TABLE_ACTIONS], resources: [props.idempotencyTable.tableArn] }));
      fn.addToRolePolicy(readSecrets);
      acknowledgeSecretPrefix(fn);
      // Unparseable messages are moved to the DLQ by the worker itself, with the reason.
      grantSendMessage(queue.deadLetterQueue, fn);
      queue.addConsumer(fn, { batchSize, maxConcurrency });
      if (props.alarmTopic) queue.addAlarms({ topic: props.alarmTopic });
      return fn;
    };

    this.syncCustomer = worker('SyncCustomer', 'customerSync', this.customerSyncQueue, { [QUEUES.exemptions.envVar]: props.exemptionsQueue.queueUrl }, 'Upserts a Sequence customer in Sphere');
    grantSendMessage(props.exemptionsQueue, this.syncCustomer);

    this.syncProduct = worker('SyncProduct', 'productSync', this.productSyncQueue, {}, 'Upserts a Sequence product in Sphere with its tax code');

    this.backfill = worker(
      'Backfill',
      'backfill',
      this.backfillQueue,
      { [QUEUES.customerSync.envVar]: this.customerSyncQueue.queue.queueUrl, [QUEUES.productSync.envVar]: this.productSyncQueue.queue.queueUrl },
      'Pages Sequence customers and products into the sync queues (resumable)',
    );
    grantSendMessage(this.backfillQueue.queue, this.backfill); // self-chaining
    grantSendMessage(this.customerSyncQueue.queue, this.backfill);
    grantSendMessage(this.productSyncQueue.queue, this.backfill);

    // ── reconcile ────────────────────────────────────────────────────────────────────────────
    // Where a failed sweep is recorded: EventBridge invokes reconcile asynchronously, so an invocation that
    // fails after Lambda's 2 retries (or that EventBridge cannot deliver) lands here instead of vanishing.
    // The next hourly sweep repeats the work; the message and its alarm say that one did not complete.
    this.reconcileFailureQueue = new Queue(this, 'ReconcileFailureQueue', {
      queueName: `${prefix}-reconcile-failures`,
      enforceSSL: true,
      encryption: QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    const isTheDeadLetterQueue = 'It is itself the failure destination (and EventBridge dead-letter queue) of the reconcile function; nothing consumes it.';
    Validations.of(this.reconcileFailureQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: isTheDeadLetterQueue },
      { id: 'cdk-validator-cfnguard::sqs_dlq_check', reason: isTheDeadLetterQueue },
    );
    this.reconcile = new ConnectorFunction(this, 'Reconcile', {
      name: 'reconcile',
      config,
      timeout: RECONCILE_TIMEOUT,
      memorySize: 512,
      onFailure: new SqsDestination(this.reconcileFailureQueue),
      retryAttempts: 2,
      description: 'Scheduled drift sweep: queues syncs for records missing or stale in Sphere, and stuck invoices',
      environment: {
        ...baseEnv,
        [QUEUES.customerSync.envVar]: this.customerSyncQueue.queue.queueUrl,
        [QUEUES.productSync.envVar]: this.productSyncQueue.queue.queueUrl,
        [QUEUES.backfill.envVar]: this.backfillQueue.queue.queueUrl,
        [QUEUES.invoiceTax.envVar]: props.invoiceTaxQueue.queueUrl,
      },
    });
    tableItems(this.reconcile, true);
    this.reconcile.addToRolePolicy(readSecrets);
    acknowledgeSecretPrefix(this.reconcile);
    for (const q of [this.customerSyncQueue, this.productSyncQueue, this.backfillQueue]) grantSendMessage(q.queue, this.reconcile);
    grantSendMessage(props.invoiceTaxQueue, this.reconcile); // the stuck-invoice sweep
    this.reconcileRule = new Rule(this, 'ReconcileSchedule', {
      description: 'Reconcile Sequence and Sphere (drift sweep)',
      schedule: props.reconcileSchedule ?? Schedule.rate(Duration.hours(1)),
      targets: [new LambdaFunction(this.reconcile, { retryAttempts: 2, deadLetterQueue: this.reconcileFailureQueue })],
    });
    if (props.alarmTopic) {
      const action = new SnsAction(props.alarmTopic);
      this.reconcileFailureAlarm = new Alarm(this, 'ReconcileFailureAlarm', {
        alarmDescription: `A reconcile sweep failed after its retries (message in ${this.reconcileFailureQueue.node.path}): check the reconcile log group`,
        metric: this.reconcileFailureQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      this.reconcileFailureAlarm.addAlarmAction(action);
      this.reconcileFailureAlarm.addOkAction(action);
    }
  }
}
