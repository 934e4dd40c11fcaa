import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { stageConfig, type Stage } from '../../lib/stage-config';
import { connectorApp } from './helpers';

describe.each<Stage>(['sandbox', 'production'])('ServiceStack (%s)', (stage) => {
  const { service } = connectorApp(stage);
  const template = Template.fromStack(service);
  const config = stageConfig(stage);

  it('has one HTTP API with an explicit, throttled, auto-deployed $default stage', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP', Name: `sphere-connector-${stage}-api` });
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: config.apiThrottle.rateLimit,
        ThrottlingBurstLimit: config.apiThrottle.burstLimit,
      },
    });
  });

  it('writes JSON access logs (with the request id, without bodies or headers) to a retained log group', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
    const stageResource = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0];
    const format = String(stageResource?.Properties?.AccessLogSettings?.Format);
    expect(JSON.parse(format)).toEqual(expect.objectContaining({ status: '$context.status' }));
    expect(format).not.toMatch(/requestBody|header/i);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: stage === 'production' ? 90 : 14, LogGroupName: `/sphere-connector-${stage}/api-access` });
  });

  it('names every log group per stage, once (a duplicate name would only fail at deploy time)', () => {
    const names = Object.values(template.findResources('AWS::Logs::LogGroup')).map((r) => r.Properties?.LogGroupName as string);
    expect(names.length).toBeGreaterThanOrEqual(9); // access logs + the eight functions
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(new RegExp(`^/sphere-connector-${stage}/(api-access|lambda/[a-z-]+)$`));
    expect(names).toEqual(expect.arrayContaining([`/sphere-connector-${stage}/lambda/calculate-invoice-tax`, `/sphere-connector-${stage}/lambda/webhook-ingest`]));
  });

  it('outputs the API URL and routes API 5xx alarms to the alarm topic', () => {
    template.hasOutput('ApiUrl', {});
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: '5xx',
      Namespace: 'AWS/ApiGateway',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
      // Like every other alarm, it also says when the API recovered.
      OKActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
    });
  });

  it('gives the webhook route its own throttle from the stage config, apart from the admin routes', () => {
    const stageResource = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0]!;
    expect(stageResource.Properties.RouteSettings).toEqual({
      'POST /webhooks/sequence/{connectionId}': {
        ThrottlingRateLimit: config.webhookThrottle.rateLimit,
        ThrottlingBurstLimit: config.webhookThrottle.burstLimit,
      },
    });
    // Admin routes (IAM-authorised) have no route-level limit: they use the stage default bucket alone.
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as { RouteKey: string; AuthorizationType?: string });
    const limited = Object.keys(stageResource.Properties.RouteSettings as object);
    expect(routes.filter((r) => r.AuthorizationType === 'AWS_IAM').map((r) => r.RouteKey)).not.toEqual(expect.arrayContaining(limited));
    expect(routes.map((r) => r.RouteKey)).toEqual(expect.arrayContaining(limited));
    // The stage names the route by its key: CloudFormation must create the route first.
    const webhookRouteId = Object.entries(template.findResources('AWS::ApiGatewayV2::Route')).find(([, r]) => r.Properties.RouteKey === limited[0])![0];
    expect(stageResource.DependsOn).toEqual(expect.arrayContaining([webhookRouteId]));
  });

  it(
    stage === 'production'
      ? 'keeps its log groups on delete, except when a first creation rolls back (the names are fixed)'
      : 'deletes its log groups with the stack',
    () => {
      const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup'));
      expect(logGroups.length).toBeGreaterThanOrEqual(9);
      const expected = stage === 'production' ? { DeletionPolicy: 'RetainExceptOnCreate', UpdateReplacePolicy: 'Retain' } : { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' };
      for (const group of logGroups) expect({ DeletionPolicy: group.DeletionPolicy, UpdateReplacePolicy: group.UpdateReplacePolicy }).toEqual(expected);
    },
  );

  it('receives the data stack tables and scopes secrets to the stage prefix', () => {
    expect(service.data.secretsPrefix).toBe(`sphere-connector/${stage}/connections/`);
    expect(service.data.connectorTable).toBeDefined();
    expect(service.data.idempotencyTable).toBeDefined();
    expect(service.resolve(service.secretsArnPattern)).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':secretsmanager:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:secret:sphere-connector/${stage}/connections/*`,
        ],
      ],
    });
  });

  it('has no e-mail subscription unless alarmEmail is given', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});

describe('without alarmEmail', () => {
  const alarmEmailWarning = Match.stringLikeRegexp('alarmEmail.*notify nobody|notify nobody.*alarmEmail|No alarmEmail');

  it('synth warns that the alarms notify nobody, naming alarmEmail', () => {
    const { service } = connectorApp('production');
    Annotations.fromStack(service).hasWarning('*', alarmEmailWarning);
  });

  it('has no such warning when alarmEmail is given', () => {
    const { service } = connectorApp('production', { alarmEmail: 'ops@example.com' });
    Annotations.fromStack(service).hasNoWarning('*', alarmEmailWarning);
  });
});

it('subscribes alarmEmail to the alarm topic', () => {
  const { service } = connectorApp('sandbox', { alarmEmail: 'ops@example.com' });
  Template.fromStack(service).hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'email',
    Endpoint: 'ops@example.com',
  });
});
