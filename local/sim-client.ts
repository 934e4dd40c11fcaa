/**
 * Talking to the simulators from tests, benchmarks and the demo: Sequence's public API as a
 * merchant would (Basic auth, Sequence-Version) and the `/_sim/` control surface. A non-2xx answer
 * is an error naming the call and the body.
 */
export interface SequenceApiEndpoint {
  apiUrl: string;
  clientId: string;
  clientSecret: string;
}

async function callJson<T>(url: string, method: string, what: string, headers: Record<string, string>, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${what} → ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A call to Sequence's API on the simulator, e.g. `callSequenceApi(sim, 'POST', '/invoices', {...})`. */
export function callSequenceApi<T = Record<string, unknown>>(sequence: SequenceApiEndpoint, method: string, apiPath: string, body?: unknown): Promise<T> {
  const authorization = `Basic ${Buffer.from(`${sequence.clientId}:${sequence.clientSecret}`).toString('base64')}`;
  return callJson<T>(`${sequence.apiUrl}${apiPath}`, method, `Sequence ${method} ${apiPath}`, { authorization, 'sequence-version': '2024-07-30' }, body);
}

/** A call to a simulator's own surface (`/_sim/seed`, `/_sim/state`, …). */
export function callSimulator<T = Record<string, unknown>>(baseUrl: string, method: string, simPath: string, body?: unknown): Promise<T> {
  return callJson<T>(`${baseUrl}${simPath}`, method, `${method} ${baseUrl}${simPath}`, {}, body);
}
