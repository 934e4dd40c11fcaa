import { queueEnvVars } from '../../../local/runtime/types';

describe('queueEnvVars: where the local runtime exports a binding’s queue URLs', () => {
  it('takes a catalogue queue’s variables from the catalogue, by queue name', () => {
    expect(queueEnvVars({ queueName: 'invoice-tax.fifo' })).toEqual({ envVar: 'INVOICE_TAX_QUEUE_URL', dlqEnvVar: 'INVOICE_TAX_DLQ_URL' });
    expect(queueEnvVars({ queueName: 'customer-sync.fifo' })).toEqual({ envVar: 'CUSTOMER_SYNC_QUEUE_URL', dlqEnvVar: 'CUSTOMER_SYNC_DLQ_URL' });
  });

  it('lets a binding name its own variables', () => {
    expect(queueEnvVars({ queueName: 'work.fifo', envVar: 'WORK_QUEUE_URL', dlqEnvVar: 'WORK_DLQ_URL' })).toEqual({ envVar: 'WORK_QUEUE_URL', dlqEnvVar: 'WORK_DLQ_URL' });
  });

  it('refuses a queue outside the catalogue that names no variables, instead of guessing', () => {
    expect(() => queueEnvVars({ queueName: 'work.fifo' })).toThrow('Queue work.fifo is not in the catalogue (shared/runtime/catalogue.ts): set envVar and dlqEnvVar on its binding');
    expect(() => queueEnvVars({ queueName: 'work.fifo', envVar: 'WORK_QUEUE_URL' })).toThrow(/set envVar and dlqEnvVar/);
  });
});
