/**
 * The CLI's SigV4 signer against the AWS Signature Version 4 test suite (aws-sig-v4-test-suite:
 * `get-vanilla`, `post-vanilla`, `get-vanilla-query-order-key-case`; credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1,
 * service "service"), and its execute-api shape with a fixed clock and fixed credentials.
 */
import { createSigV4Signer, regionFromApiUrl } from '../../../cli/sigv4';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const now = () => new Date('2015-08-30T12:36:00Z');
const suiteSigner = createSigV4Signer({ region: 'us-east-1', service: 'service', credentials, now, applyChecksum: false });
const scope = 'Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request';

it.each([
  ['get-vanilla', 'GET', 'https://example.amazonaws.com/', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
  ['post-vanilla', 'POST', 'https://example.amazonaws.com/', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
  ['get-vanilla-query-order-key-case', 'GET', 'https://example.amazonaws.com/?Param2=value2&Param1=value1', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'],
])('matches the AWS test-suite vector %s', async (_name, method, url, signature) => {
  const headers = await suiteSigner({ method, url });
  expect(headers['x-amz-date']).toBe('20150830T123600Z');
  expect(headers.host).toBe('example.amazonaws.com');
  expect(headers.authorization).toBe(`AWS4-HMAC-SHA256 ${scope}, SignedHeaders=host;x-amz-date, Signature=${signature}`);
});

describe('execute-api signing', () => {
  const signer = createSigV4Signer({ region: 'eu-west-1', credentials: { ...credentials, sessionToken: 'session-token-example' }, now });
  const request = { method: 'POST', url: 'https://abc123.execute-api.eu-west-1.amazonaws.com/dlq/invoiceTax/redrive', headers: { 'content-type': 'application/json' }, body: '{"a":1}' };

  it('adds the signature headers, the session token and the payload hash', async () => {
    const headers = await signer(request);
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20150830\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date(;x-amz-security-token)?, Signature=[0-9a-f]{64}$/,
    );
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
    expect(headers['x-amz-security-token']).toBe('session-token-example');
    // sha256('{"a":1}')
    expect(headers['x-amz-content-sha256']).toBe('015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862');
    expect(headers['content-type']).toBe('application/json');
  });

  it('is deterministic for a fixed clock and credentials, and changes with the body', async () => {
    const a = await signer(request);
    const b = await signer(request);
    expect(a.authorization).toBe(b.authorization);
    const c = await signer({ ...request, body: '{"a":2}' });
    expect(c.authorization).not.toBe(a.authorization);
  });

  it('never puts the secret key in a header', async () => {
    const headers = await signer(request);
    expect(JSON.stringify(headers)).not.toContain(credentials.secretAccessKey);
  });
});

it('reads the region from an execute-api URL', () => {
  expect(regionFromApiUrl('https://abc123.execute-api.eu-central-1.amazonaws.com')).toBe('eu-central-1');
  expect(regionFromApiUrl('http://127.0.0.1:3000')).toBeUndefined();
});
