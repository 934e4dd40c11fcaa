/**
 * What the workers' retry delays need from the stack (shared/runtime/sqs-worker.ts): for every
 * queue consumer, its role may ChangeMessageVisibility (and read the visibility timeout that caps
 * the delay) on exactly the queue it consumes, and its environment carries that queue's URL.
 * SqsEventSource grants these through grantConsumeMessages; this pins it.
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { Template } from 'aws-cdk-lib/assertions';
import { QUEUES } from '../../shared/runtime/catalogue';
import { connectorApp } from './helpers';

type Resource = { Type: string; Properties?: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

function logicalIdOf(value: unknown): string | undefined {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return v?.Ref ?? v?.['Fn::GetAtt']?.[0];
}

/** Every statement attached to a role, inline or through AWS::IAM::Policy. */
function statementsOf(resources: Record<string, Resource>, roleId: string): Statement[] {
  const out: Statement[] = [];
  for (const r of Object.values(resources)) {
    if (r.Type === 'AWS::IAM::Policy' && (r.Properties?.Roles as unknown[] | undefined)?.some((role) => logicalIdOf(role) === roleId)) {
      out.push(...((r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement ?? []));
    }
  }
  for (const p of (resources[roleId]?.Properties?.Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? []) out.push(...p.PolicyDocument.Statement);
  return out;
}

function allows(statements: Statement[], action: string, queueId: string): boolean {
  return statements.some((s) => {
    if (s.Effect !== 'Allow') return false;
    const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
    return actions.includes(action) && resources.some((r) => logicalIdOf(r) === queueId);
  });
}

describe('queue consumers can return a failed message early', () => {
  const { service } = connectorApp('sandbox');
  const resources = Template.fromStack(service).toJSON().Resources as Record<string, Resource>;
  const mappings = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
  const queueEnvVars: string[] = Object.values(QUEUES).map((q) => q.envVar);

  it('has a consumer for every queue the workers read', () => {
    expect(mappings).toHaveLength(Object.keys(QUEUES).length);
  });

  it.each(mappings.map((m, i) => [i, m] as const))('consumer %i: sqs:ChangeMessageVisibility and GetQueueAttributes on its own queue, whose URL it is given', (_i, mapping) => {
    const queueId = logicalIdOf(mapping.Properties?.EventSourceArn)!;
    const fn = resources[logicalIdOf(mapping.Properties?.FunctionName)!]!;
    const statements = statementsOf(resources, logicalIdOf(fn.Properties?.Role)!);
    expect(allows(statements, 'sqs:ChangeMessageVisibility', queueId)).toBe(true);
    expect(allows(statements, 'sqs:GetQueueAttributes', queueId)).toBe(true);
    const env = ((fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
    const own = Object.entries(env).filter(([name, value]) => queueEnvVars.includes(name) && logicalIdOf(value) === queueId);
    expect(own).toHaveLength(1);
  });
});
