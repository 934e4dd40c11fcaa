/**
 * The console builds: its TypeScript type-checks (browser lib, console/app/tsconfig.json) and
 * esbuild bundles it into one script, as the front door serves it.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { consoleBundle } from '../../../console/serve';

const ROOT = path.resolve(__dirname, '..', '..', '..');

it('type-checks against the DOM library', async () => {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  await expect(promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', path.join(ROOT, 'console', 'app', 'tsconfig.json')], { cwd: ROOT })).resolves.toBeDefined();
}, 120_000);

it('bundles into one minified script that reaches the admin API only through api.ts', async () => {
  const js = await consoleBundle();
  expect(js.length).toBeGreaterThan(10_000);
  expect(js.length).toBeLessThan(150_000);
  expect(js).not.toMatch(/\brequire\(|\bimport\(/); // self-contained: no module loader in the browser
  expect(js).not.toMatch(/innerHTML/); // the DOM is built with textContent only
  expect(js.match(/fetch\(/g)).toHaveLength(2); // config.json and the admin API call
});
