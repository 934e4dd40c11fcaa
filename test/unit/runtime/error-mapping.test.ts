/**
 * Issue 14 §3: one error → response mapping. The status is a function of the error's kind plus a
 * small table of codes (no suffix matching), and the admin API (toErrorResponse) and the direct
 * invocation (errorResult) answer every error with the same status and body.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ConnectorBugError, RetryableUpstreamError, UserActionRequiredError } from '../../../shared/domain/errors';
import { toErrorResponse } from '../../../shared/runtime/api-response';
import { InvoiceBusyError, InvoiceNotDraftError, type TaxContext, errorResult, handleDirectInvocation } from '../../../shared/tax';

const fix = { fix: 'Do the thing' };
const cases: [string, unknown, number][] = [
  ['a user error', new UserActionRequiredError('customer_tax_location_invalid', 'Sphere cannot locate the address', fix), 422],
  ['a user error from an upstream', new UserActionRequiredError('sequence_credentials_rejected', 'Sequence refused the key', { ...fix, upstream: { service: 'sequence', status: 401 } }), 422],
  // "not found" in a code is not a status: Sequence answered, it just lists no account (credentials.ts: 422).
  ['sequence_account_not_found', new UserActionRequiredError('sequence_account_not_found', 'Sequence lists no account', fix), 422],
  ['sphere_not_found', new UserActionRequiredError('sphere_not_found', 'Sphere has no such product', fix), 422],
  ['sequence_not_found', new UserActionRequiredError('sequence_not_found', 'Sequence has no such invoice', fix), 404],
  ['invoice_not_draft', new InvoiceNotDraftError('inv_1', 'FINALIZED'), 409],
  ['invoice_busy', new InvoiceBusyError('inv_1'), 503],
  ['an outage', new RetryableUpstreamError('upstream_server_error', 'Sphere answered 502', { retryAfterMs: 1200 }), 503],
  ['a bug', new ConnectorBugError('sphere_unexpected_response', 'Sphere sent junk'), 500],
  ['anything else', new TypeError('x is undefined'), 500],
];

describe.each(cases)('%s', (_name, error, status) => {
  it(`is ${status} with the same body for the admin API and the direct invocation`, () => {
    const response = toErrorResponse(error) as APIGatewayProxyStructuredResultV2;
    const direct = errorResult(error);
    expect(response.statusCode).toBe(status);
    expect(direct.statusCode).toBe(status);
    expect(direct.error).toEqual(JSON.parse(String(response.body)).error);
    if (status === 503) expect(response.headers?.['retry-after']).toBe(String(direct.retryAfterSeconds));
    expect(String(response.body)).not.toMatch(/x is undefined|Sphere sent junk|at .*\.ts/);
  });
});

it('refuses a direct invocation whose invoice id could become a dot segment, before any lookup', async () => {
  const untouched = new Proxy({}, { get: () => { throw new Error('the context must not be used'); } }) as unknown as TaxContext;
  for (const invoiceId of ['.', '..', 'x'.repeat(5000)]) {
    const result = await handleDirectInvocation(untouched, { connectionId: 'conn_1', invoiceId });
    expect(result).toMatchObject({ statusCode: 400, error: { code: 'invalid_request' } });
  }
});
