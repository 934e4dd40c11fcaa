import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type { IPolicyValidationContext, IPolicyValidationPlugin, PolicyValidationPluginReport } from 'aws-cdk-lib';

/**
 * AWS Control Tower's proactive controls, run by cfn-guard at synth (@cdklabs/cdk-validator-cfnguard; the
 * binary ships in the npm package, no network). Findings are acknowledged by their id,
 * `cdk-validator-cfnguard::<guard rule name>`, with `Validations.of(construct).acknowledge(...)`.
 *
 * The plugin reports its violations without a severity. aws-cdk-lib re-derives a report's success after
 * applying acknowledgements from the violations left with severity `error`, so once any finding is
 * acknowledged, the unacknowledged ones would no longer fail synth. Every violation is marked `error` here.
 */
export class ControlTowerChecks implements IPolicyValidationPlugin {
  private readonly guard = new CfnGuardValidator();
  public readonly name = this.guard.name;
  public readonly version = this.guard.version;
  public readonly ruleIds = this.guard.ruleIds;

  public validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const report = this.guard.validate(context);
    return { ...report, violations: report.violations.map((violation) => ({ ...violation, severity: violation.severity ?? 'error' })) };
  }
}
