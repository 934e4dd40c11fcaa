/** Tiny DOM helpers: elements are built with textContent only (never innerHTML), so API data cannot inject markup. */
type Child = Node | string | number | null | undefined | false;
type Attr = string | number | boolean | undefined | ((event: Event) => void);

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, Attr> = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

let nextId = 0;

/** A labelled form control with its own error slot (aria-describedby), so errors show next to their cause. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement, hint?: string): { row: HTMLElement; control: typeof control; error: HTMLElement } {
  const id = control.id || `f${++nextId}`;
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, 'aria-live': 'polite' });
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  control.setAttribute('aria-describedby', [hintEl ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
  const row = h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl, error);
  return { row, control, error };
}

export function setFieldError(slot: { control: HTMLElement; error: HTMLElement }, message: string): void {
  slot.error.textContent = message;
  if (message) slot.control.setAttribute('aria-invalid', 'true');
  else slot.control.removeAttribute('aria-invalid');
}

/** A status line for a section: errors are role=alert so screen readers announce them. */
export function notice(kind: 'error' | 'ok' | 'info', text: string): HTMLElement {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function statusBadge(status: string): HTMLElement {
  const label: Record<string, string> = { ACTIVE: 'Active', ERROR: 'Error', DISCONNECTED: 'Disconnected', PENDING: 'Pending' };
  return h('span', { class: `badge badge-${status.toLowerCase()}`, 'data-status': status }, label[status] ?? status);
}

export function progressBar(done: number, total: number, state: string): HTMLElement {
  // A completed backfill fills the bar even when there was nothing to copy (total 0).
  const max = Math.max(total, 1);
  const value = state === 'COMPLETED' ? max : Math.min(done, max);
  return h(
    'div',
    { class: 'progress-row' },
    h('progress', { max, value, 'aria-label': 'Backfill progress' }),
    h('span', { class: 'progress-text' }, `${state.replace('_', ' ').toLowerCase()} · ${done} / ${total}`),
  );
}

export function when(iso: string | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** Disable a button while its work runs, so a double click sends one request. */
export async function busy<T>(button: HTMLButtonElement, work: () => Promise<T>): Promise<T> {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}
