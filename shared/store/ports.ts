/**
 * The narrow faces of the repositories: each names just the methods a flow calls. Flows take these
 * instead of the concrete DynamoDB classes, so the factory's repositories (shared/runtime/dependencies.ts)
 * and the in-memory fakes of test/support/fakes/store.ts both fit.
 */
import { type BackfillRepository } from './backfill';
import { type ConnectionRepository } from './connections';
import { type DeliveryRepository } from './deliveries';
import { type FailureRepository } from '../failures/records';
import { type LeaseRepository } from './leases';
import { type LinkRepository } from './links';
import { type RegistrationSnapshotRepository } from './registration-snapshots';
import { type TaxRecordRepository } from './tax-records';
import { type TransactionRepository } from './transactions';

export type ConnectionLookup = Pick<ConnectionRepository, 'get'>;
export type ConnectionCounters = Pick<ConnectionRepository, 'increment'>;
/** The connection's status and fields as the admin flows and the native-integration scan change them. */
export type ConnectionUpdates = Pick<ConnectionRepository, 'update' | 'setStatus'>;
/** The backfill progress the connection shows ({state, done, total}). */
export type ConnectionBackfillProgress = Pick<ConnectionRepository, 'setBackfill'>;
/** Connect and disconnect: the record and its Sequence account lock. */
export type ConnectionRegistry = Pick<ConnectionRepository, 'list' | 'create' | 'releaseAccount'>;
/** A backfill run's state (shared/store/backfill.ts), the source of truth of its page chain. */
export type BackfillRunStore = Pick<BackfillRepository, 'get' | 'start' | 'advance'>;
/** Failure records as the flows write them (the admin routes list them through the repository). */
export type FailureLog = Pick<FailureRepository, 'record' | 'resolve' | 'get' | 'recordWarning'>;
export type LeaseStore = Pick<LeaseRepository, 'tryAcquire' | 'release'>;
/** The Sphere links the ensure step reads and writes. */
export type SphereLinkStore = Pick<LinkRepository, 'getCustomer' | 'putCustomer' | 'touchCustomer' | 'getProduct' | 'putProduct' | 'getCustomerAndProducts'>;
export type RegistrationSnapshotReader = Pick<RegistrationSnapshotRepository, 'forCustomer'>;
export type RegistrationSnapshotWriter = Pick<RegistrationSnapshotRepository, 'putPage'>;
/** The customer-sync worker's own link calls: the echo of our tag, the archive mark. */
export type CustomerLinkMarks = Pick<LinkRepository, 'consumeExpectedEcho' | 'markCustomerArchived'>;
/** The links the drift sweep walks, and invalidates when Sphere lost the record. */
export type LinkSweep = Pick<LinkRepository, 'listCustomers' | 'listProducts' | 'invalidateCustomer' | 'invalidateProduct'>;
export type DeliveryClaims = Pick<DeliveryRepository, 'claim' | 'release' | 'countIgnored'>;
export type TaxRecordStore = Pick<TaxRecordRepository, 'get' | 'put'>;
export type TransactionStore = Pick<TransactionRepository, 'get' | 'putRecorded' | 'markCancelled'>;
