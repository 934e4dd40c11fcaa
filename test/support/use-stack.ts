/**
 * Start a stack (or any harness with `stop()`) before a test file's tests and stop it after them.
 * The object returned is filled in by the time the tests (and the file's own `beforeAll`s, which
 * run after this one) run, so a file reads `const h = useTaxHarness()` instead of a `let` and two
 * hooks. `beforeStop` runs first at the end, while the stack still answers (e.g. to undo a
 * simulator fault); the file's own `afterAll`s run after the stop.
 */
export function useStack<T extends { stop(): Promise<void> }>(start: () => Promise<T>, options: { beforeStop?: (started: T) => Promise<void> } = {}): T {
  const started = {} as T;
  let running: T | undefined;
  beforeAll(async () => {
    running = await start();
    Object.assign(started, running);
  });
  afterAll(async () => {
    if (!running) return;
    try {
      await options.beforeStop?.(running);
    } finally {
      await running.stop();
    }
  });
  return started;
}
