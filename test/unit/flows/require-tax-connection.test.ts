/**
 * The synchronous tax entry points' connection guard (shared/tax/synchronous.ts): the secret read
 * starts beside the lookup, but only for an id that can exist — a hostile path id must not reach
 * the vault.
 */
import { requireTaxConnection } from '../../../shared/tax/synchronous';
import { type FakeWorld, fakeWorld } from '../../support/fakes';

let w: FakeWorld;
let prefetched: string[];

beforeEach(() => {
  w = fakeWorld();
  prefetched = [];
  w.ctx.deps.prefetchCredentials = (id) => void prefetched.push(id);
});

it('starts the secret read of a stored connection beside its lookup and answers the connection', async () => {
  await expect(requireTaxConnection(w.ctx, w.connection.id)).resolves.toMatchObject({ id: w.connection.id });
  expect(prefetched).toEqual([w.connection.id]);
});

it('answers connection_not_found for an id that cannot exist without reading any secret', async () => {
  for (const hostile of ['..', '../secrets', 'x'.repeat(10_000)]) {
    await expect(requireTaxConnection(w.ctx, hostile)).rejects.toMatchObject({ code: 'connection_not_found' });
  }
  expect(prefetched).toEqual([]);
});

it('refuses a disconnected connection', async () => {
  w = fakeWorld({ status: 'DISCONNECTED' });
  await expect(requireTaxConnection(w.ctx, w.connection.id)).rejects.toMatchObject({ code: 'connection_disconnected' });
});
