import { NeedTokenError } from './api';

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

let needToken: (refused: boolean) => void = () => undefined;

/** The shell's token prompt, for a refusal noticed by background polling. */
export function onNeedToken(handler: (refused: boolean) => void): void {
  needToken = handler;
}

/**
 * Run `work` now and every `ms` until the page is left or `work` answers false. A failure of the
 * first run is thrown (the page cannot show anything); later ones keep the last good state on screen
 * and try again, except a refused token, which brings the token prompt back.
 */
export async function poll(signal: AbortSignal, ms: number, work: () => Promise<boolean>): Promise<void> {
  let first = true;
  while (!signal.aborted) {
    let again = true;
    try {
      again = await work();
    } catch (error) {
      if (first) throw error;
      if (error instanceof NeedTokenError) return needToken(error.refused);
    }
    first = false;
    if (!again || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

export function setTitle(root: HTMLElement, title: string, heading: HTMLElement): void {
  document.title = `${title} · Sphere connector`;
  root.append(heading);
  heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
}
