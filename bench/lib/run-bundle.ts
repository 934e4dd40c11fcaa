/**
 * Import (and optionally invoke) one bundle in a fresh `node` process through invoke-bundle.mjs, and
 * parse its one-line report. Used by the bundle integration test and the cold-start benchmark.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/constructs/connector-function';

export const RUNNER = path.join(PROJECT_ROOT, 'bench', 'lib', 'invoke-bundle.mjs');
const MARKER = '@@bundle-result ';

export interface RunnerError {
  name: string;
  message: string;
  stack?: string;
}

export interface RunnerReport {
  ok: boolean;
  /** Where it failed: `import` (module evaluation), `handler` (no handler export), `invoke` (handler threw). */
  stage?: 'usage' | 'import' | 'handler' | 'invoke';
  /** Time from just before `import()` to just after it resolved, measured inside the child. */
  importMs?: number;
  handlerType?: string;
  exports?: string[];
  invoked?: boolean;
  invokeMs?: number;
  result?: unknown;
  error?: RunnerError;
}

export interface RunOutcome {
  /** The child's report; undefined when it died without one (crash, timeout, signal). */
  report?: RunnerReport;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Everything the child wrote (the function's logs included), for leak scans and diagnostics. */
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Absolute path of the bundle (index.mjs). */
  bundle: string;
  /** Event to invoke the handler with; import only when absent. */
  event?: unknown;
  /** Lambda function name put in the context. */
  functionName?: string;
  /** The child's complete environment (nothing is inherited but PATH). */
  env: Record<string, string>;
  timeoutMs?: number;
}

/** Run one fresh node process; resolves (never rejects) with what happened. */
export async function runBundle(options: RunOptions): Promise<RunOutcome> {
  let eventDir: string | undefined;
  const args = [RUNNER, options.bundle];
  if (options.event !== undefined) {
    eventDir = mkdtempSync(path.join(tmpdir(), 'bundle-event-'));
    const eventFile = path.join(eventDir, 'event.json');
    writeFileSync(eventFile, JSON.stringify(options.event));
    args.push(eventFile);
  }
  if (options.functionName) args.push('--function-name', options.functionName);
  try {
    return await new Promise<RunOutcome>((resolve, reject) => {
      const child = spawn(process.execPath, args, {
        cwd: path.dirname(options.bundle),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs ?? 30_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (exitCode, signal) => {
        clearTimeout(timer);
        const line = stdout
          .split('\n')
          .reverse()
          .find((l) => l.startsWith(MARKER));
        let report: RunnerReport | undefined;
        if (line) {
          try {
            report = JSON.parse(line.slice(MARKER.length)) as RunnerReport;
          } catch {
            report = undefined;
          }
        }
        resolve({ ...(report ? { report } : {}), exitCode, signal, timedOut, stdout, stderr });
      });
    });
  } finally {
    if (eventDir) rmSync(eventDir, { recursive: true, force: true });
  }
}

/** A one-paragraph account of a failed run, for assertion messages. */
export function describeRun(name: string, run: RunOutcome): string {
  const tail = (s: string) => s.split('\n').slice(-25).join('\n');
  if (run.timedOut) return `${name}: the child process timed out.\nstderr:\n${tail(run.stderr)}`;
  if (!run.report) return `${name}: the child exited (code ${run.exitCode}, signal ${run.signal}) without a report.\nstdout:\n${tail(run.stdout)}\nstderr:\n${tail(run.stderr)}`;
  if (!run.report.ok) {
    const error = run.report.error;
    return `${name}: failed at ${run.report.stage}: ${error?.name}: ${error?.message}\n${error?.stack ?? ''}\nstderr:\n${tail(run.stderr)}`;
  }
  return `${name}: ok`;
}
