/**
 * Leases against DynamoDB (dynalite): one holder at a time, an expired lease can be taken over,
 * only the holder releases it, and withLease waits for a held lease, then gives up with `busy`.
 */
import { LeaseRepository, withLease } from '../../../shared/store/leases';
import { useConnectorTable } from './dynamo-table';

const table = useConnectorTable();

const repo = (now: () => number = Date.now) => new LeaseRepository(table.db, table.name, now);

it('gives a lease to one holder at a time and back after release', async () => {
  const leases = repo();
  const first = await leases.tryAcquire('conn-a', 'INVOICE#inv-1', 60_000);
  expect(first).toBeDefined();
  expect(await leases.tryAcquire('conn-a', 'INVOICE#inv-1', 60_000)).toBeUndefined();
  // Other names and other connections are independent.
  expect(await leases.tryAcquire('conn-a', 'INVOICE#inv-2', 60_000)).toBeDefined();
  expect(await leases.tryAcquire('conn-b', 'INVOICE#inv-1', 60_000)).toBeDefined();
  await leases.release(first!);
  expect(await leases.tryAcquire('conn-a', 'INVOICE#inv-1', 60_000)).toBeDefined();
});

it('lets a new holder take an expired lease, and the old holder cannot release it', async () => {
  let clock = 1_000_000;
  const leases = repo(() => clock);
  const dead = await leases.tryAcquire('conn-c', 'INVOICE#inv-1', 5_000);
  expect(dead).toBeDefined();
  clock += 4_999;
  expect(await leases.tryAcquire('conn-c', 'INVOICE#inv-1', 5_000)).toBeUndefined();
  clock += 2;
  const next = await leases.tryAcquire('conn-c', 'INVOICE#inv-1', 5_000);
  expect(next).toBeDefined();
  await leases.release(dead!); // late release of the expired lease: a no-op
  expect(await leases.tryAcquire('conn-c', 'INVOICE#inv-1', 5_000)).toBeUndefined();
  await leases.release(next!);
  expect(await leases.tryAcquire('conn-c', 'INVOICE#inv-1', 5_000)).toBeDefined();
});

it('withLease runs the work of concurrent callers one after the other', async () => {
  const leases = repo();
  const events: string[] = [];
  const work = (who: string) => async () => {
    events.push(`${who}:start`);
    await new Promise((r) => setTimeout(r, 50));
    events.push(`${who}:end`);
    return who;
  };
  const wait = { ttlMs: 60_000, waitMs: 10_000, pollMs: 10, busy: () => new Error('busy') };
  const results = await Promise.all(['a', 'b', 'c'].map((who) => withLease(leases, 'conn-d', 'INVOICE#inv-1', wait, work(who))));
  expect(results.sort()).toEqual(['a', 'b', 'c']);
  // Never two starts in a row: each start is followed by its own end.
  for (let i = 0; i < events.length; i += 2) expect(events[i + 1]).toBe(events[i]!.replace(':start', ':end'));
});

it('withLease gives up with the busy error when the lease stays taken, and releases after a failure', async () => {
  const leases = repo();
  const held = await leases.tryAcquire('conn-e', 'INVOICE#inv-1', 60_000);
  const wait = { ttlMs: 60_000, waitMs: 100, pollMs: 20, busy: () => new Error('invoice busy') };
  await expect(withLease(leases, 'conn-e', 'INVOICE#inv-1', wait, async () => 'ran')).rejects.toThrow('invoice busy');
  await leases.release(held!);

  await expect(
    withLease(leases, 'conn-e', 'INVOICE#inv-1', wait, async () => {
      throw new Error('work failed');
    }),
  ).rejects.toThrow('work failed');
  // The failed work's lease was given back.
  await expect(withLease(leases, 'conn-e', 'INVOICE#inv-1', wait, async () => 'ran')).resolves.toBe('ran');
});

it('tells the next holder since when the lease has been quiet: its release, or the expiry of a holder that never released', async () => {
  let clock = 2_000_000;
  const leases = repo(() => clock);
  const first = await leases.tryAcquire('conn-quiet', 'INVOICE#inv-1', 5_000);
  expect(first?.quietSince).toBe(0); // never held before
  clock += 300;
  await leases.release(first!);
  clock += 10;
  const second = await leases.tryAcquire('conn-quiet', 'INVOICE#inv-1', 5_000);
  expect(second?.quietSince).toBe(2_000_300);
  // A holder that dies: the next one may only trust what happened after the lease ran out.
  clock += 6_000;
  const third = await leases.tryAcquire('conn-quiet', 'INVOICE#inv-1', 5_000);
  expect(third?.quietSince).toBe(2_000_310 + 5_000);
});
