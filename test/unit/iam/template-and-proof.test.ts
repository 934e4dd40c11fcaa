/**
 * The IAM proof's template side (intrinsics resolved across stacks, each function paired with its
 * role) and its call side (what a recorded SDK call must be allowed to do), on small hand-written
 * templates shaped like the connector's.
 */
import { describeAwsCall } from '../../../local/runtime/aws-calls';
import { proveCalls } from '../../support/iam/proof';
import { type CfnTemplate, TemplateResolver, functionRoles } from '../../support/iam/template';

const data: CfnTemplate = {
  Resources: { ConnectorTable1: { Type: 'AWS::DynamoDB::GlobalTable', Properties: {} } },
  Outputs: {
    ExportTableArn: { Value: { 'Fn::GetAtt': ['ConnectorTable1', 'Arn'] }, Export: { Name: 'Data:ExportsOutputFnGetAttConnectorTable1Arn' } },
  },
};

const service: CfnTemplate = {
  Resources: {
    WorkQueue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'app-work.fifo' } },
    WorkerLogGroup: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/app/lambda/worker' } },
    WorkerRole: { Type: 'AWS::IAM::Role', Properties: {} },
    WorkerPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'WorkerRole' }],
        PolicyDocument: {
          Statement: [
            { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: { 'Fn::ImportValue': 'Data:ExportsOutputFnGetAttConnectorTable1Arn' } },
            { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] } },
            {
              Effect: 'Allow',
              Action: 'secretsmanager:GetSecretValue',
              Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':secret:app/connections/*']] },
            },
            { Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: { 'Fn::Sub': ['${Group}:*', { Group: { 'Fn::GetAtt': ['WorkerLogGroup', 'Arn'] } }] } },
          ],
        },
      },
    },
    Worker: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['WorkerRole', 'Arn'] }, LoggingConfig: { LogGroup: { Ref: 'WorkerLogGroup' } } } },
    WorkerMapping: { Type: 'AWS::Lambda::EventSourceMapping', Properties: { FunctionName: { Ref: 'Worker' }, EventSourceArn: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] } } },
    WorkerInvokeConfig: { Type: 'AWS::Lambda::EventInvokeConfig', Properties: { FunctionName: { Ref: 'Worker' }, DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['WorkQueue', 'Arn'] } } } } },
  },
};

const resolver = new TemplateResolver([
  { stackName: 'Data', template: data },
  { stackName: 'Service', template: service },
]);

it('resolves Ref, GetAtt, Join, Sub and ImportValue to ARNs in the fake account and region', () => {
  const [worker] = functionRoles(resolver, 'Service');
  expect(worker).toMatchObject({ name: 'worker', functionLogicalId: 'Worker', roleLogicalId: 'WorkerRole', eventSourceQueueArns: ['arn:aws:sqs:eu-west-1:123456789012:app-work.fifo'], asyncFailureTargetArns: ['arn:aws:sqs:eu-west-1:123456789012:app-work.fifo'] });
  expect(worker!.statements.map((s) => s.Resource)).toEqual([
    'arn:aws:dynamodb:eu-west-1:123456789012:table/ConnectorTable1',
    'arn:aws:sqs:eu-west-1:123456789012:app-work.fifo',
    'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/connections/*',
    'arn:aws:logs:eu-west-1:123456789012:log-group:/app/lambda/worker:*:*',
  ]);
  expect(() => resolver.resolve(resolver.stack('Service'), { 'Fn::ImportValue': 'Nobody:Exports' })).toThrow(/which no stack exports/);
  expect(() => resolver.resolve(resolver.stack('Service'), { 'Fn::FindInMap': ['M', 'k', 'v'] })).toThrow(/not supported/);
});

it('describes SDK calls as the IAM actions and resources they need', () => {
  expect(describeAwsCall('DynamoDBClient', 'BatchWriteItem', { RequestItems: { local_table: [] } }, 'backfill')).toEqual([
    { functionName: 'backfill', service: 'dynamodb', action: 'BatchWriteItem', operation: 'BatchWriteItem', resource: { kind: 'table', table: 'local_table' }, context: {} },
  ]);
  expect(describeAwsCall('DynamoDBClient', 'Query', { TableName: 't', IndexName: 'GSI1' }, 'admin-api')[0]!.resource).toEqual({ kind: 'index', table: 't', index: 'GSI1' });
  // Batch SQS calls are authorised by the single-message action.
  expect(describeAwsCall('SQSClient', 'DeleteMessageBatch', { QueueUrl: 'http://localhost/000000000000/work-dlq.fifo' }, 'admin-api')[0]).toMatchObject({ action: 'DeleteMessage', resource: { kind: 'queue', queue: 'work-dlq.fifo' } });
  // Tags on CreateSecret also need TagResource.
  const created = describeAwsCall('SecretsManagerClient', 'CreateSecret', { Name: 'app/connections/c1', Tags: [{ Key: 'connectionId', Value: 'c1' }] }, 'admin-api');
  expect(created.map((c) => c.action)).toEqual(['CreateSecret', 'TagResource']);
  expect(created[0]!.context).toEqual({ 'aws:TagKeys': ['connectionId'], 'aws:RequestTag/connectionId': 'c1' });
});

it('proves calls against the role: denied calls, unused grants, platform grants, calls outside a function', () => {
  const roles = functionRoles(resolver, 'Service');
  const names = { tables: { local_table: 'ConnectorTable1' }, queues: { 'work.fifo': 'app-work.fifo' } };
  const calls = [
    ...describeAwsCall('DynamoDBClient', 'GetItem', { TableName: 'local_table' }, 'worker'),
    ...describeAwsCall('DynamoDBClient', 'GetItem', { TableName: 'local_table' }, 'worker'),
    ...describeAwsCall('DynamoDBClient', 'BatchWriteItem', { RequestItems: { local_table: [] } }, 'worker'),
    ...describeAwsCall('SecretsManagerClient', 'GetSecretValue', { SecretId: 'app/connections/c1' }, 'worker'),
    ...describeAwsCall('SQSClient', 'SendMessage', { QueueUrl: 'http://x/000000000000/work.fifo' }, undefined),
  ];
  const report = proveCalls(calls, roles, names);
  expect(report.denied).toEqual([
    expect.objectContaining({ functionName: 'worker', action: 'dynamodb:BatchWriteItem', resource: 'arn:aws:dynamodb:eu-west-1:123456789012:table/ConnectorTable1', decision: 'implicit-deny' }),
  ]);
  expect(report.calls.find((c) => c.action === 'dynamodb:GetItem')!.count).toBe(2);
  expect(report.calls.find((c) => c.action === 'secretsmanager:GetSecretValue')!.resource).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/connections/c1-AbCdEf');
  // The queue is also the function's on-failure destination here, so Lambda's send to it is the platform's.
  expect(report.unused.map((u) => `${u.action}${u.platform ? ' (platform)' : ''}`)).toEqual(['dynamodb:PutItem', 'sqs:SendMessage (platform)', 'logs:PutLogEvents (platform)']);
  expect(report.unattributed).toBe(1);
  expect(report.wholeService).toEqual([]);
  expect(() => proveCalls(describeAwsCall('SQSClient', 'SendMessage', { QueueUrl: 'http://x/0/elsewhere.fifo' }, 'worker'), roles, names)).toThrow(/does not deploy/);
});
