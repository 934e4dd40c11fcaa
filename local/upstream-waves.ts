/**
 * How many upstream calls stood one after another: the "waves" of a flow, read from both
 * simulators' request logs (/_sim/requests: start time and duration of every call).
 *
 * With a fixed latency fault (every call takes ≥ L ms) a call that starts after some call of the
 * current wave has answered may depend on it, so it opens the next wave; calls that start before
 * any of them answered ran side by side. The count is the number of dependent round trips on the
 * critical path — what sets a flow's latency against the real APIs (tens of ms a call), where local
 * CPU does not. Used by the tax bench's latency mode and by the structure tests.
 */
import { callSimulator } from './sim-client';

export interface UpstreamCall {
  service: 'sequence' | 'sphere';
  method: string;
  path: string;
  /** Epoch ms the simulator received it. */
  start: number;
  /** Epoch ms it answered. */
  end: number;
}

export interface Wave {
  startMs: number;
  calls: UpstreamCall[];
}

/** Group calls into dependent waves (see the header). Starts are relative to the first call. */
export function upstreamWaves(calls: readonly UpstreamCall[]): Wave[] {
  const sorted = [...calls].sort((a, b) => a.start - b.start);
  const waves: Wave[] = [];
  let firstAnswer = Number.POSITIVE_INFINITY;
  for (const call of sorted) {
    const current = waves[waves.length - 1];
    if (!current || call.start >= firstAnswer) {
      waves.push({ startMs: call.start - (sorted[0]?.start ?? 0), calls: [call] });
      firstAnswer = call.end;
    } else {
      current.calls.push(call);
      firstAnswer = Math.min(firstAnswer, call.end);
    }
  }
  return waves;
}

/** A short, readable form: `GET /invoices/{id} + GET …/line-items → POST /tax_api/…` */
export function describeWaves(waves: readonly Wave[]): string[] {
  const shorten = (path: string) => path.replace(/\/api/, '').replace(/[0-9a-f]{8}-[0-9a-f-]{27,}/gi, '{id}');
  return waves.map((w) => w.calls.map((c) => `${c.method} ${shorten(c.path)}`).join(' + '));
}

interface SimulatorUrls {
  sequenceUrl: string;
  sphereUrl: string;
}

/** Every call both simulators logged since their logs were last cleared. */
export async function readUpstreamCalls(sims: SimulatorUrls): Promise<UpstreamCall[]> {
  const [seq, sph] = await Promise.all([
    callSimulator<{ items: { method: string; path: string; timestamp: string; durationMs: number }[] }>(sims.sequenceUrl, 'GET', '/_sim/requests'),
    callSimulator<{ requests: { method: string; path: string; time: string; durationMs: number }[] }>(sims.sphereUrl, 'GET', '/_sim/requests'),
  ]);
  const at = (iso: string, durationMs: number) => ({ start: Date.parse(iso), end: Date.parse(iso) + durationMs });
  return [
    ...seq.items.map((r) => ({ service: 'sequence' as const, method: r.method, path: r.path, ...at(r.timestamp, r.durationMs) })),
    ...sph.requests.map((r) => ({ service: 'sphere' as const, method: r.method, path: r.path, ...at(r.time, r.durationMs) })),
  ];
}

export async function clearUpstreamCalls(sims: SimulatorUrls): Promise<void> {
  await Promise.all([callSimulator(sims.sequenceUrl, 'DELETE', '/_sim/requests'), callSimulator(sims.sphereUrl, 'DELETE', '/_sim/requests')]);
}

/** Both simulators answer every call after `latencyMs` (0: instantly again). */
export async function setUpstreamLatency(sims: SimulatorUrls, latencyMs: number): Promise<void> {
  await Promise.all([callSimulator(sims.sequenceUrl, 'POST', '/_sim/faults', { latencyMs }), callSimulator(sims.sphereUrl, 'POST', '/_sim/faults', { latencyMs })]);
}
