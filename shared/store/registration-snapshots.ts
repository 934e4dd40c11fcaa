/**
 * The customers' tax registrations as a backfill run read them, one item per registration
 * (`REGSNAP#<runId>#<customerId>#<registrationId>`, ttl 7 days). Sequence has no per-customer
 * filter on `GET /tax-registrations`, so reading each customer's registrations separately cost
 * one call per customer; a backfill now pages through all of them once (100 per call) and the
 * customer-sync worker reads its customer's from here. Writes are puts keyed by registration id,
 * so a page read twice (a crash, a duplicate message) writes the same items.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { type TaxRegistration } from '../sequence';
import { connectionPk, ttlAfterSeconds } from './keys';
import { ConnectorTableRepository, queryAllByPrefix } from './query';

export const REGISTRATION_SNAPSHOT_RETENTION_SECONDS = 7 * 24 * 3600;

/** The registration fields the Sphere mapping and the tax flow read. */
export type SnapshotRegistration = Pick<TaxRegistration, 'id' | 'sequenceAccountId' | 'taxIdentifier' | 'country' | 'state'> & { customerId: string };

const prefix = (runId: string, customerId: string) => `REGSNAP#${runId}#${customerId}#`;

export class RegistrationSnapshotRepository extends ConnectorTableRepository {
  async putPage(connectionId: string, runId: string, registrations: readonly SnapshotRegistration[]): Promise<void> {
    const ttl = ttlAfterSeconds(REGISTRATION_SNAPSHOT_RETENTION_SECONDS);
    const requests = registrations.map((r) => ({
      PutRequest: { Item: { PK: connectionPk(connectionId), SK: `${prefix(runId, r.customerId)}${r.id}`, ttl, registration: r } },
    }));
    for (let i = 0; i < requests.length; i += 25) {
      let pending: typeof requests | undefined = requests.slice(i, i + 25);
      // Unprocessed items are retried (with a short pause) until DynamoDB takes them.
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
        if (attempt > 8) throw new Error('DynamoDB kept leaving registration snapshot items unprocessed');
        const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = out.UnprocessedItems?.[this.tableName] as typeof requests | undefined;
      }
    }
  }

  async forCustomer(connectionId: string, runId: string, customerId: string): Promise<SnapshotRegistration[]> {
    const items = await queryAllByPrefix(this.db, this.tableName, connectionPk(connectionId), prefix(runId, customerId));
    return items.map((item) => item.registration as SnapshotRegistration);
  }
}
