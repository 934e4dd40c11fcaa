/**
 * The Tracer (and with it the X-Ray SDK and its process-wide async hook) is loaded only when tracing
 * is on, by Powertools' own rule: in a Lambda execution environment, unless switched off.
 */
import { tracingActive } from '../../../shared/runtime/observability';

const LAMBDA = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };

describe('tracingActive', () => {
  it('is on in a Lambda execution environment', () => {
    expect(tracingActive(LAMBDA)).toBe(true);
    expect(tracingActive({ ...LAMBDA, POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(true);
  });

  it('is off outside Lambda, in SAM local and Amplify mock', () => {
    expect(tracingActive({})).toBe(false);
    expect(tracingActive({ ...LAMBDA, AWS_SAM_LOCAL: 'true' })).toBe(false);
    expect(tracingActive({ AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' })).toBe(false);
  });

  it('is off when switched off', () => {
    expect(tracingActive({ ...LAMBDA, POWERTOOLS_TRACE_ENABLED: 'false' })).toBe(false);
    expect(tracingActive({ ...LAMBDA, POWERTOOLS_TRACE_ENABLED: 'FALSE' })).toBe(false);
    expect(tracingActive({ ...LAMBDA, POWERTOOLS_DEV: 'true' })).toBe(false);
  });
});
