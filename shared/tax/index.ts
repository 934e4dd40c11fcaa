/** The invoice-tax flow's use cases (see each module). */
export { type TaxContext, type SphereSyncPort, defaultSphereSync, taxContext } from './context';
export {
  CALCULATION_ID_METADATA_KEY,
  InvoiceBusyError,
  InvoiceNotDraftError,
  type CalculationOutcome,
  type FinalizeOutcome,
  calculateDraftInvoice,
  calculateInvoiceTax,
  finalizeInvoiceWithTax,
  withInvoiceLease,
} from './calculate';
export { type TransactionOutcome, cancelTransaction, recordCreditNote, recordInvoiceTransaction } from './transactions';
export { type InvoiceTaxMessage, type MessageOutcome, invoiceTaxFailureTarget, processInvoiceTaxMessage } from './process-message';
export { type RetaxOutcome, retaxCustomerDrafts } from './retax';
export { requireTaxConnection, withInvoiceFailureRecord } from './synchronous';
export { type DirectInvocation, type DirectInvocationResult, DirectInvocationSchema, errorResult, handleDirectInvocation, isDirectInvocation } from './direct';
