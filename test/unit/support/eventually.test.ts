import { eventually, GiveUp } from '../../support/eventually';

it('returns the first truthy value the probe gives', async () => {
  let calls = 0;
  const value = await eventually('the third call', () => (++calls === 3 ? { calls } : undefined), { everyMs: 1 });
  expect(value).toEqual({ calls: 3 });
});

it('retries a probe that throws, and names what was awaited and the last error on timeout', async () => {
  let calls = 0;
  const probe = () => {
    calls++;
    throw new Error('connection refused');
  };
  await expect(eventually('the simulator', probe, { timeoutMs: 20, everyMs: 1 })).rejects.toThrow(/waiting for the simulator; last error: connection refused/);
  expect(calls).toBeGreaterThan(1);
});

it('names the last value on timeout', async () => {
  await expect(eventually('two deliveries', () => 0, { timeoutMs: 5, everyMs: 1 })).rejects.toThrow(/waiting for two deliveries; last value: 0/);
});

it('stops at once when the probe gives up', async () => {
  let calls = 0;
  const probe = () => {
    calls++;
    throw new GiveUp('the process exited');
  };
  await expect(eventually('a banner', probe, { timeoutMs: 60_000 })).rejects.toThrow('the process exited');
  expect(calls).toBe(1);
});
