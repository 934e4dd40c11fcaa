/** Invoice commands: tax (calculate now, or --show the stored result) and finalize. */
import { keyValues, table } from '../format';
import { type Context, type Json, arg, show, str } from './context';

function taxRecordText(record: Json): string {
  const lines = (record.lines ?? []) as Json[];
  return (
    keyValues([
      ['invoice', record.invoiceId],
      ['status', record.status],
      ['calculation', record.calculationId],
      ['total tax', record.totalTax],
      ...(record.reason ? ([['reason', record.reason]] as const) : []),
    ]) +
    '\n' +
    table(lines, [
      { header: 'LINE', value: (l) => l.lineItemId },
      { header: 'AMOUNT', value: (l) => l.amount },
      { header: 'RATE', value: (l) => l.taxRate },
      { header: 'TAX', value: (l) => l.taxAmount },
      { header: 'JURISDICTIONS', value: (l) => ((l.jurisdictions ?? []) as Json[]).map((j) => `${str(j.name)} ${str(j.rate)}`).join(', ') },
    ])
  );
}

export const tax = (ctx: Context) =>
  show<Json>(ctx, ctx.flags.show ? 'GET' : 'POST', `/connections/${arg(ctx, 0, 'id')}/invoices/${arg(ctx, 1, 'invoiceId')}/tax`, taxRecordText);

export const finalize = (ctx: Context) =>
  show<{ invoice?: Json; taxRecord?: Json }>(ctx, 'POST', `/connections/${arg(ctx, 0, 'id')}/invoices/${arg(ctx, 1, 'invoiceId')}/finalize`, (body) => {
    const invoice = body.invoice ?? {};
    return `${keyValues([
      ['invoice', invoice.id],
      ['status', invoice.status],
      ['number', invoice.invoiceNumber],
      ['net total', invoice.netTotal],
      ['total tax', invoice.totalTax],
      ['gross total', invoice.grossTotal],
    ])}\n${body.taxRecord ? taxRecordText(body.taxRecord) : ''}`;
  });
