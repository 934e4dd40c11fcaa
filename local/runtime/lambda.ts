/**
 * Invoke a handler the way the Lambda runtime does: a fresh context object per invocation with
 * the real field names, a deadline (getRemainingTimeInMillis), and a timeout that fails the
 * invocation like Lambda's "Task timed out". Both async handlers and the legacy callback style
 * are supported.
 */
import type { Context } from 'aws-lambda';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { LambdaHandler } from './types';

export const LOCAL_ACCOUNT_ID = '000000000000';

export interface InvokeOptions {
  functionName: string;
  timeoutSeconds: number;
  memoryMb?: number;
  region?: string;
  requestId?: string;
}

export class LambdaTimeoutError extends Error {
  constructor(functionName: string, seconds: number) {
    super(`Task timed out after ${seconds.toFixed(2)} seconds (${functionName})`);
    this.name = 'LambdaTimeoutError';
  }
}

export function createLambdaContext(options: InvokeOptions, deadline: number): Context {
  const region = options.region ?? process.env.AWS_REGION ?? 'eu-west-1';
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 512),
    awsRequestId: options.requestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomUUID().replace(/-/g, '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * The function whose invocation the current async context belongs to. Every handler shares this
 * process (and its SDK clients), so this is how an AWS call is attributed to the function whose
 * role would make it on AWS (local/runtime/aws-calls.ts).
 */
const invocationScope = new AsyncLocalStorage<{ functionName: string }>();

export function currentFunctionName(): string | undefined {
  return invocationScope.getStore()?.functionName;
}

/** Run one invocation; resolves with the handler's result, rejects with its error or a timeout. */
export async function invokeHandler(handler: LambdaHandler, event: unknown, options: InvokeOptions): Promise<unknown> {
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const context = createLambdaContext(options, deadline);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LambdaTimeoutError(options.functionName, options.timeoutSeconds)), options.timeoutSeconds * 1000);
  });
  const invocation = new Promise<unknown>((resolve, reject) => {
    const callback = (error?: unknown, result?: unknown) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result));
    try {
      const call = handler as unknown as (e: unknown, c: Context, cb: typeof callback) => unknown;
      const returned = invocationScope.run({ functionName: options.functionName }, () => call(event, context, callback));
      if (returned && typeof (returned as PromiseLike<unknown>).then === 'function') {
        (returned as PromiseLike<unknown>).then(resolve, reject);
      } else if (handler.length < 3) {
        resolve(returned);
      }
    } catch (error) {
      reject(error);
    }
  });
  try {
    return await Promise.race([invocation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Load a handler module once (concurrent first calls share the same import). */
export function lazyHandler(functionName: string, load: () => Promise<{ handler: LambdaHandler }>): () => Promise<LambdaHandler> {
  let loading: Promise<LambdaHandler> | undefined;
  return () => {
    loading ??= load().then((mod) => {
      if (typeof mod?.handler !== 'function') throw new Error(`Module of function ${functionName} exports no handler function`);
      return mod.handler;
    });
    loading.catch(() => {
      loading = undefined; // retry loading on the next invocation (e.g. after fixing a config error)
    });
    return loading;
  };
}
