/**
 * The operator console: a hash router over the admin API. Every page has its own URL (bookmarkable),
 * leaving a page stops its polling, and an error a page cannot handle is shown in place of it.
 */
import { NeedTokenError, hasCredentials, loadConfig, setToken } from './api';
import { connectPage, connectionsPage, detailPage } from './connection-pages';
import { field, h, notice, setFieldError } from './dom';
import { type Page, onNeedToken, setTitle } from './shell';
import { auditPage, failuresPage, invoicePage, operationsPage, recordsPage } from './work-pages';

const ROUTES: [pattern: RegExp, names: string[], page: Page][] = [
  [/^\/?$|^\/connections$/, [], connectionsPage],
  [/^\/connections\/new$/, [], connectPage],
  [/^\/connections\/([^/]+)$/, ['id'], detailPage],
  [/^\/connections\/([^/]+)\/records$/, ['id'], recordsPage],
  [/^\/connections\/([^/]+)\/invoices(?:\/([^/]+))?$/, ['id', 'invoiceId'], invoicePage],
  [/^\/connections\/([^/]+)\/failures$/, ['id'], failuresPage],
  [/^\/connections\/([^/]+)\/audit$/, ['id'], auditPage],
  [/^\/operations$/, [], operationsPage],
];

const main = document.getElementById('main')!;
let current: AbortController | undefined;

function tokenPrompt(refused = false): void {
  setTitle(main, 'Admin token', h('h1', {}, 'Admin token'));
  const token = field('Admin token', h('input', { type: 'password', autocomplete: 'off', required: true }), 'CONNECTOR_ADMIN_TOKEN of the local connector (npm start prints it). Kept for this browser tab only.');
  const form = h('form', { class: 'card' }, token.row, h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Continue')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!token.control.value.trim()) return;
    setToken(token.control.value.trim());
    void render();
  });
  if (refused) setFieldError(token, 'The connector refused this token: check CONNECTOR_ADMIN_TOKEN and enter it again.');
  main.append(form);
  token.control.focus();
}

async function render(): Promise<void> {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  main.replaceChildren();
  const [rawPath = '', rawQuery = ''] = decodeURI(location.hash.replace(/^#/, '')).split('?');
  for (const link of document.querySelectorAll<HTMLAnchorElement>('header nav a')) {
    const active = link.dataset.section === (rawPath.startsWith('/operations') ? 'operations' : 'connections');
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  await loadConfig();
  if (!hasCredentials()) return tokenPrompt();
  const route = ROUTES.find(([pattern]) => pattern.test(rawPath));
  if (!route) {
    setTitle(main, 'Not found', h('h1', {}, 'Not found'));
    main.append(notice('error', `No console page at ${rawPath}.`), h('a', { href: '#/connections' }, 'Connections'));
    return;
  }
  const match = route[0].exec(rawPath)!;
  const params: Record<string, string> = {};
  route[1].forEach((name, i) => {
    if (match[i + 1] !== undefined) params[name] = decodeURIComponent(match[i + 1]!);
  });
  try {
    await route[2]({ root: main, signal: controller.signal, params, query: new URLSearchParams(rawQuery) });
  } catch (error) {
    if (controller.signal.aborted) return;
    if (error instanceof NeedTokenError) {
      main.replaceChildren();
      return tokenPrompt(error.refused);
    }
    main.append(notice('error', error instanceof Error ? error.message : String(error)));
  }
}

onNeedToken((refused) => {
  current?.abort();
  main.replaceChildren();
  tokenPrompt(refused);
});
window.addEventListener('hashchange', () => void render());
void loadConfig().then((cfg) => {
  document.getElementById('target')!.textContent = cfg.target;
  return render();
});
