/** What every page gets: where it draws, when to stop (navigation aborts), and the route's parts. */
export interface PageContext {
  root: HTMLElement;
  signal: AbortSignal;
  /** Path parameters, e.g. the connection id. */
  params: Record<string, string>;
  query: URLSearchParams;
}

export type Page = (ctx: PageContext) => Promise<void>;

export function go(hash: string): void {
  location.hash = hash;
}

/** Run `work` now and every `ms` until the page is left or `work` answers false. */
export async function poll(signal: AbortSignal, ms: number, work: () => Promise<boolean>): Promise<void> {
  while (!signal.aborted) {
    let again = true;
    try {
      again = await work();
    } catch {
      again = true; // a transient failure: the page shows the last good state and tries again
    }
    if (!again || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}

export function setTitle(root: HTMLElement, title: string, heading: HTMLElement): void {
  document.title = `${title} · Sphere connector`;
  root.append(heading);
  heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
}
