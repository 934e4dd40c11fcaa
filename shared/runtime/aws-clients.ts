/**
 * One place every AWS SDK client the connector builds passes through (`instrumentAwsClient`), so
 * the local runtime can attach a middleware to all of them without the handlers knowing: it
 * records each call for the IAM proof (local/runtime/aws-calls.ts). Deployed, nothing registers
 * and the clients are returned untouched.
 */
export interface InstrumentableClient {
  middlewareStack: { add: (...args: never[]) => unknown };
}

type ClientHook = (client: InstrumentableClient) => void;

const hooks = new Set<ClientHook>();

/** Run `hook` on every client built after this call; returns the function that unregisters it. */
export function onAwsClient(hook: ClientHook): () => void {
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
  };
}

export function instrumentAwsClient<T extends InstrumentableClient>(client: T): T {
  for (const hook of hooks) hook(client);
  return client;
}
