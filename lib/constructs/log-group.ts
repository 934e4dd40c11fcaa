import { Validations } from 'aws-cdk-lib';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type StageConfig, logGroupName } from '../stage-config';

/**
 * A log group of the connector (a function's, or the API access log): the fixed per-stage name
 * `/<resourcePrefix>/<path>`, the stage's retention and removal policy (production: retained, except
 * when the stack's first creation rolls back, so a retry does not stop on "already exists").
 */
export function connectorLogGroup(scope: Construct, id: string, config: StageConfig, path: string): LogGroup {
  const logGroup = new LogGroup(scope, id, {
    logGroupName: logGroupName(config, path),
    retention: config.logRetention,
    removalPolicy: config.logRemovalPolicy,
  });
  // Control Tower proactive controls (cdk-validator-cfnguard), decided once for every log group:
  Validations.of(logGroup).acknowledge(
    {
      id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check',
      reason:
        'Retention is a per-stage choice (lib/stage-config.ts: 14 days sandbox, 90 days production): these are ' +
        'operational logs. The durable record of what the connector did is the audit log in DynamoDB and the ' +
        'transactions in Sphere, not CloudWatch Logs.',
    },
    {
      id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
      reason:
        'CloudWatch Logs encrypts every log group at rest with a service key. Secrets never appear in the logs (house ' +
        'rule: no credentials, tokens or signatures), so a customer-managed KMS key would add a key policy to run and ' +
        'its cost without protecting anything more.',
    },
  );
  return logGroup;
}
