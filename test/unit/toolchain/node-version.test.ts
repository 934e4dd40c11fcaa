/**
 * The Node that runs the tests is the Node Lambda runs. The system Node of a development or CI machine
 * may be older; the `node` devDependency (pinned in package.json) is first on the PATH of every npm script
 * and `npx` command, so jest, its workers, tsx and the benchmarks run on it. These tests fail when the
 * Lambda runtime (lib/) and the toolchain drift apart, or when jest was started outside npm.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONNECTOR_BUNDLING, LAMBDA_RUNTIME, PROJECT_ROOT } from '../../../lib/constructs/connector-function';

function lambdaNodeMajor(): number {
  const match = /^nodejs(\d+)\.x$/.exec(LAMBDA_RUNTIME.name);
  if (!match) throw new Error(`LAMBDA_RUNTIME is not a Node.js runtime: ${LAMBDA_RUNTIME.name}`);
  return Number(match[1]);
}

const major = (version: string) => Number(version.replace(/^[^\d]*/, '').split('.')[0]);

describe('Node version', () => {
  it('jest runs on the Node major of the Lambda runtime (run it through npm test / npx jest)', () => {
    expect({ runtime: LAMBDA_RUNTIME.name, node: process.versions.node, major: major(process.versions.node) }).toEqual({
      runtime: LAMBDA_RUNTIME.name,
      node: process.versions.node,
      major: lambdaNodeMajor(),
    });
  });

  it('tsx children started through the PATH (npm start, benchmarks, demo) run on it too', () => {
    const child = spawnSync(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['-e', 'process.stdout.write(process.versions.node)'], {
      cwd: PROJECT_ROOT,
      env: process.env,
      encoding: 'utf8',
    });
    expect(child.stderr).toBe('');
    expect(major(child.stdout)).toBe(lambdaNodeMajor());
  });

  it('esbuild bundles for it, and package.json pins node and @types/node to it', () => {
    const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect({
      bundleTarget: CONNECTOR_BUNDLING.target,
      node: major(pkg.devDependencies.node),
      typesNode: major(pkg.devDependencies['@types/node']),
    }).toEqual({ bundleTarget: `node${lambdaNodeMajor()}`, node: lambdaNodeMajor(), typesNode: lambdaNodeMajor() });
  });
});
