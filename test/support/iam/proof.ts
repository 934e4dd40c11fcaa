/**
 * The IAM proof: every AWS call the handlers made under the local runtime (local/runtime/aws-calls.ts),
 * translated to the ARN it would name on AWS and evaluated against the role the synthesized stack
 * gives that function. Produces the denied calls (each one an AccessDenied on AWS), the grants no
 * call used (least privilege), and grants of a whole service.
 */
import type { AwsCall } from '../../../local/runtime/aws-calls';
import { type PolicyStatement, evaluate, grantsOf, isWholeServiceGrant, wildcardMatch } from './policy';
import { FAKE_ACCOUNT, FAKE_REGION, type FunctionRole } from './template';

export interface DeployedNames {
  /** Local table name → deployed table name. */
  tables: Record<string, string>;
  /** Local queue name → deployed queue name. */
  queues: Record<string, string>;
}

export interface EvaluatedCall {
  functionName: string;
  functionLogicalId: string;
  action: string;
  resource: string;
  decision: 'allow' | 'explicit-deny' | 'implicit-deny';
  /** Times the same (function, action, resource) was called. */
  count: number;
}

export interface UnusedGrant {
  functionName: string;
  action: string;
  resource: string;
  /** Why it may stay although no recorded call used it, when it is the platform's, not the code's. */
  platform?: string;
}

export interface ProofReport {
  calls: EvaluatedCall[];
  denied: EvaluatedCall[];
  unused: UnusedGrant[];
  wholeService: { functionName: string; action: string }[];
  /** Local functions that made calls but have no function in the stack. */
  unknownFunctions: string[];
  /** Calls made outside any invocation (the test's own set-up): not evaluated. */
  unattributed: number;
}

const arn = (service: string, resource: string) => `arn:aws:${service}:${FAKE_REGION}:${FAKE_ACCOUNT}:${resource}`;

/** The ARN IAM evaluates for a recorded call. Secrets Manager appends `-` and six random characters to the name. */
export function deployedArn(call: AwsCall, names: DeployedNames): string {
  const table = (local: string) => {
    const deployed = names.tables[local];
    if (!deployed) throw new Error(`A call names table ${local}, which the stack does not deploy (known: ${Object.keys(names.tables).join(', ')})`);
    return arn('dynamodb', `table/${deployed}`);
  };
  const r = call.resource;
  switch (r.kind) {
    case 'table':
      return table(r.table);
    case 'index':
      return `${table(r.table)}/index/${r.index}`;
    case 'queue': {
      const deployed = names.queues[r.queue];
      if (!deployed) throw new Error(`A call names queue ${r.queue}, which the stack does not deploy (known: ${Object.keys(names.queues).join(', ')})`);
      return arn('sqs', deployed);
    }
    case 'secret':
      return arn('secretsmanager', `secret:${r.secret}-AbCdEf`);
    case 'none':
      return '*';
  }
}

/**
 * Grants the Lambda service uses with the function's role, not the code: writing the function's
 * logs, sending X-Ray segments, the SQS event source mapping polling its queue, and delivering a
 * failed asynchronous invocation to its dead-letter queue or on-failure destination.
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions
 */
function platformReason(role: FunctionRole, action: string, resource: string): string | undefined {
  if (/^logs:(CreateLogStream|PutLogEvents)$/.test(action)) return 'Lambda writes the function log';
  if (/^xray:/.test(action)) return 'active X-Ray tracing';
  if (role.eventSourceQueueArns.includes(resource) && /^sqs:(ReceiveMessage|DeleteMessage|GetQueueAttributes)$/.test(action)) {
    return 'the SQS event source mapping polls this queue with the role';
  }
  if (role.asyncFailureTargetArns.includes(resource) && /^(sqs:SendMessage|sns:Publish)$/.test(action)) return 'Lambda sends failed asynchronous invocations there';
  return undefined;
}

export function proveCalls(calls: readonly AwsCall[], roles: readonly FunctionRole[], names: DeployedNames): ProofReport {
  const byName = new Map(roles.map((r) => [r.name, r]));
  const evaluated = new Map<string, EvaluatedCall>();
  const unknownFunctions = new Set<string>();
  let unattributed = 0;
  for (const call of calls) {
    if (!call.functionName) {
      unattributed += 1;
      continue;
    }
    const role = byName.get(call.functionName);
    if (!role) {
      unknownFunctions.add(call.functionName);
      continue;
    }
    const action = `${call.service}:${call.action}`;
    const resource = deployedArn(call, names);
    const key = `${call.functionName}|${action}|${resource}`;
    const seen = evaluated.get(key);
    if (seen) {
      seen.count += 1;
      continue;
    }
    const context = { 'aws:SecureTransport': 'true', 'aws:RequestedRegion': FAKE_REGION, ...call.context };
    const { decision } = evaluate({ action, resource, context }, role.statements);
    evaluated.set(key, { functionName: call.functionName, functionLogicalId: role.functionLogicalId, action, resource, decision, count: 1 });
  }
  const all = [...evaluated.values()].sort((a, b) => `${a.functionName}${a.action}${a.resource}`.localeCompare(`${b.functionName}${b.action}${b.resource}`));

  const unused: UnusedGrant[] = [];
  const wholeService: ProofReport['wholeService'] = [];
  for (const role of roles) {
    const used = all.filter((c) => c.functionName === role.name && c.decision === 'allow');
    for (const grant of grantsOf(role.statements)) {
      if (isWholeServiceGrant(grant.action)) wholeService.push({ functionName: role.name, action: grant.action });
      if (used.some((c) => wildcardMatch(grant.action, c.action, true) && wildcardMatch(grant.resource, c.resource))) continue;
      const platform = platformReason(role, grant.action, grant.resource);
      unused.push({ functionName: role.name, action: grant.action, resource: grant.resource, ...(platform ? { platform } : {}) });
    }
    for (const statement of role.statements as PolicyStatement[]) {
      if (statement.Effect === 'Allow' && statement.NotAction !== undefined) wholeService.push({ functionName: role.name, action: `NotAction ${JSON.stringify(statement.NotAction)}` });
    }
  }
  return { calls: all, denied: all.filter((c) => c.decision !== 'allow'), unused, wholeService, unknownFunctions: [...unknownFunctions], unattributed };
}

/** The printed report (README, "Reading the IAM proof"). */
export function formatReport(report: ProofReport): string {
  const lines: string[] = [];
  const functions = [...new Set(report.calls.map((c) => c.functionName))].sort();
  lines.push(`IAM proof: ${report.calls.length} distinct (function, action, resource) calls by ${functions.length} functions; ${report.denied.length} denied.`);
  for (const c of report.denied) lines.push(`  DENIED (${c.decision}) ${c.functionName} [${c.functionLogicalId}] ${c.action} on ${c.resource}`);
  for (const name of functions) {
    lines.push(`  ${name}`);
    for (const c of report.calls.filter((x) => x.functionName === name)) lines.push(`    ${c.decision === 'allow' ? 'ok    ' : 'DENIED'} ${c.action} ${c.resource} ×${c.count}`);
  }
  const code = report.unused.filter((u) => !u.platform);
  lines.push(`Least privilege: ${code.length} granted (action, resource) pairs no recorded call used:`);
  for (const u of code) lines.push(`  UNUSED ${u.functionName} ${u.action} ${u.resource}`);
  const platform = report.unused.filter((u) => u.platform);
  lines.push(`Platform grants (used by Lambda itself, not by the code): ${platform.length}`);
  for (const u of platform) lines.push(`  platform ${u.functionName} ${u.action} ${u.resource} (${u.platform})`);
  for (const w of report.wholeService) lines.push(`  WHOLE-SERVICE GRANT ${w.functionName} ${w.action}`);
  if (report.unknownFunctions.length > 0) lines.push(`Functions with no counterpart in the stack: ${report.unknownFunctions.join(', ')}`);
  lines.push(`Calls outside any invocation (the test's own set-up, not evaluated): ${report.unattributed}`);
  return lines.join('\n');
}
