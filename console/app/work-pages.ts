/** Synced records, invoice tax, failures, the audit log and the DLQs. */
import { sequenceLineTax } from '../../shared/domain/sequence-tax-rule';
import { type CurrencyCode } from '../../shared/domain/currency';
import { type UpstreamCallRecord } from '../../shared/http/upstream-http';
import { ApiError, api } from './api';
import { busy, field, h, notice, when } from './dom';
import { connectionNav } from './views';
import { type PageContext, go, setTitle } from './shell';

function table(headers: string[], rows: HTMLElement[], empty: string): HTMLElement {
  if (rows.length === 0) return notice('info', empty);
  return h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows)));
}

function connectionHeader(ctx: PageContext, title: string, tab: string): string {
  const id = ctx.params.id!;
  setTitle(ctx.root, title, h('h1', {}, title));
  ctx.root.append(connectionNav(id, tab));
  return `/connections/${encodeURIComponent(id)}`;
}

interface RecordView {
  type: string;
  id: string;
  sphereId: string;
  link: string;
  lastSyncedAt: string;
  taxCode?: string;
  taxStatus?: string;
}

export async function recordsPage(ctx: PageContext): Promise<void> {
  const path = connectionHeader(ctx, 'Synced records', 'records');
  const type = ctx.query.get('type') === 'product' ? 'product' : 'customer';
  const cursor = ctx.query.get('cursor');
  const base = `#/connections/${encodeURIComponent(ctx.params.id!)}/records`;
  ctx.root.append(
    h(
      'nav',
      { class: 'tabs sub', 'aria-label': 'Record type' },
      (['customer', 'product'] as const).map((t) => h('a', { href: `${base}?type=${t}`, ...(t === type ? { 'aria-current': 'page' } : {}) }, t === 'customer' ? 'Customers' : 'Products')),
    ),
  );
  const { body } = await api<{ items: RecordView[]; nextCursor?: string }>('GET', `${path}/records?type=${type}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
  ctx.root.append(
    table(
      ['Sequence id', 'Sphere id', 'Sphere link', type === 'product' ? 'Tax code' : 'Tax status', 'Last sync'],
      body.items.map((r) =>
        h(
          'tr',
          {},
          h('td', {}, h('code', {}, r.id)),
          h('td', {}, h('code', {}, r.sphereId)),
          h('td', {}, h('span', { class: `link link-${r.link}` }, r.link === 'linked' ? '● Linked' : r.link === 'archived' ? '○ Archived' : '◌ Pending')),
          h('td', {}, (type === 'product' ? r.taxCode : r.taxStatus) ?? '—'),
          h('td', {}, when(r.lastSyncedAt)),
        ),
      ),
      `No ${type}s synced yet.`,
    ),
    h(
      'div',
      { class: 'actions' },
      cursor ? h('a', { href: `${base}?type=${type}`, class: 'button' }, 'First page') : null,
      body.nextCursor ? h('a', { href: `${base}?type=${type}&cursor=${encodeURIComponent(body.nextCursor)}`, class: 'button' }, 'Next page') : null,
    ),
  );
}

interface TaxLine {
  lineItemId: string;
  amount: string;
  taxAmount: string;
  taxRate: string;
  taxabilityReason?: string;
  jurisdictions: { name: string; displayName?: string; percentage: string; amount: string; taxType: string }[];
}

interface TaxRecordView {
  invoiceId: string;
  status: string;
  currency: string;
  customerId: string;
  totalTax: string;
  reason?: string;
  errorCode?: string;
  calculatedAt?: string;
  lines: TaxLine[];
}

/** Sphere = Sequence: the line's Sequence tax, by the connector's one rule for it, equals Sphere's to the cent. */
function sequenceCheck(line: TaxLine, currency: string): HTMLElement {
  try {
    const sequenceTax = sequenceLineTax(line.amount, line.taxRate, currency.toUpperCase() as CurrencyCode);
    const same = sequenceTax === line.taxAmount;
    return h('span', { class: same ? 'ok' : 'bad' }, same ? `✓ ${sequenceTax}` : `✗ Sequence ${sequenceTax}`);
  } catch {
    return h('span', { class: 'bad' }, '✗ cannot check');
  }
}

function taxRecord(record: TaxRecordView): HTMLElement {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'record-h' },
    h('h2', { id: 'record-h' }, `Invoice ${record.invoiceId}`),
    h(
      'dl',
      { class: 'counters' },
      [
        ['Tax status', record.status],
        ['Total tax', `${record.totalTax} ${record.currency.toUpperCase()}`],
        ['Customer', record.customerId],
        ['Calculated', when(record.calculatedAt)],
        ...(record.reason ? [['Reason', record.reason]] : []),
        ...(record.errorCode ? [['Error', record.errorCode]] : []),
      ].map(([k, v]) => h('div', {}, h('dt', {}, k!), h('dd', {}, v!))),
    ),
    table(
      ['Line', 'Amount', 'Tax rate', 'Sphere tax', 'Sphere = Sequence', 'Jurisdictions'],
      record.lines.map((line) =>
        h(
          'tr',
          {},
          h('td', {}, h('code', {}, line.lineItemId)),
          h('td', { class: 'num' }, line.amount),
          h('td', { class: 'num' }, line.taxRate),
          h('td', { class: 'num' }, line.taxAmount),
          h('td', {}, sequenceCheck(line, record.currency)),
          h(
            'td',
            {},
            line.jurisdictions.length === 0
              ? (line.taxabilityReason ?? 'no tax')
              : h('ul', { class: 'plain' }, line.jurisdictions.map((j) => h('li', {}, `${j.displayName ?? j.name} (${j.taxType}) ${j.percentage}% = ${j.amount}`))),
          ),
        ),
      ),
      'No lines.',
    ),
  );
}

export async function invoicePage(ctx: PageContext): Promise<void> {
  const path = connectionHeader(ctx, 'Invoice tax', 'invoice');
  const invoiceId = ctx.params.invoiceId ?? '';
  const lookup = field('Invoice ID', h('input', { value: invoiceId, required: true, spellcheck: 'false' }));
  const form = h('form', { class: 'inline', role: 'search' }, lookup.row, h('button', { type: 'submit', class: 'primary' }, 'Look up'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = lookup.control.value.trim();
    if (value) go(`#/connections/${encodeURIComponent(ctx.params.id!)}/invoices/${encodeURIComponent(value)}`);
  });
  ctx.root.append(form);
  if (!invoiceId) {
    lookup.control.focus();
    return;
  }
  const invoicePath = `${path}/invoices/${encodeURIComponent(invoiceId)}`;
  const recordSlot = h('div');
  const actionStatus = h('div', { class: 'action-status' });
  const recalculate = h('button', { type: 'button' }, 'Recalculate');
  const finalize = h('button', { type: 'button', class: 'primary' }, 'Finalize');
  const show = async () => {
    try {
      recordSlot.replaceChildren(taxRecord((await api<TaxRecordView>('GET', `${invoicePath}/tax`)).body));
    } catch (error) {
      recordSlot.replaceChildren(notice(error instanceof ApiError && error.status === 404 ? 'info' : 'error', (error as Error).message));
    }
  };
  recalculate.addEventListener('click', () =>
    void busy(recalculate, async () => {
      actionStatus.replaceChildren();
      try {
        recordSlot.replaceChildren(taxRecord((await api<TaxRecordView>('POST', `${invoicePath}/tax`)).body));
        actionStatus.replaceChildren(notice('ok', 'Tax recalculated.'));
      } catch (error) {
        actionStatus.replaceChildren(notice('error', `Recalculate refused: ${(error as Error).message}`));
      }
    }),
  );
  finalize.addEventListener('click', () =>
    void busy(finalize, async () => {
      actionStatus.replaceChildren();
      try {
        const { body } = await api<{ invoice: { status: string; invoiceNumber: string | null }; taxRecord: TaxRecordView }>('POST', `${invoicePath}/finalize`);
        recordSlot.replaceChildren(taxRecord(body.taxRecord));
        actionStatus.replaceChildren(notice('ok', `Finalized: invoice ${body.invoice.invoiceNumber ?? invoiceId} is ${body.invoice.status}.`));
      } catch (error) {
        const e = error as ApiError;
        actionStatus.replaceChildren(notice('error', `Finalize refused${e.status ? ` (${e.status} ${e.code})` : ''}: ${e.message}`));
      }
    }),
  );
  ctx.root.append(h('div', { class: 'actions' }, recalculate, finalize), actionStatus, recordSlot);
  await show();
}

interface FailureView {
  resourceType: string;
  resourceId: string;
  code: string;
  reason: string;
  fix?: string;
  retryable: boolean;
  attempts: number;
  lastFailedAt: string;
}

export async function failuresPage(ctx: PageContext): Promise<void> {
  const path = connectionHeader(ctx, 'Failures', 'failures');
  const list = h('div');
  const status = h('div');
  const retry = async (button: HTMLButtonElement, selection: Record<string, unknown>) =>
    busy(button, async () => {
      try {
        const { body } = await api<{ requeued: number; matched: number; skipped: { resourceType: string; resourceId: string; reason: string }[] }>('POST', `${path}/failures/retry`, selection);
        const skipped = body.skipped.map((s) => `${s.resourceType} ${s.resourceId}: ${s.reason}`).join('; ');
        status.replaceChildren(notice(skipped ? 'error' : 'ok', `Requeued ${body.requeued} of ${body.matched}.${skipped ? ` Not requeued: ${skipped}` : ''}`));
      } catch (error) {
        status.replaceChildren(notice('error', (error as Error).message));
      }
      await load();
    });
  const retryAll = h('button', { type: 'button', class: 'primary' }, 'Retry all');
  retryAll.addEventListener('click', () => void retry(retryAll, { all: true }));
  const load = async () => {
    const { body } = await api<{ items: FailureView[] }>('GET', `${path}/failures`);
    retryAll.disabled = body.items.length === 0;
    list.replaceChildren(
      table(
        ['Code', 'Resource', 'Reason', 'Fix', 'Retryable', 'Attempts', 'Last failed', ''],
        body.items.map((f) => {
          const button = h('button', { type: 'button', 'aria-label': `Retry ${f.resourceType} ${f.resourceId}` }, 'Retry');
          button.addEventListener('click', () => void retry(button, { resourceType: f.resourceType, resourceId: f.resourceId }));
          return h(
            'tr',
            {},
            h('td', {}, h('code', { class: 'nowrap' }, f.code)),
            h('td', {}, `${f.resourceType} `, h('code', {}, f.resourceId)),
            h('td', {}, f.reason),
            h('td', {}, f.fix ?? '—'),
            h('td', {}, f.retryable ? 'yes' : 'after the fix'),
            h('td', { class: 'num' }, f.attempts),
            h('td', {}, when(f.lastFailedAt)),
            h('td', {}, button),
          );
        }),
        'No failures.',
      ),
    );
  };
  ctx.root.append(h('div', { class: 'actions' }, retryAll), status, list);
  await load();
}

/** An audit entry as GET …/audit answers it: the upstream call record and when it was made. */
interface AuditView extends UpstreamCallRecord {
  at: string;
}

export async function auditPage(ctx: PageContext): Promise<void> {
  const path = connectionHeader(ctx, 'Audit log', 'audit');
  const { body } = await api<{ items: AuditView[] }>('GET', `${path}/audit?limit=200`);
  ctx.root.append(
    h('p', { class: 'hint' }, 'Upstream calls of this connection, newest first.'),
    table(
      ['At', 'Service', 'Method', 'Path', 'Status', 'Latency (ms)', 'Try', 'Request id'],
      body.items.map((a) =>
        h(
          'tr',
          {},
          h('td', {}, when(a.at)),
          h('td', {}, a.service),
          h('td', {}, a.method),
          h('td', {}, h('code', {}, a.path)),
          h('td', {}, a.status ?? a.errorCode ?? '—'),
          h('td', { class: 'num' }, a.latencyMs),
          h('td', { class: 'num' }, a.attempt),
          h('td', {}, a.requestId ? h('code', {}, a.requestId) : '—'),
        ),
      ),
      'No upstream calls recorded.',
    ),
  );
}

interface DlqView {
  queue: string;
  deadLetterQueue: string;
  visible: number;
  inFlight: number;
}

export async function operationsPage(ctx: PageContext): Promise<void> {
  setTitle(ctx.root, 'Operations', h('h1', {}, 'Operations'));
  const list = h('div');
  const status = h('div');
  const load = async () => {
    const { body } = await api<{ items: DlqView[] }>('GET', '/dlq');
    list.replaceChildren(
      table(
        ['Queue', 'Dead-letter queue', 'Messages', 'In flight', ''],
        body.items.map((q) => {
          const button = h('button', { type: 'button', 'aria-label': `Redrive ${q.queue}`, disabled: q.visible === 0 && q.inFlight === 0 }, 'Redrive');
          button.addEventListener('click', () =>
            void busy(button, async () => {
              try {
                const { body: r } = await api<{ moved: number; failed: number; remaining: number }>('POST', `/dlq/${encodeURIComponent(q.queue)}/redrive`);
                status.replaceChildren(notice(r.failed ? 'error' : 'ok', `${q.queue}: moved ${r.moved}, failed ${r.failed}, ${r.remaining} left.`));
              } catch (error) {
                status.replaceChildren(notice('error', (error as Error).message));
              }
              await load();
            }),
          );
          return h('tr', {}, h('td', {}, q.queue), h('td', {}, h('code', {}, q.deadLetterQueue)), h('td', { class: 'num' }, q.visible), h('td', { class: 'num' }, q.inFlight), h('td', {}, button));
        }),
        'No dead-letter queues configured.',
      ),
    );
  };
  ctx.root.append(
    h('h2', {}, 'Dead-letter queues'),
    h('p', { class: 'hint' }, 'Redrive after fixing the cause: the messages go back to their queue and are processed again.'),
    status,
    list,
    h('h2', {}, 'Audit log'),
    h('p', { class: 'hint' }, 'Upstream calls (method, path, status, latency, request id) per connection:'),
  );
  const connections = await api<{ items: { id: string; name: string; status: string }[] }>('GET', '/connections');
  ctx.root.append(
    connections.body.items.length === 0
      ? notice('info', 'No connections yet.')
      : h('ul', {}, connections.body.items.map((c) => h('li', {}, h('a', { href: `#/connections/${encodeURIComponent(c.id)}/audit` }, `${c.name} (${c.status.toLowerCase()})`)))),
  );
  await load();
}
