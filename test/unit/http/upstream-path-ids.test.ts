/**
 * Issue 11 §3: an id is one path segment of an upstream URL, never a dot segment. encodeURIComponent
 * leaves `.` and `..` alone and URL resolution then calls another resource (`GET /invoices/..` was
 * `GET /api/`), so both clients refuse them with a stable code and send nothing.
 */
import { ConnectorError } from '../../../shared/domain/errors';
import { SequenceClient } from '../../../shared/sequence';
import { SphereClient } from '../../../shared/sphere';

function recordingFetch() {
  const urls: string[] = [];
  const impl = (async (url: string | URL | Request) => {
    urls.push(String(url));
    return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { urls, impl };
}

async function refusal(call: () => Promise<unknown>): Promise<ConnectorError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof ConnectorError) return error;
    throw error;
  }
  throw new Error('the call was not refused');
}

describe.each(['.', '..'])('an id %j', (id) => {
  it('never reaches a Sequence URL', async () => {
    const f = recordingFetch();
    const sequence = new SequenceClient({ baseUrl: 'https://sequence.test/api', clientId: 'c', clientSecret: 's', rateLimitPerMinute: 60_000_000, fetch: f.impl });
    for (const call of [() => sequence.getInvoice(id), () => sequence.listLineItems(id), () => sequence.finalizeInvoice(id), () => sequence.getCustomer(id), () => sequence.getCreditNote(id)]) {
      expect(await refusal(call)).toMatchObject({ kind: 'bug', code: 'sequence_invalid_id' });
    }
    expect(f.urls).toEqual([]);
  });

  it('never reaches a Sphere URL', async () => {
    const f = recordingFetch();
    const sphere = new SphereClient({ baseUrl: 'https://sphere.test', apiKey: 'sph_test_key', fetch: f.impl });
    for (const call of [() => sphere.getCustomer(id), () => sphere.getProduct(id), () => sphere.getTransaction(id), () => sphere.cancelTransaction(id)]) {
      expect(await refusal(call)).toMatchObject({ kind: 'bug', code: 'sphere_invalid_id' });
    }
    expect(f.urls).toEqual([]);
  });
});

it('still encodes every other id as one segment', async () => {
  const f = recordingFetch();
  const sphere = new SphereClient({ baseUrl: 'https://sphere.test', apiKey: 'sph_test_key', fetch: f.impl });
  await sphere.getCustomer('a/../b').catch(() => undefined);
  expect(f.urls[0]).toBe('https://sphere.test/v1/customers/a%2F..%2Fb');
});
