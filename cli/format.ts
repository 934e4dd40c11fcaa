/** Output helpers of the admin CLI: plain-text tables, key/value blocks, a progress bar, redaction. */

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s+/g, ' ');
}

/** A table with a header row and a rule; columns padded to their widest cell. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map((c) => cell(c.value(row))));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)];
  if (rows.length === 0) out.push('(none)');
  return `${out.join('\n')}\n`;
}

/** `key  value` lines, keys padded. */
export function keyValues(entries: ReadonlyArray<readonly [string, unknown]>): string {
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return `${entries.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`.trimEnd()).join('\n')}\n`;
}

/** `[##########----------]  50%  5/10`. An unknown total (0) shows an empty bar and the count. */
export function progressBar(done: number, total: number, width = 30): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 0;
  const filled = Math.round(ratio * width);
  const percent = total > 0 ? `${Math.floor(ratio * 100)}%`.padStart(4) : '  ?%';
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent}  ${done}/${total > 0 ? total : '?'}`;
}

const SECRET_KEY = /secret|password|apikey|api_key|token|authorization|credential/i;

/** A deep copy with every secret-looking field replaced: nothing secret ever reaches the terminal. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v)]));
  }
  return value;
}
