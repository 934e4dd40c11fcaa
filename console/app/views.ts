/** The per-connection tabs. */
import { h } from './dom';

const TABS: [key: string, label: string, suffix: string][] = [
  ['overview', 'Overview', ''],
  ['records', 'Synced records', '/records'],
  ['invoice', 'Invoice', '/invoices'],
  ['failures', 'Failures', '/failures'],
  ['audit', 'Audit log', '/audit'],
];

export function connectionNav(id: string, current: string): HTMLElement {
  const base = `#/connections/${encodeURIComponent(id)}`;
  return h(
    'nav',
    { class: 'tabs', 'aria-label': 'Connection' },
    TABS.map(([key, label, suffix]) => h('a', { href: `${base}${suffix}`, ...(key === current ? { 'aria-current': 'page' } : {}) }, label)),
  );
}
