import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { Stage } from '../../lib/stage-config';
import { connectorApp } from './helpers';

const TABLE = 'AWS::DynamoDB::GlobalTable';

function dataTemplate(stage: Stage): Template {
  return Template.fromStack(connectorApp(stage).data);
}

describe.each<[Stage, { policy: 'Retain' | 'Delete'; deletionProtection: boolean }]>([
  ['sandbox', { policy: 'Delete', deletionProtection: false }],
  ['production', { policy: 'Retain', deletionProtection: true }],
])('DataStack (%s)', (stage, expected) => {
  const template = dataTemplate(stage);

  it('has exactly the connector table and the idempotency table', () => {
    template.resourceCountIs(TABLE, 2);
  });

  it('connector table: PK/SK strings, GSI1 (ALL), on-demand, TTL ttl, PITR, AWS-managed SSE', () => {
    template.hasResourceProperties(TABLE, {
      KeySchema: [
        { AttributeName: 'PK', KeyType: 'HASH' },
        { AttributeName: 'SK', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'PK', AttributeType: 'S' },
        { AttributeName: 'SK', AttributeType: 'S' },
        { AttributeName: 'GSI1PK', AttributeType: 'S' },
        { AttributeName: 'GSI1SK', AttributeType: 'S' },
      ]),
      GlobalSecondaryIndexes: [
        {
          IndexName: 'GSI1',
          KeySchema: [
            { AttributeName: 'GSI1PK', KeyType: 'HASH' },
            { AttributeName: 'GSI1SK', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [
        Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: expected.deletionProtection,
        }),
      ],
    });
  });

  it('idempotency table: id partition key only, TTL expiration, PITR, on-demand', () => {
    template.hasResourceProperties(TABLE, {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      GlobalSecondaryIndexes: Match.absent(),
      Replicas: [
        Match.objectLike({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: expected.deletionProtection,
        }),
      ],
    });
  });

  it(`every table has removal policy ${expected.policy}`, () => {
    const tables = template.findResources(TABLE);
    expect(Object.keys(tables)).toHaveLength(2);
    for (const table of Object.values(tables)) {
      expect(table).toMatchObject({ DeletionPolicy: expected.policy, UpdateReplacePolicy: expected.policy });
    }
  });

  it('publishes table names and the secrets prefix', () => {
    template.hasOutput('ConnectorTableName', {});
    template.hasOutput('IdempotencyTableName', {});
    template.hasOutput('SecretsPrefix', { Value: `sphere-connector/${stage}/connections/` });
  });
});

it('production data stack has termination protection; sandbox does not', () => {
  expect(connectorApp('production').data.terminationProtection).toBe(true);
  expect(connectorApp('sandbox').data.terminationProtection).toBe(false);
});
