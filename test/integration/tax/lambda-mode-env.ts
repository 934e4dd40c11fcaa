/**
 * Imported FIRST by tests that read what Powertools writes on AWS: Lambda mode (not dev mode), so
 * the logger writes JSON lines and Metrics writes EMF JSON lines to process.stdout, with metrics
 * enabled, at level INFO. Powertools reads these variables when an instance is built, i.e. at module
 * load (the logger middleware also resets the level to the initial one per invocation), which
 * is why this must run before any connector module is imported. `LAMBDA_MODE_ENV` is also given to
 * the local runtime, which would otherwise put its handlers in dev mode.
 */
export const LAMBDA_MODE_ENV = { POWERTOOLS_DEV: 'false', POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_LOG_LEVEL: 'INFO' };

const previous = Object.fromEntries(Object.keys(LAMBDA_MODE_ENV).map((k) => [k, process.env[k]]));
Object.assign(process.env, LAMBDA_MODE_ENV);

/** Put the variables back (afterAll). */
export function restoreEnv(): void {
  for (const [key, value] of Object.entries(previous)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
}
