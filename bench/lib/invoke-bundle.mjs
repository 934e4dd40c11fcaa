// Runs in a FRESH node process, like a Lambda cold start: imports one bundled function (index.mjs),
// checks it exports `handler`, optionally invokes it once with an event, and reports one line on
// stdout:  @@bundle-result {"ok":true,"importMs":…,"handlerType":"function","invoked":true,"result":…}
// (or {"ok":false,"stage":"import"|"handler"|"invoke","error":{name,message,stack}}).
// The marker prefix tells the report apart from the function's own log lines.
//
// Usage: node invoke-bundle.mjs <bundle.mjs> [<event.json>] [--function-name <name>]
// Plain JavaScript on purpose: no TypeScript loader may add to the measured import time.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const MARKER = '@@bundle-result ';

function report(payload) {
  process.stdout.write(`\n${MARKER}${JSON.stringify(payload)}\n`, () => process.exit(payload.ok ? 0 : 1));
}

function describe(error) {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: typeof error, message: String(error) };
}

function lambdaContext(functionName, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  const region = process.env.AWS_REGION ?? 'eu-west-1';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${functionName}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2025/01/01/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const args = process.argv.slice(2);
const nameFlag = args.indexOf('--function-name');
const functionName = nameFlag === -1 ? 'bundle-under-test' : args.splice(nameFlag, 2)[1];
const [bundlePath, eventPath] = args;
if (!bundlePath) {
  report({ ok: false, stage: 'usage', error: { name: 'UsageError', message: 'usage: invoke-bundle.mjs <bundle.mjs> [<event.json>] [--function-name <name>]' } });
} else {
  let mod;
  const started = performance.now();
  try {
    mod = await import(pathToFileURL(bundlePath).href);
  } catch (error) {
    report({ ok: false, stage: 'import', importMs: performance.now() - started, error: describe(error) });
  }
  if (mod) {
    const importMs = performance.now() - started;
    const handlerType = typeof mod.handler;
    if (handlerType !== 'function') {
      report({ ok: false, stage: 'handler', importMs, handlerType, exports: Object.keys(mod), error: { name: 'TypeError', message: `export "handler" is ${handlerType}, not a function` } });
    } else if (!eventPath) {
      report({ ok: true, importMs, handlerType, invoked: false });
    } else {
      const event = JSON.parse(readFileSync(eventPath, 'utf8'));
      const invokeStarted = performance.now();
      try {
        const result = await mod.handler(event, lambdaContext(functionName, 30_000));
        report({ ok: true, importMs, handlerType, invoked: true, invokeMs: performance.now() - invokeStarted, result: result === undefined ? null : result });
      } catch (error) {
        report({ ok: false, stage: 'invoke', importMs, handlerType, invokeMs: performance.now() - invokeStarted, error: describe(error) });
      }
    }
  }
}
