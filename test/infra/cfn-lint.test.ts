/**
 * cfn-lint (AWS's CloudFormation linter, a Python tool) over both stages' synthesized templates: another
 * independent reading of what deploys, against the CloudFormation resource schemas. Errors fail; warnings
 * do not (W3005: CDK writes an explicit DependsOn next to a GetAtt). Where cfn-lint is not installed the
 * test is skipped and says so; on this project's machines it is (`pip install cfn-lint`).
 */
import 'aws-cdk-lib/testhelpers/jest-autoclean';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Stage } from '../../lib/stage-config';
import { connectorApp } from './helpers';

interface CfnLintMatch {
  Rule: { Id: string };
  Level: string;
  Message: string;
  Filename: string;
  Location: { Path: (string | number)[] | null };
}

/**
 * Known false positives, each with the reason. E3002 on dashboard Tags: cfn-lint's bundled schema for
 * AWS::CloudWatch::Dashboard predates the Tags property that CloudFormation accepts (CDK's Tags aspect adds it).
 */
const KNOWN_FALSE_POSITIVES: { rule: string; resourceType: string; property: string }[] = [
  { rule: 'E3002', resourceType: 'AWS::CloudWatch::Dashboard', property: 'Tags' },
];

const cfnLintVersion = (() => {
  const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? probe.stdout.trim() : undefined;
})();

if (!cfnLintVersion) {
  console.warn('cfn-lint is not installed (not on PATH): the template lint test is SKIPPED. Install it with `pip install cfn-lint` to run it.');
}

const describeWithCfnLint = cfnLintVersion ? describe : describe.skip;

describeWithCfnLint(`cfn-lint (${cfnLintVersion ?? 'absent'})`, () => {
  it.each<Stage>(['sandbox', 'production'])('finds no error in the %s templates', (stage) => {
    const { app } = connectorApp(stage, { alarmEmail: 'ops@example.com' });
    const templates = app.synth().stacks.map((s) => s.templateFullPath);
    expect(templates).toHaveLength(2);

    const run = spawnSync('cfn-lint', ['--format', 'json', '--', ...templates], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    // Exit code: bit 2 errors, 4 warnings, 8 informational; anything else (1, or no JSON) is cfn-lint failing.
    expect({ status: run.status! & 1, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    const matches = JSON.parse(run.stdout) as CfnLintMatch[];

    const resourceType = (file: string, logicalId: string | number | undefined) =>
      (JSON.parse(readFileSync(file, 'utf8')) as { Resources: Record<string, { Type: string }> }).Resources[String(logicalId)]?.Type;
    const isKnownFalsePositive = (m: CfnLintMatch) => {
      const [section, logicalId, , property] = m.Location.Path ?? [];
      return (
        section === 'Resources' &&
        KNOWN_FALSE_POSITIVES.some((k) => k.rule === m.Rule.Id && k.property === property && k.resourceType === resourceType(m.Filename, logicalId))
      );
    };
    const errors = matches.filter((m) => m.Level === 'Error' && !isKnownFalsePositive(m)).map((m) => `${m.Rule.Id} ${m.Message} (${(m.Location.Path ?? []).join('/')})`);
    expect(errors).toEqual([]);
  });
});
