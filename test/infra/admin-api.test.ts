import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ADMIN_API_SECRET_ACTIONS, ADMIN_API_TABLE_ACTIONS } from '../../lib/constructs/admin-api';
import { ADMIN_ROUTES } from '../../shared/runtime/catalogue';
import { SECRETS_PREFIX, connectorApp, policyStatements, sandboxFunctionEnv, testAdminApi, testStackIn } from './helpers';


function build(options: { nag?: boolean; publicUrl?: string } = {}) {
  const { app, stack } = testStackIn('ConnectApiTest');
  const { api } = testAdminApi(stack, { backfillQueueName: 'test-backfill', withIndex: true, ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}) });
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return {
    app,
    stack,
    api,
    get template() {
      return Template.fromStack(stack);
    },
  };
}

describe('AdminApi', () => {
  it('one connect function (functions/admin-api/handler.ts) with the env the config needs', () => {
    const { template } = build();
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: sandboxFunctionEnv({ CONNECTOR_PUBLIC_URL: Match.anyValue(), BACKFILL_QUEUE_URL: Match.anyValue(), POWERTOOLS_LOGGER_LOG_EVENT: 'false' }),
      },
    });
  });

  it('the public URL defaults to the API endpoint and can be overridden', () => {
    build().template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CONNECTOR_PUBLIC_URL: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Api'), 'ApiEndpoint'] } }) },
    });
    build({ publicUrl: 'https://connector.example.com' }).template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CONNECTOR_PUBLIC_URL: 'https://connector.example.com' }) },
    });
  });

  it('every admin route is AWS_IAM-authorised and integrated with the connect function', () => {
    const { template } = build();
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const keys = Object.values(routes).map((r) => (r as { Properties: { RouteKey: string; AuthorizationType: string } }).Properties);
    expect(keys.map((k) => k.RouteKey).sort()).toEqual(ADMIN_ROUTES.connections.map((r) => `${r.method} ${r.path}`).sort());
    expect(new Set(keys.map((k) => k.AuthorizationType))).toEqual(new Set(['AWS_IAM']));
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
  });

  it('addAdminRoute adds another IAM-authorised route to the same function', () => {
    const { api, stack } = build();
    api.addAdminRoute({ method: 'GET', path: '/connections/{id}/failures' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /connections/{id}/failures', AuthorizationType: 'AWS_IAM' });
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
  });

  it('secrets: exactly the lifecycle actions, only on secrets under the connector prefix', () => {
    const statements = policyStatements(build().template).filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    expect(statements).toHaveLength(1);
    expect([statements[0]!.Action].flat().sort()).toEqual([...ADMIN_API_SECRET_ACTIONS].sort());
    expect(statements[0]!.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:secretsmanager:eu-west-1:123456789012:secret:${SECRETS_PREFIX}*`]],
    });
  });

  it('no statement grants anything on "*" except X-Ray; table and backfill queue only', () => {
    const statements = policyStatements(build().template);
    for (const s of statements) {
      if (s.Resource === '*') expect([s.Action].flat().every((a) => a.startsWith('xray:'))).toBe(true);
    }
    const sqs = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('sqs:')));
    expect(sqs).toHaveLength(1);
    expect([sqs[0]!.Action].flat()).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(JSON.stringify(sqs[0]!.Resource)).toContain('BackfillQueue');
    const dynamo = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(2);
    expect([dynamo[0]!.Action].flat().sort()).toEqual([...ADMIN_API_TABLE_ACTIONS].sort());
    expect(JSON.stringify(dynamo[0]!.Resource)).not.toContain('/index/');
    // On the index only Query applies.
    expect(dynamo[1]!.Action).toBe('dynamodb:Query');
    const resources = JSON.stringify(dynamo.map((s) => s.Resource));
    expect(JSON.stringify(dynamo[1]!.Resource)).toContain('/index/GSI1');
    expect(resources).not.toContain('/index/*');
    expect(resources).not.toContain('Idempotency');
  });

  it('an admin policy/role may invoke the admin routes of this API only', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'execute-api:Invoke',
            Resource: [
              { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/\\*/\\*/connections$')])] },
              { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/\\*/\\*/connections/\\*$')])] },
            ],
          }),
        ],
      },
    });
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: [{ Ref: Match.stringLikeRegexp('AdminPolicy') }] });
    template.hasOutput('*', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('AdminRole'), 'Arn'] } });
  });

  it('is cdk-nag clean (AwsSolutions) with its acknowledged findings only', () => {
    const { app } = build({ nag: true });
    expect(() => app.synth()).not.toThrow();
  });

  it('wired into the real service stack (table from the data stack, env-agnostic), the whole app stays nag-clean', () => {
    const { app, service } = connectorApp('production');
    expect(() => app.synth()).not.toThrow();
    // Every admin route is IAM-authorised; only the webhook (HMAC-verified in the function) is not.
    const routes = Object.values(Template.fromStack(service).findResources('AWS::ApiGatewayV2::Route')) as { Properties: { RouteKey: string; AuthorizationType?: string } }[];
    const admin = routes.filter((r) => !r.Properties.RouteKey.startsWith('POST /webhooks/'));
    expect(admin.length).toBeGreaterThanOrEqual(15);
    expect(admin.every((r) => r.Properties.AuthorizationType === 'AWS_IAM')).toBe(true);
    expect(routes.filter((r) => r.Properties.RouteKey.startsWith('POST /webhooks/')).map((r) => r.Properties.RouteKey)).toEqual(['POST /webhooks/sequence/{connectionId}']);
  });
});
