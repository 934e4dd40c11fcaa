import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { ArnPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { QUEUES } from '../../shared/runtime/catalogue';
import { grantSendMessage } from './queue-grants';
import { CONNECTOR_TABLE_ACTIONS, IDEMPOTENCY_TABLE_ACTIONS } from './table-grants';
import type { StageConfig } from '../stage-config';
import { ConnectorFunction } from './connector-function';
import { FifoQueueWithDlq, catalogueQueueProps } from './fifo-queue-with-dlq';

/** The consumers' timeouts from the catalogue (queue visibility = 6 × each). */
export const INVOICE_TAX_TIMEOUT = Duration.seconds(QUEUES.invoiceTax.timeoutSeconds);
export const EXEMPTIONS_TIMEOUT = Duration.seconds(QUEUES.exemptions.timeoutSeconds);

export interface InvoiceTaxProps {
  readonly config: StageConfig;
  readonly connectorTable: ITableV2;
  readonly idempotencyTable: ITableV2;
  /** Name prefix of the per-connection secrets, e.g. `sphere-connector/sandbox/connections/`. */
  readonly secretsPrefix: string;
  /**
   * ARNs of roles (e.g. a billing workflow's) allowed to invoke calculate-invoice-tax directly with
   * `{connectionId, invoiceId, finalize?}`. Each gets a resource-based `lambda:InvokeFunction` permission.
   */
  readonly directInvokerRoleArns?: readonly string[];
  /** Topic for DLQ-depth and message-age alarms of both queues. */
  readonly alarmTopic?: ITopic;
  /** Event source mapping maximum concurrency per worker (default: the catalogue's, QUEUES): caps parallel calls to Sequence/Sphere. */
  readonly maxConcurrency?: number;
}

/**
 * The invoice-tax flow on AWS: the invoice-tax and exemptions FIFO queues (each with its DLQ), the
 * calculate-invoice-tax and exemptions functions consuming them, their grants (connector table,
 * idempotency table, secrets under the prefix read-only, the queues they send to), the direct-invoke
 * permission for named roles, and alarms. `grantAdminFunction` wires the admin API function that
 * serves the invoice/failure routes (env + grants), since it calculates, finalises and re-queues too.
 */
export class InvoiceTax extends Construct {
  public readonly invoiceTaxQueue: FifoQueueWithDlq;
  public readonly exemptionsQueue: FifoQueueWithDlq;
  public readonly calculateFunction: ConnectorFunction;
  public readonly exemptionsFunction: ConnectorFunction;
  /** IAM resource pattern of the per-connection secrets. */
  public readonly secretsArnPattern: string;
  private readonly props: InvoiceTaxProps;

  constructor(scope: Construct, id: string, props: InvoiceTaxProps) {
    super(scope, id);
    this.props = props;
    const stack = Stack.of(this);
    this.secretsArnPattern = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${props.secretsPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const prefix = props.config.resourcePrefix;

    this.invoiceTaxQueue = new FifoQueueWithDlq(this, 'InvoiceTaxQueue', catalogueQueueProps(prefix, 'invoiceTax'));
    this.exemptionsQueue = new FifoQueueWithDlq(this, 'ExemptionsQueue', catalogueQueueProps(prefix, 'exemptions'));

    this.calculateFunction = new ConnectorFunction(this, 'CalculateInvoiceTax', {
      name: QUEUES.invoiceTax.functionName,
      config: props.config,
      description: 'Invoice tax: calculate with Sphere, write rates to Sequence, finalise with tax, record transactions',
      timeout: INVOICE_TAX_TIMEOUT,
      memorySize: 512,
      environment: {
        ...this.baseEnvironment(),
        [QUEUES.invoiceTax.dlqEnvVar]: this.invoiceTaxQueue.deadLetterQueue.queueUrl,
      },
    });
    this.exemptionsFunction = new ConnectorFunction(this, 'Exemptions', {
      name: QUEUES.exemptions.functionName,
      config: props.config,
      description: "Exemption changes: update the Sphere customer, re-tax the customer's open drafts",
      timeout: EXEMPTIONS_TIMEOUT,
      environment: {
        ...this.baseEnvironment(),
        [QUEUES.exemptions.dlqEnvVar]: this.exemptionsQueue.deadLetterQueue.queueUrl,
      },
    });

    for (const fn of [this.calculateFunction, this.exemptionsFunction]) this.grantCommon(fn);
    // Unparseable messages are moved to the DLQ by the worker itself (shared/runtime/sqs-worker.ts).
    grantSendMessage(this.invoiceTaxQueue.deadLetterQueue, this.calculateFunction);
    grantSendMessage(this.exemptionsQueue.deadLetterQueue, this.exemptionsFunction);

    this.invoiceTaxQueue.addConsumer(this.calculateFunction, { batchSize: QUEUES.invoiceTax.batchSize, maxConcurrency: props.maxConcurrency ?? QUEUES.invoiceTax.maxConcurrency });
    this.exemptionsQueue.addConsumer(this.exemptionsFunction, { batchSize: QUEUES.exemptions.batchSize, maxConcurrency: props.maxConcurrency ?? QUEUES.exemptions.maxConcurrency });

    (props.directInvokerRoleArns ?? []).forEach((roleArn, i) => {
      this.calculateFunction.addPermission(`DirectInvoke${i}`, { principal: new ArnPrincipal(roleArn), action: 'lambda:InvokeFunction' });
    });

    if (props.alarmTopic) {
      this.invoiceTaxQueue.addAlarms({ topic: props.alarmTopic });
      this.exemptionsQueue.addAlarms({ topic: props.alarmTopic });
    }
  }

  private baseEnvironment(): Record<string, string> {
    return {
      STAGE: this.props.config.stage,
      CONNECTOR_TABLE_NAME: this.props.connectorTable.tableName,
      IDEMPOTENCY_TABLE_NAME: this.props.idempotencyTable.tableName,
      SECRETS_BACKEND: 'secrets-manager',
      SECRETS_PREFIX: this.props.secretsPrefix,
      [QUEUES.invoiceTax.envVar]: this.invoiceTaxQueue.queue.queueUrl,
      [QUEUES.exemptions.envVar]: this.exemptionsQueue.queue.queueUrl,
    };
  }

  /** Table, secrets (read-only, under the prefix) and the two queues this flow sends to. */
  private grantCommon(fn: LambdaFunction): void {
    fn.addToRolePolicy(new PolicyStatement({ sid: 'ConnectorTableItems', actions: [...CONNECTOR_TABLE_ACTIONS], resources: [this.props.connectorTable.tableArn] }));
    fn.addToRolePolicy(new PolicyStatement({ sid: 'IdempotencyRecords', actions: [...IDEMPOTENCY_TABLE_ACTIONS], resources: [this.props.idempotencyTable.tableArn] }));
    grantSendMessage(this.invoiceTaxQueue.queue, fn);
    // ensureCustomerInSphere (shared/sync) reports a tax-status change on the exemptions queue.
    grantSendMessage(this.exemptionsQueue.queue, fn);
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadConnectionSecretsUnderPrefix',
        effect: Effect.ALLOW,
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.secretsArnPattern],
      }),
    );
    const stack = Stack.of(this);
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const role = fn.role;
    if (role) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${region}:${account}:secret:${this.props.secretsPrefix}*]`,
        reason: 'One secret per connection, created at runtime: read access is scoped to the connector’s secret name prefix.',
      });
    }
  }

  /**
   * The admin API function serving ADMIN_ROUTES.invoiceTax calculates and finalises synchronously
   * and re-queues failures: give it the queue URLs and the rights it needs for that. (The route
   * wiring itself is `AdminApi.addAdminRoute` for each of ADMIN_ROUTES.invoiceTax.)
   */
  public grantAdminFunction(fn: LambdaFunction): void {
    fn.addEnvironment(QUEUES.invoiceTax.envVar, this.invoiceTaxQueue.queue.queueUrl);
    fn.addEnvironment(QUEUES.exemptions.envVar, this.exemptionsQueue.queue.queueUrl);
    grantSendMessage(this.invoiceTaxQueue.queue, fn);
    grantSendMessage(this.exemptionsQueue.queue, fn);
  }
}
