/** The Sequence API client: the public surface. */
export * from './schemas';
export * from './errors';
export {
  SequenceClient,
  type SequenceClientOptions,
  type SequencePage,
  type PageOptions,
  type Query,
  type ListInvoicesQuery,
  type ListCustomersQuery,
  SEQUENCE_SANDBOX_BASE_URL,
  SEQUENCE_PRODUCTION_BASE_URL,
  SEQUENCE_RATE_LIMIT_PER_MINUTE,
  SEQUENCE_MAX_PAGE_SIZE,
  sequenceBaseUrlFor,
  credentialFingerprint,
  customerToRequest,
  lineItemToRequest,
} from './client';
