/** Connections list, the connect form and a connection's detail page. */
import { ApiError, api } from './api';
import { busy, field, h, notice, progressBar, setFieldError, statusBadge, when } from './dom';
import { type ConnectionView, type SideReport, connectionWarnings } from './model';
import { connectionNav } from './views';
import { type PageContext, go, poll, setTitle } from './shell';

const COUNTER_LABELS: [keyof ConnectionView['counts'], string][] = [
  ['customersSynced', 'Customers synced'],
  ['productsSynced', 'Products synced'],
  ['invoicesTaxed', 'Invoices taxed'],
  ['transactionsRecorded', 'Transactions recorded'],
  ['failures', 'Failures'],
];

function counters(c: ConnectionView): HTMLElement {
  return h('dl', { class: 'counters' }, COUNTER_LABELS.map(([key, label]) => h('div', {}, h('dt', {}, label), h('dd', {}, c.counts[key]))));
}

export async function connectionsPage(ctx: PageContext): Promise<void> {
  setTitle(ctx.root, 'Connections', h('h1', {}, 'Connections'));
  ctx.root.append(
    h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'primary', onclick: () => go('#/connections/new') }, 'New connection')),
    h('p', { class: 'hint' }, 'The connector replaces Sequence’s built-in Sphere integration and Sphere’s Sequence data connector: keep both off for a connected account, or tax is written twice and transactions are counted twice.'),
  );
  const list = h('div', { class: 'table-wrap' });
  ctx.root.append(list);
  await poll(ctx.signal, 5000, async () => {
    const { body } = await api<{ items: ConnectionView[] }>('GET', '/connections');
    list.replaceChildren(
      body.items.length === 0
        ? notice('info', 'No connections yet: use New connection.')
        : h(
            'table',
            {},
            h('thead', {}, h('tr', {}, ['Name', 'Environment', 'Status', 'Counters', 'Backfill', 'Last error'].map((t) => h('th', { scope: 'col' }, t)))),
            h(
              'tbody',
              {},
              body.items.map((c) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('a', { href: `#/connections/${encodeURIComponent(c.id)}` }, c.name)),
                  h('td', {}, c.environment),
                  h('td', {}, statusBadge(c.status)),
                  h('td', {}, counters(c)),
                  h('td', {}, progressBar(c.backfill.done, c.backfill.total, c.backfill.state)),
                  h('td', { class: 'error-text' }, c.lastError ? `${c.lastError.code}: ${c.lastError.message}` : '—', connectionWarnings(c).map((w) => h('p', { class: 'warning' }, `⚠ ${w}`))),
                ),
              ),
            ),
          ),
    );
    return true;
  });
}

function sideResult(name: string, report: SideReport | undefined): HTMLElement {
  if (!report) return h('span');
  return h('p', { class: `side-result ${report.ok ? 'ok' : 'bad'}`, role: 'status' }, `${name} ${report.ok ? '✓' : '✗'} ${report.message ?? ''}${report.ok || !report.code ? '' : ` (${report.code})`}`);
}

export async function connectPage(ctx: PageContext): Promise<void> {
  setTitle(ctx.root, 'New connection', h('h1', {}, 'New connection'));
  const input = (attrs: Record<string, string | boolean>) => h('input', { autocomplete: 'off', spellcheck: 'false', ...attrs });
  const name = field('Name', input({ name: 'name', required: true }));
  const environment = field('Environment', h('select', { name: 'environment' }, h('option', { value: 'sandbox' }, 'sandbox'), h('option', { value: 'production' }, 'production')));
  const clientId = field('Sequence client ID', input({ name: 'sequenceClientId', required: true }));
  const clientSecret = field('Sequence client secret', input({ name: 'sequenceClientSecret', type: 'password', required: true, autocomplete: 'new-password' }));
  const apiKey = field('Sphere API key', input({ name: 'sphereApiKey', type: 'password', required: true, autocomplete: 'new-password' }));
  const taxCodeDefault = field(
    'Default Sphere tax code',
    input({ name: 'taxCodeDefault', required: true }),
    "Your Sphere organisation's product tax code (Sphere › Products) for products whose Sequence tax category is not mapped. There is no built-in default; Sphere checks it.",
  );
  const sequenceBaseUrl = field('Sequence base URL', input({ name: 'sequenceBaseUrl', type: 'url', placeholder: 'default for the environment' }));
  const sphereBaseUrl = field('Sphere base URL', input({ name: 'sphereBaseUrl', type: 'url', placeholder: 'https://api.getsphere.com' }));
  const advanced = h('details', {}, h('summary', {}, 'Advanced'), sequenceBaseUrl.row, sphereBaseUrl.row);
  const sequenceResult = h('div', { class: 'side-slot' });
  const sphereResult = h('div', { class: 'side-slot' });
  const taxCodesResult = h('div', { class: 'side-slot' });
  const formStatus = h('div', { class: 'form-status' });
  const bySide: Record<string, typeof name> = {
    name,
    'sequence.environment': environment,
    'sequence.clientId': clientId,
    'sequence.clientSecret': clientSecret,
    'sequence.baseUrl': sequenceBaseUrl,
    'sphere.apiKey': apiKey,
    'sphere.baseUrl': sphereBaseUrl,
    taxCodes: taxCodeDefault,
    'taxCodes.default': taxCodeDefault,
  };
  const taxCodes = () => (taxCodeDefault.control.value.trim() ? { taxCodes: { default: taxCodeDefault.control.value.trim() } } : {});
  const credentials = () => ({
    sequence: {
      environment: environment.control.value,
      clientId: clientId.control.value.trim(),
      clientSecret: clientSecret.control.value.trim(),
      ...(sequenceBaseUrl.control.value.trim() ? { baseUrl: sequenceBaseUrl.control.value.trim() } : {}),
    },
    sphere: { apiKey: apiKey.control.value.trim(), ...(sphereBaseUrl.control.value.trim() ? { baseUrl: sphereBaseUrl.control.value.trim() } : {}) },
  });
  const clearErrors = () => {
    for (const slot of Object.values(bySide)) setFieldError(slot, '');
    formStatus.replaceChildren();
  };
  /** An error naming a field goes next to that field; others go under the buttons. */
  const showError = (error: unknown) => {
    if (error instanceof ApiError && error.field && bySide[error.field]) {
      const slot = bySide[error.field]!;
      if (slot === sequenceBaseUrl || slot === sphereBaseUrl) advanced.open = true;
      setFieldError(slot, error.message);
      slot.control.focus();
      return;
    }
    if (error instanceof ApiError && /^(sequence|sphere)_/.test(error.code)) {
      const side = error.code.startsWith('sequence') ? sequenceResult : sphereResult;
      side.replaceChildren(sideResult(error.code.startsWith('sequence') ? 'Sequence' : 'Sphere', { ok: false, code: error.code, message: error.message }));
    }
    formStatus.replaceChildren(notice('error', error instanceof Error ? error.message : String(error)));
  };

  const testButton = h('button', { type: 'button' }, 'Test credentials');
  const saveButton = h('button', { type: 'submit', class: 'primary' }, 'Save changes');
  testButton.addEventListener('click', () => {
    clearErrors();
    sequenceResult.replaceChildren(notice('info', 'Testing…'));
    sphereResult.replaceChildren();
    taxCodesResult.replaceChildren();
    void busy(testButton, async () => {
      try {
        const { body } = await api<{ sequence: SideReport; sphere: SideReport; taxCodes?: SideReport }>('POST', '/connections/test-credentials', { ...credentials(), ...taxCodes() });
        sequenceResult.replaceChildren(sideResult('Sequence', body.sequence));
        sphereResult.replaceChildren(sideResult('Sphere', body.sphere));
        taxCodesResult.replaceChildren(sideResult('Tax code', body.taxCodes));
      } catch (error) {
        sequenceResult.replaceChildren();
        showError(error);
      }
    });
  });
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    name.row,
    environment.row,
    h('fieldset', {}, h('legend', {}, 'Sequence'), clientId.row, clientSecret.row, sequenceResult),
    h('fieldset', {}, h('legend', {}, 'Sphere'), apiKey.row, sphereResult, taxCodeDefault.row, taxCodesResult),
    advanced,
    h('div', { class: 'actions' }, testButton, saveButton),
    formStatus,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors();
    void busy(saveButton, async () => {
      formStatus.replaceChildren(notice('info', 'Connecting: checking both credentials and registering webhooks…'));
      try {
        const { body } = await api<ConnectionView>('POST', '/connections', { name: name.control.value.trim(), ...credentials(), ...taxCodes() });
        // The secrets are stored in the connector's vault now; nothing of them stays in this page.
        form.reset();
        form.remove();
        go(`#/connections/${encodeURIComponent(body.id)}`);
      } catch (error) {
        showError(error);
      }
    });
  });
  ctx.root.append(form);
  name.control.focus();
}

export async function detailPage(ctx: PageContext): Promise<void> {
  const id = ctx.params.id!;
  const path = `/connections/${encodeURIComponent(id)}`;
  let { body: c } = await api<ConnectionView>('GET', path);
  setTitle(ctx.root, c.name, h('h1', {}, c.name));
  ctx.root.append(connectionNav(id, 'overview'));

  const live = h('section', { class: 'card', 'aria-labelledby': 'status-h' });
  const testSlot = h('div');
  const renderLive = () =>
    live.replaceChildren(
      h('h2', { id: 'status-h' }, 'Status'),
      h('p', { class: 'status-line' }, statusBadge(c.status), ` ${c.environment} · Sequence account ${c.sequenceAccountId}`),
      ...(c.lastError ? [notice('error', `Last error ${c.lastError.code} (${when(c.lastError.at)}): ${c.lastError.message}`)] : []),
      ...(c.warnings ?? []).map((w) => h('p', { class: 'notice warning', role: 'status' }, `⚠ ${w.code}: ${w.message}`)),
      h('h3', {}, 'Backfill'),
      progressBar(c.backfill.done, c.backfill.total, c.backfill.state),
      h('h3', {}, 'Counters'),
      counters(c),
    );
  renderLive();

  const testButton = h('button', { type: 'button' }, 'Test credentials');
  const backfillButton = h('button', { type: 'button' }, 'Run backfill');
  const actionStatus = h('div');
  testButton.addEventListener('click', () =>
    void busy(testButton, async () => {
      actionStatus.replaceChildren();
      try {
        const { body } = await api<{ sequence: SideReport; sphere: SideReport; webhookPolicy: SideReport; connection: ConnectionView }>('POST', `${path}/test`);
        testSlot.replaceChildren(sideResult('Sequence', body.sequence), sideResult('Sphere', body.sphere), sideResult('Webhook policy', body.webhookPolicy));
        c = body.connection;
        renderLive();
      } catch (error) {
        testSlot.replaceChildren(notice('error', (error as Error).message));
      }
    }),
  );
  backfillButton.addEventListener('click', () =>
    void busy(backfillButton, async () => {
      try {
        const { body } = await api<{ connection: ConnectionView }>('POST', `${path}/backfill`);
        c = body.connection;
        renderLive();
      } catch (error) {
        actionStatus.replaceChildren(notice('error', (error as Error).message));
      }
    }),
  );
  const liveActions = h('div', { class: 'actions' }, testButton, backfillButton);
  ctx.root.append(live, liveActions, testSlot, actionStatus);
  if (c.status !== 'DISCONNECTED') ctx.root.append(settingsForm(path, c), rotationForm(path), disconnectSection(path, () => void refresh()));

  const refresh = async () => {
    c = (await api<ConnectionView>('GET', path)).body;
    renderLive();
  };
  // Every second while something is moving (connecting, backfill running), then every 10 s.
  const moving = () => c.status === 'PENDING' || c.backfill.state === 'QUEUED' || c.backfill.state === 'RUNNING';
  let lastCheck = 0;
  await poll(ctx.signal, 1000, async () => {
    if (moving() || Date.now() - lastCheck >= 10_000) {
      lastCheck = Date.now();
      await refresh();
    }
    return true;
  });
}

function settingsForm(path: string, c: ConnectionView): HTMLElement {
  const name = field('Connection name', h('input', { value: c.name, required: true }));
  const defaultCode = field('Default Sphere tax code', h('input', { value: c.taxCodes.default }), 'For products whose Sequence tax category is not mapped below.');
  const rows = h('tbody');
  const addRow = (category = '', code = '') => {
    const cat = h('input', { value: category, 'aria-label': 'Sequence tax category', placeholder: 'Sequence tax category id' });
    const tc = h('input', { value: code, 'aria-label': 'Sphere tax code', placeholder: 'txcd_…' });
    const row = h('tr', {}, h('td', {}, cat), h('td', {}, tc), h('td', {}, h('button', { type: 'button', onclick: () => row.remove() }, 'Remove')));
    rows.append(row);
  };
  for (const [category, code] of Object.entries(c.taxCodes.byTaxCategory)) addRow(category, code);
  const record = h('input', { type: 'checkbox', id: 'opt-record', checked: c.options.recordTransactions });
  const draft = h('input', { type: 'checkbox', id: 'opt-draft', checked: c.options.calculateOnDraft });
  const status = h('div');
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save settings');
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'settings-h' },
    h('h2', { id: 'settings-h' }, 'Settings'),
    name.row,
    defaultCode.row,
    h('h3', {}, 'Tax code mapping'),
    h('table', { class: 'mapping' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Sequence tax category'), h('th', { scope: 'col' }, 'Sphere tax code'), h('th', {}))), rows),
    h('button', { type: 'button', onclick: () => addRow() }, 'Add mapping'),
    h('h3', {}, 'Options'),
    h('div', { class: 'check' }, record, h('label', { for: 'opt-record' }, 'Record finalised invoices, voids and credit notes as Sphere transactions')),
    h('div', { class: 'check' }, draft, h('label', { for: 'opt-draft' }, 'Calculate tax when a draft invoice is created or updated')),
    h('div', { class: 'actions' }, save),
    status,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    setFieldError(name, '');
    setFieldError(defaultCode, '');
    const byTaxCategory: Record<string, string> = {};
    for (const row of rows.querySelectorAll('tr')) {
      const [cat, code] = [...row.querySelectorAll('input')].map((i) => i.value.trim());
      if (cat && code) byTaxCategory[cat] = code;
    }
    void busy(save, async () => {
      try {
        await api('PATCH', path, {
          name: name.control.value.trim(),
          taxCodes: { default: defaultCode.control.value.trim(), byTaxCategory },
          options: { recordTransactions: record.checked, calculateOnDraft: draft.checked },
        });
        status.replaceChildren(notice('ok', 'Settings saved.'));
      } catch (error) {
        const e = error as ApiError;
        if (e.field === 'name') setFieldError(name, e.message);
        else if (e.field === 'taxCodes.default') setFieldError(defaultCode, e.message);
        status.replaceChildren(notice('error', e.message));
      }
    });
  });
  return form;
}

function rotationForm(path: string): HTMLElement {
  const password = () => h('input', { type: 'password', autocomplete: 'new-password', spellcheck: 'false' });
  const apiKey = field('New Sphere API key', password());
  const clientId = field('New Sequence client ID', h('input', { autocomplete: 'off', spellcheck: 'false' }), 'Only when the new secret belongs to another API client.');
  const clientSecret = field('New Sequence client secret', password());
  const status = h('div');
  const rotate = h('button', { type: 'submit' }, 'Rotate keys');
  const form = h('form', { class: 'card', 'aria-labelledby': 'rotate-h' }, h('h2', { id: 'rotate-h' }, 'Key rotation'), apiKey.row, clientId.row, clientSecret.row, h('div', { class: 'actions' }, rotate), status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const sequence = {
      ...(clientId.control.value.trim() ? { clientId: clientId.control.value.trim() } : {}),
      ...(clientSecret.control.value.trim() ? { clientSecret: clientSecret.control.value.trim() } : {}),
    };
    const body = { ...(Object.keys(sequence).length ? { sequence } : {}), ...(apiKey.control.value.trim() ? { sphere: { apiKey: apiKey.control.value.trim() } } : {}) };
    if (Object.keys(body).length === 0) {
      status.replaceChildren(notice('error', 'Enter a new key or secret to rotate.'));
      return;
    }
    void busy(rotate, async () => {
      try {
        await api('PATCH', path, body);
        form.reset(); // the new secrets live in the vault now, not in the page
        status.replaceChildren(notice('ok', 'New credentials checked and stored.'));
      } catch (error) {
        const e = error as ApiError;
        const slot = e.field === 'sphere.apiKey' ? apiKey : e.field === 'sequence.clientId' ? clientId : e.field === 'sequence.clientSecret' ? clientSecret : undefined;
        if (slot) setFieldError(slot, e.message);
        status.replaceChildren(notice('error', e.message));
      }
    });
  });
  return form;
}

function disconnectSection(path: string, after: () => void): HTMLElement {
  const status = h('div');
  const confirmBox = h('div', { class: 'confirm', role: 'alertdialog', 'aria-labelledby': 'confirm-text', hidden: true });
  const open = h('button', { type: 'button', class: 'danger' }, 'Disconnect');
  const yes = h('button', { type: 'button', class: 'danger' }, 'Yes, disconnect');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  confirmBox.append(
    h(
      'p',
      { id: 'confirm-text' },
      'Disconnecting stops all processing for this connection: Sphere no longer calculates tax on its Sequence invoices, so tax has to be set manually in Sequence. ' +
        'Synced records, tax records and failures are kept here, and nothing is deleted in Sequence or Sphere. The stored credentials are scheduled for deletion and can be recovered for 7 days.',
    ),
    h('div', { class: 'actions' }, yes, cancel),
  );
  open.addEventListener('click', () => {
    confirmBox.hidden = false;
    cancel.focus();
  });
  cancel.addEventListener('click', () => {
    confirmBox.hidden = true;
    open.focus();
  });
  yes.addEventListener('click', () =>
    void busy(yes, async () => {
      try {
        await api('DELETE', path);
        confirmBox.hidden = true;
        status.replaceChildren(notice('ok', 'Disconnected.'));
        after();
      } catch (error) {
        status.replaceChildren(notice('error', (error as Error).message));
      }
    }),
  );
  return h('section', { class: 'card', 'aria-labelledby': 'disconnect-h' }, h('h2', { id: 'disconnect-h' }, 'Disconnect'), open, confirmBox, status);
}
