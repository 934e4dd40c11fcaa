import { ArnFormat, type CfnElement, CfnOutput, Stack, Token, Validations } from 'aws-cdk-lib';
import { HttpMethod, type HttpApi, HttpRoute, HttpRouteKey } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { AccountRootPrincipal, Effect, ManagedPolicy, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ADMIN_FUNCTION_NAME, ADMIN_ROUTES, QUEUES, type RouteKey } from '../../shared/runtime/catalogue';
import { CONNECTIONS_INDEX } from '../../shared/store/keys';
import type { StageConfig } from '../stage-config';
import { ConnectorFunction } from './connector-function';
import { grantSendMessage } from './queue-grants';
import { CONNECTIONS_INDEX_ACTIONS, CONNECTOR_TABLE_ACTIONS } from './table-grants';

/** What the admin API function may do with secrets: only under the connector's name prefix. */
export const ADMIN_API_SECRET_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:GetSecretValue',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RestoreSecret',
  'secretsmanager:TagResource',
] as const;

/** The DynamoDB calls of the admin API's repositories (no scans, no batch, no transactions). */
export const ADMIN_API_TABLE_ACTIONS = CONNECTOR_TABLE_ACTIONS;

/**
 * cdk-validator-cfnguard's CT.LAMBDA.PR.2 accepts a `SourceArn` only as a literal string or a Ref/GetAtt
 * of the same template, so it misreads the `Fn::Join` every HTTP API integration permission carries.
 * Acknowledged on each route (the permission is created in the route's scope).
 */
export const API_INVOKE_PERMISSION_ACK = {
  id: 'cdk-validator-cfnguard::lambda_function_public_access_prohibited_check',
  reason:
    'The permission is not public: principal apigateway.amazonaws.com with SourceArn ' +
    'arn:…:execute-api:<region>:<account>:<this API>/*/<method><path> (an Fn::Join of this template, which the ' +
    'rule cannot read).',
} as const;

export interface AdminApiProps {
  readonly config: StageConfig;
  readonly httpApi: HttpApi;
  readonly connectorTable: ITableV2;
  /** Only its name is passed (config requires it); the admin API function does not use it. */
  readonly idempotencyTable: ITableV2;
  /** Name prefix of the per-connection secrets, e.g. `sphere-connector/sandbox/connections/`. */
  readonly secretsPrefix: string;
  /** The backfill queue the admin API function starts a backfill on. */
  readonly backfillQueue: IQueue;
  /**
   * Base URL Sequence posts webhooks to (`${publicUrl}/webhooks/sequence/{id}`). Default: the HTTP
   * API's own endpoint (the `$default` stage); set it when a custom domain fronts the API.
   */
  readonly publicUrl?: string;
}

/**
 * The admin API's function (functions/admin-api) and its IAM-authorised connection routes
 * (ADMIN_ROUTES.connections). The other admin routes of the same function (invoices, failures,
 * operations) are added with `addAdminRoute`. The function's
 * role may use the connector table, send to the backfill queue, and manage secrets under the
 * connector's prefix only. `adminPolicy` (and `adminRole`, assumable from this account) may call
 * exactly these routes.
 */
export class AdminApi extends Construct {
  public readonly function: ConnectorFunction;
  public readonly integration: HttpLambdaIntegration;
  public readonly authorizer: HttpIamAuthorizer;
  public readonly routes: HttpRoute[] = [];
  /** Grants execute-api:Invoke on the admin routes; attach it to operators' roles or users. */
  public readonly adminPolicy: ManagedPolicy;
  /** A role for operators of this account to assume to call the admin API. */
  public readonly adminRole: Role;
  /** IAM resource pattern of the per-connection secrets. */
  public readonly secretsArnPattern: string;
  private readonly httpApi: HttpApi;

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.httpApi = props.httpApi;
    // Secrets Manager appends `-XXXXXX` to the name in the ARN, hence the trailing wildcard.
    this.secretsArnPattern = stack.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${props.secretsPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });

    this.function = new ConnectorFunction(this, 'Function', {
      name: ADMIN_FUNCTION_NAME,
      config: props.config,
      description: 'Admin API: connect, status, test, rotate, disconnect, backfill',
      environment: {
        STAGE: props.config.stage,
        CONNECTOR_TABLE_NAME: props.connectorTable.tableName,
        IDEMPOTENCY_TABLE_NAME: props.idempotencyTable.tableName,
        SECRETS_BACKEND: 'secrets-manager',
        SECRETS_PREFIX: props.secretsPrefix,
        CONNECTOR_PUBLIC_URL: props.publicUrl ?? props.httpApi.apiEndpoint,
        [QUEUES.backfill.envVar]: props.backfillQueue.queueUrl,
        // Request bodies carry credentials: never log the event, whatever the default becomes.
        POWERTOOLS_LOGGER_LOG_EVENT: 'false',
      },
    });

    // Item reads/writes on the table; on the connection list (GSI1) only Query, the one action an index takes. No `index/*` wildcard.
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'ConnectorTableItems',
        effect: Effect.ALLOW,
        actions: [...ADMIN_API_TABLE_ACTIONS],
        resources: [props.connectorTable.tableArn],
      }),
    );
    this.function.addToRolePolicy(
      new PolicyStatement({ sid: 'ConnectionsIndexQuery', actions: [...CONNECTIONS_INDEX_ACTIONS], resources: [`${props.connectorTable.tableArn}/index/${CONNECTIONS_INDEX}`] }),
    );
    grantSendMessage(props.backfillQueue, this.function);
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'ConnectionSecretsUnderPrefixOnly',
        effect: Effect.ALLOW,
        actions: [...ADMIN_API_SECRET_ACTIONS],
        resources: [this.secretsArnPattern],
      }),
    );

    // Id kept from the connect-only days: it names the integration's logical id and its invoke permissions.
    this.integration = new HttpLambdaIntegration('ConnectIntegration', this.function);
    this.authorizer = new HttpIamAuthorizer();
    for (const route of ADMIN_ROUTES.connections) this.addAdminRoute(route);

    const apiArn = (path: string) =>
      stack.formatArn({ service: 'execute-api', resource: props.httpApi.apiId, resourceName: `*/*${path}`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    this.adminPolicy = new ManagedPolicy(this, 'AdminPolicy', {
      description: 'Call the Sphere connector admin API (IAM-signed requests)',
      statements: [new PolicyStatement({ sid: 'InvokeAdminRoutes', actions: ['execute-api:Invoke'], resources: [apiArn('/connections'), apiArn('/connections/*')] })],
    });
    this.adminRole = new Role(this, 'AdminRole', {
      assumedBy: new AccountRootPrincipal(),
      description: 'Operators assume this role to call the connector admin API',
      managedPolicies: [this.adminPolicy],
    });

    // cdk-nag names resources with tokens rendered as `<AWS::Region>` / `<LogicalId>`.
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
    const apiRef = `<${stack.resolve((props.httpApi.node.defaultChild as CfnElement).logicalId) as string}>`;
    for (const path of ['/connections', '/connections/*']) {
      Validations.of(this.adminPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:${region}:${account}:${apiRef}/*/*${path}]`,
        reason: 'Any stage and method of the admin paths of this one API; connection and invoice ids are path parameters.',
      });
    }
    Validations.of(this.function.serviceRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:${region}:${account}:secret:${props.secretsPrefix}*]`,
      reason: 'One secret per connection, created at runtime by this function: the grant is scoped to the connector’s secret name prefix.',
    });

    new CfnOutput(this, 'AdminRoleArn', { value: this.adminRole.roleArn, description: 'Assume this role to call the admin API (IAM SigV4, service execute-api)' });
  }

  /** Route another admin path of the catalogue (ADMIN_ROUTES) to the same function, IAM-authorised. */
  addAdminRoute({ method, path }: RouteKey): HttpRoute {
    const route = new HttpRoute(this, `Route${method}${path.replace(/[^A-Za-z0-9]/g, '')}`, {
      httpApi: this.httpApi,
      routeKey: HttpRouteKey.with(path, HttpMethod[method]),
      integration: this.integration,
      authorizer: this.authorizer,
    });
    Validations.of(route).acknowledge(API_INVOKE_PERMISSION_ACK);
    this.routes.push(route);
    return route;
  }
}
