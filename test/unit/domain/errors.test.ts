import { ConnectorBugError, ConnectorError, RetryableUpstreamError, UpstreamRateLimitedError, UpstreamUnavailableError, UserActionRequiredError, classifyError, isRetryableHttpStatus } from '../../../shared/domain/errors';

describe('error taxonomy', () => {
  it('classifies user errors as not retryable and keeps the fix for the operator', () => {
    const err = new UserActionRequiredError('customer_tax_location_invalid', 'Sphere cannot locate the address', {
      fix: 'Correct the postcode of the customer in Sequence',
      upstream: { service: 'sphere', status: 400, upstreamCode: 'customer_tax_location_invalid' },
    });
    expect(classifyError(err)).toEqual({
      kind: 'user',
      code: 'customer_tax_location_invalid',
      message: 'Sphere cannot locate the address',
      retryable: false,
      fix: 'Correct the postcode of the customer in Sequence',
    });
    expect(err.retryable).toBe(false);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err.name).toBe('UserActionRequiredError');
  });

  it('classifies rate limits, timeouts and 5xx as retryable and carries Retry-After', () => {
    const limited = new UpstreamRateLimitedError('slow down', { retryAfterMs: 1500 });
    expect(classifyError(limited)).toMatchObject({ kind: 'retryable', code: 'rate_limited', retryable: true, retryAfterMs: 1500 });
    expect(limited).toBeInstanceOf(RetryableUpstreamError);
    expect(classifyError(new UpstreamUnavailableError('upstream_timeout', 'timed out'))).toMatchObject({ kind: 'retryable', code: 'upstream_timeout' });
  });

  it('classifies anything unknown as a bug, never as retryable', () => {
    expect(classifyError(new TypeError('x is undefined'))).toEqual({ kind: 'bug', code: 'internal_error', message: 'x is undefined', retryable: false });
    expect(classifyError('a string')).toMatchObject({ kind: 'bug', retryable: false });
    expect(classifyError(new ConnectorBugError('upstream_malformed_response', 'bad body'))).toMatchObject({ kind: 'bug', code: 'upstream_malformed_response' });
  });

  it('serialises without stack or cause', () => {
    const err = new UpstreamUnavailableError('upstream_server_error', 'boom', { cause: new Error('inner secret-ish detail') });
    const json = JSON.stringify(err);
    expect(json).not.toMatch(/stack|inner secret/);
    expect(JSON.parse(json)).toMatchObject({ kind: 'retryable', code: 'upstream_server_error', message: 'boom' });
  });

  it.each([
    [408, true], [425, true], [429, true], [500, true], [502, true], [503, true], [504, true],
    [400, false], [401, false], [403, false], [404, false], [409, false], [422, false],
  ])('HTTP %i retryable: %s', (status, expected) => {
    expect(isRetryableHttpStatus(status)).toBe(expected);
  });
});
