/** The sync flow's own repositories, built from the process dependencies (one per process). */
import { type Dependencies } from '../runtime/dependencies';
import { BackfillRepository } from '../store/backfill';
import { DeliveryRepository } from '../store/deliveries';
import { LinkRepository } from '../store/links';
import { RegistrationSnapshotRepository } from '../store/registration-snapshots';

export interface SyncStores {
  links: LinkRepository;
  deliveries: DeliveryRepository;
  backfill: BackfillRepository;
  registrationSnapshots: RegistrationSnapshotRepository;
}

const cache = new WeakMap<Dependencies, SyncStores>();

export function syncStores(deps: Pick<Dependencies, 'db' | 'config'>): SyncStores {
  const hit = cache.get(deps as Dependencies);
  if (hit) return hit;
  const stores: SyncStores = {
    links: new LinkRepository(deps.db, deps.config.connectorTableName),
    deliveries: new DeliveryRepository(deps.db, deps.config.connectorTableName),
    backfill: new BackfillRepository(deps.db, deps.config.connectorTableName),
    registrationSnapshots: new RegistrationSnapshotRepository(deps.db, deps.config.connectorTableName),
  };
  cache.set(deps as Dependencies, stores);
  return stores;
}
