/**
 * Both simulators on a worker thread (local/simulators-thread, the tax latency bench's set-up): they
 * answer over HTTP like the in-process ones, settle their webhooks on request, stop with the thread,
 * and refuse options that cannot cross to a thread instead of dropping them.
 */
import { callSequenceApi, callSimulator } from '../../../local/sim-client';
import { startSimulatorsThread } from '../../../local/simulators-thread';

it('serves both simulators from a thread until stopped', async () => {
  const sims = await startSimulatorsThread({ sequence: { port: 0, clientId: 'thread-id', clientSecret: 'thread-secret' }, sphere: { port: 0, apiKeys: ['sph_test_thread'] } });
  try {
    expect(await callSimulator(sims.sequence.url, 'GET', '/_sim/health')).toMatchObject({ ok: true, service: 'sequence-simulator' });
    expect(await callSimulator<{ requests: unknown[] }>(sims.sphere.url, 'GET', '/_sim/requests')).toMatchObject({ requests: [] });
    const page = await callSequenceApi<{ items: unknown[] }>(sims.sequence, 'GET', '/customers');
    expect(page.items).toEqual([]);
    await expect(sims.sequence.webhooksIdle()).resolves.toBeUndefined();
  } finally {
    await sims.stop();
  }
  await expect(fetch(`${sims.sequence.url}/_sim/health`)).rejects.toThrow();
  await expect(sims.sequence.webhooksIdle()).rejects.toThrow(/exited/);
});

it('refuses an option that is a function (a clock, a random source): it cannot cross to a thread', async () => {
  await expect(startSimulatorsThread({ sequence: { now: () => 0 } })).rejects.toThrow(/sequence\.now is a function/);
});
