/**
 * Turns synthesized CloudFormation templates into what IAM would see at run time: every intrinsic
 * the connector's templates contain (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split,
 * Fn::ImportValue across stacks) is resolved to a concrete value in a fixed fake account and
 * region, and each Lambda function is paired with the statements of its execution role.
 *
 * Physical names the templates leave to CloudFormation (tables, roles, functions) become the
 * resource's logical id, which is stable across synths.
 */
import type { PolicyStatement } from './policy';

export const FAKE_ACCOUNT = '123456789012';
export const FAKE_REGION = 'eu-west-1';
const PARTITION = 'aws';

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown } }>;
}

export interface StackTemplate {
  stackName: string;
  template: CfnTemplate;
}

type Json = unknown;

/** Resolves intrinsics over a set of stacks that may import each other's exports. */
export class TemplateResolver {
  private readonly exports = new Map<string, { stack: StackTemplate; value: Json }>();

  constructor(private readonly stacks: readonly StackTemplate[]) {
    for (const stack of stacks) {
      for (const output of Object.values(stack.template.Outputs ?? {})) {
        if (output.Export) this.exports.set(String(this.resolve(stack, output.Export.Name)), { stack, value: output.Value });
      }
    }
  }

  stack(name: string): StackTemplate {
    const stack = this.stacks.find((s) => s.stackName === name);
    if (!stack) throw new Error(`No stack ${name}; have ${this.stacks.map((s) => s.stackName).join(', ')}`);
    return stack;
  }

  resolve(stack: StackTemplate, value: Json): Json {
    if (Array.isArray(value)) return value.map((v) => this.resolve(stack, v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, Json>);
    if (entries.length !== 1 || !(entries[0]![0] === 'Ref' || entries[0]![0].startsWith('Fn::'))) {
      return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(stack, v)]));
    }
    const [fn, arg] = entries[0]!;
    switch (fn) {
      case 'Ref':
        return this.ref(stack, String(arg));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? (arg as string[]) : String(arg).split(/\.(.*)/s);
        return this.getAtt(stack, String(logicalId), String(attribute));
      }
      case 'Fn::Join': {
        const [separator, parts] = arg as [string, Json[]];
        return (this.resolve(stack, parts) as Json[]).map(String).join(separator);
      }
      case 'Fn::Select': {
        const [index, items] = arg as [Json, Json];
        return (this.resolve(stack, items) as Json[])[Number(this.resolve(stack, index))];
      }
      case 'Fn::Split': {
        const [separator, source] = arg as [string, Json];
        return String(this.resolve(stack, source)).split(separator);
      }
      case 'Fn::Sub': {
        const [text, variables] = Array.isArray(arg) ? (arg as [string, Record<string, Json>]) : [String(arg), {}];
        return text.replace(/\$\{([^}!]+)\}/g, (_, name: string) => {
          if (name in variables) return String(this.resolve(stack, variables[name]));
          const [logicalId, attribute] = name.split(/\.(.*)/s);
          return String(attribute ? this.getAtt(stack, logicalId!, attribute) : this.ref(stack, name));
        });
      }
      case 'Fn::ImportValue': {
        const name = String(this.resolve(stack, arg));
        const exported = this.exports.get(name);
        if (!exported) throw new Error(`${stack.stackName} imports ${name}, which no stack exports`);
        return this.resolve(exported.stack, exported.value);
      }
      default:
        throw new Error(`Intrinsic ${fn} in ${stack.stackName} is not supported by test/support/iam/template.ts`);
    }
  }

  private resource(stack: StackTemplate, logicalId: string): CfnResource {
    const resource = stack.template.Resources[logicalId];
    if (!resource) throw new Error(`${stack.stackName} has no resource ${logicalId}`);
    return resource;
  }

  private ref(stack: StackTemplate, name: string): Json {
    const pseudo: Record<string, string> = {
      'AWS::AccountId': FAKE_ACCOUNT,
      'AWS::Region': FAKE_REGION,
      'AWS::Partition': PARTITION,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stack.stackName,
    };
    if (name in pseudo) return pseudo[name];
    const resource = this.resource(stack, name);
    const props = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${FAKE_REGION}.amazonaws.com/${FAKE_ACCOUNT}/${this.queueName(stack, name)}`;
      case 'AWS::Logs::LogGroup':
        return props.LogGroupName !== undefined ? this.resolve(stack, props.LogGroupName) : name;
      case 'AWS::DynamoDB::GlobalTable':
      case 'AWS::DynamoDB::Table':
        return props.TableName !== undefined ? this.resolve(stack, props.TableName) : name;
      default:
        return name;
    }
  }

  private queueName(stack: StackTemplate, logicalId: string): string {
    const props = this.resource(stack, logicalId).Properties ?? {};
    return props.QueueName !== undefined ? String(this.resolve(stack, props.QueueName)) : logicalId;
  }

  private getAtt(stack: StackTemplate, logicalId: string, attribute: string): Json {
    const resource = this.resource(stack, logicalId);
    const arn = (service: string, resourcePart: string) => `arn:${PARTITION}:${service}:${FAKE_REGION}:${FAKE_ACCOUNT}:${resourcePart}`;
    switch (`${resource.Type}.${attribute}`) {
      case 'AWS::DynamoDB::GlobalTable.Arn':
      case 'AWS::DynamoDB::Table.Arn':
        return arn('dynamodb', `table/${String(this.ref(stack, logicalId))}`);
      case 'AWS::SQS::Queue.Arn':
        return arn('sqs', this.queueName(stack, logicalId));
      case 'AWS::SQS::Queue.QueueName':
        return this.queueName(stack, logicalId);
      case 'AWS::SQS::Queue.QueueUrl':
        return this.ref(stack, logicalId);
      case 'AWS::Logs::LogGroup.Arn':
        return arn('logs', `log-group:${String(this.ref(stack, logicalId))}:*`);
      case 'AWS::IAM::Role.Arn':
        return `arn:${PARTITION}:iam::${FAKE_ACCOUNT}:role/${logicalId}`;
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', `function:${logicalId}`);
      case 'AWS::ApiGatewayV2::Api.ApiEndpoint':
        return `https://${logicalId.toLowerCase()}.execute-api.${FAKE_REGION}.amazonaws.com`;
      default:
        // Attributes no role statement names (e.g. a topic's, a dashboard's): a recognisable placeholder.
        return `${logicalId}.${attribute}`;
    }
  }
}

export interface FunctionRole {
  /** The function's logical id in the service stack. */
  functionLogicalId: string;
  /** The `functions/<name>` folder, read from its log group `/<prefix>/lambda/<name>`. */
  name: string;
  roleLogicalId: string;
  /** Every statement of every identity policy attached to the role, resolved. */
  statements: PolicyStatement[];
  /** Queue ARNs of the function's SQS event source mappings (the Lambda service polls them with this role). */
  eventSourceQueueArns: string[];
  /** Where Lambda sends failed asynchronous invocations with this role (DeadLetterConfig, OnFailure destination). */
  asyncFailureTargetArns: string[];
}

const refOf = (value: unknown): string | undefined => (value && typeof value === 'object' && 'Ref' in value ? String((value as { Ref: unknown }).Ref) : undefined);
const getAttOf = (value: unknown): string | undefined => {
  const att = value && typeof value === 'object' ? (value as Record<string, unknown>)['Fn::GetAtt'] : undefined;
  return Array.isArray(att) ? String(att[0]) : undefined;
};

/** Each Lambda function of `stackName` with its role's resolved policy statements. */
export function functionRoles(resolver: TemplateResolver, stackName: string): FunctionRole[] {
  const stack = resolver.stack(stackName);
  const resources = stack.template.Resources;
  const statementsOfRole = (roleLogicalId: string): PolicyStatement[] => {
    const statements: unknown[] = [];
    const role = resources[roleLogicalId]!;
    for (const policy of (role.Properties?.Policies as { PolicyDocument: { Statement: unknown[] } }[] | undefined) ?? []) statements.push(...policy.PolicyDocument.Statement);
    if (role.Properties?.ManagedPolicyArns !== undefined) {
      throw new Error(`Role ${roleLogicalId} has managed policies; test/support/iam/template.ts does not read them yet`);
    }
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::IAM::Policy' && resource.Type !== 'AWS::IAM::ManagedPolicy') continue;
      const roles = (resource.Properties?.Roles as unknown[] | undefined) ?? [];
      if (!roles.some((r) => refOf(r) === roleLogicalId)) continue;
      statements.push(...(resource.Properties!.PolicyDocument as { Statement: unknown[] }).Statement);
    }
    return resolver.resolve(stack, statements) as PolicyStatement[];
  };

  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([functionLogicalId, fn]): FunctionRole => {
      const props = fn.Properties ?? {};
      const roleLogicalId = getAttOf(props.Role);
      if (!roleLogicalId) throw new Error(`Function ${functionLogicalId} has no role of this stack`);
      const logGroup = resolver.resolve(stack, (props.LoggingConfig as { LogGroup?: unknown } | undefined)?.LogGroup);
      const name = typeof logGroup === 'string' ? (/\/lambda\/([^/]+)$/.exec(logGroup)?.[1] ?? functionLogicalId) : functionLogicalId;
      const eventSourceQueueArns = Object.values(resources)
        .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && refOf(r.Properties?.FunctionName) === functionLogicalId)
        .map((r) => String(resolver.resolve(stack, r.Properties!.EventSourceArn)));
      const invokeConfigs = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig' && refOf(r.Properties?.FunctionName) === functionLogicalId);
      const asyncFailureTargetArns = [
        (props.DeadLetterConfig as { TargetArn?: unknown } | undefined)?.TargetArn,
        ...invokeConfigs.map((r) => (r.Properties?.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination),
      ]
        .filter((target) => target !== undefined)
        .map((target) => String(resolver.resolve(stack, target)));
      return { functionLogicalId, name, roleLogicalId, statements: statementsOfRole(roleLogicalId), eventSourceQueueArns, asyncFailureTargetArns };
    });
}
