/**
 * Links between Sequence records and their Sphere copies, one item per record under the
 * connection's partition (`CUSTOMER#<sequenceId>`, `PRODUCT#<sequenceId>`). A link remembers the
 * content hash of what was last written to Sphere, so an unchanged record is never written again,
 * and (for customers) the tax status and registrations hash, so an exemption change is noticed.
 */
import { BatchGetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConnectorError } from '../domain/errors';
import { type ExpectedCustomerEcho } from '../domain/customer-echo';
import { type SequenceTaxStatus } from '../domain/customer-mapping';
import { SK, connectionPk } from './keys';
import { ConnectorTableRepository, queryAllByPrefix, withoutKeys } from './query';

export interface LinkPageOptions {
  limit: number;
  /** The last id of the previous page. */
  after?: string;
}

export interface LinkPage<T> {
  items: T[];
  /** Set when more may follow: pass it as `after` for the next page. */
  lastId?: string;
}

export interface CustomerLink {
  connectionId: string;
  customerId: string;
  /** Sphere's external_id for the customer (the Sequence id). */
  sphereCustomerId: string;
  /** Hash of the Sphere body last written; absent for a link that never reached Sphere. */
  contentHash?: string;
  taxStatus?: SequenceTaxStatus;
  registrationsHash?: string;
  /** The Sequence customer carries `integrationIds: [{service: "Sphere", id}]`. */
  tagged?: boolean;
  /** Set by our tag PUT: the CUSTOMER_UPDATED it causes is skipped once (shared/domain/customer-echo.ts). */
  expectedEcho?: ExpectedCustomerEcho;
  archived: boolean;
  archivedAt?: string;
  lastSyncedAt: string;
}

export interface ProductLink {
  connectionId: string;
  productId: string;
  sphereProductId: string;
  /** Absent once invalidated (the Sphere copy was found missing). */
  contentHash?: string;
  taxCode: string;
  taxCategoryId?: string;
  lastSyncedAt: string;
}

/** BatchGetItem takes at most 100 keys a request. */
const BATCH_GET_MAX_KEYS = 100;
/** Rounds of keys DynamoDB left unprocessed (throttling) before giving up: the caller retries later. */
const BATCH_GET_ATTEMPTS = 5;

export class LinkRepository extends ConnectorTableRepository {
  getCustomer(connectionId: string, customerId: string): Promise<CustomerLink | undefined> {
    return this.getItem<CustomerLink>(connectionId, SK.customer(customerId));
  }

  async putCustomer(link: CustomerLink): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { PK: connectionPk(link.connectionId), SK: SK.customer(link.customerId), ...link } }));
  }

  /**
   * Take the expected echo away if it still has this fingerprint: true for exactly one caller, so
   * two deliveries of the echo (or an echo racing a full sync, which rewrites the link) skip at most once.
   */
  async consumeExpectedEcho(connectionId: string, customerId: string, fingerprint: string): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: connectionPk(connectionId), SK: SK.customer(customerId) },
          UpdateExpression: 'REMOVE expectedEcho',
          ConditionExpression: 'expectedEcho.fingerprint = :fingerprint',
          ExpressionAttributeValues: { ':fingerprint': fingerprint },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  /**
   * The customer was found as the link has it (same content hash): record that it was checked now,
   * as a full sync would. A link rewritten meanwhile (another hash) is left alone.
   */
  async touchCustomer(connectionId: string, customerId: string, contentHash: string, at: string): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { PK: connectionPk(connectionId), SK: SK.customer(customerId) },
          UpdateExpression: 'SET lastSyncedAt = :at',
          ConditionExpression: 'contentHash = :hash AND lastSyncedAt < :at',
          ExpressionAttributeValues: { ':hash': contentHash, ':at': at },
        }),
      )
      .catch((error: unknown) => {
        if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
      });
  }

  /** CUSTOMER_ARCHIVED: keep what we know, flag it archived (creates a bare link when none exists). */
  async markCustomerArchived(connectionId: string, customerId: string, archivedAt: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: connectionPk(connectionId), SK: SK.customer(customerId) },
        UpdateExpression:
          'SET archived = :true, archivedAt = if_not_exists(archivedAt, :at), lastSyncedAt = :now, connectionId = :c, customerId = :id, sphereCustomerId = if_not_exists(sphereCustomerId, :id)',
        ExpressionAttributeValues: { ':true': true, ':at': archivedAt, ':now': new Date().toISOString(), ':c': connectionId, ':id': customerId },
      }),
    );
  }

  /** Forget what was written (the Sphere copy is gone): the next sync writes again. */
  async invalidateCustomer(connectionId: string, customerId: string): Promise<void> {
    await this.invalidate(connectionId, SK.customer(customerId));
  }

  async invalidateProduct(connectionId: string, productId: string): Promise<void> {
    await this.invalidate(connectionId, SK.product(productId));
  }

  private async invalidate(connectionId: string, sk: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { PK: connectionPk(connectionId), SK: sk },
        UpdateExpression: 'REMOVE contentHash',
        ConditionExpression: 'attribute_exists(PK)',
      }),
    ).catch((error: unknown) => {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    });
  }

  getProduct(connectionId: string, productId: string): Promise<ProductLink | undefined> {
    return this.getItem<ProductLink>(connectionId, SK.product(productId));
  }

  /**
   * A customer's link and its products' links in one round trip (BatchGetItem, strongly consistent,
   * 100 keys a request): what an invoice's tax calculation compares with what Sequence shows.
   */
  async getCustomerAndProducts(connectionId: string, customerId: string, productIds: readonly string[]): Promise<{ customer?: CustomerLink; products: Map<string, ProductLink | undefined> }> {
    const pk = connectionPk(connectionId);
    const ids = [...new Set(productIds)];
    let keys: Record<string, string>[] = [{ PK: pk, SK: SK.customer(customerId) }, ...ids.map((id) => ({ PK: pk, SK: SK.product(id) }))];
    const found = new Map<string, Record<string, unknown>>();
    const keyless = <T>(item: Record<string, unknown> | undefined) => (item ? withoutKeys<T>(item) : undefined);
    for (let unprocessedRounds = 0; keys.length > 0; ) {
      const out = await this.db.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys.slice(0, BATCH_GET_MAX_KEYS), ConsistentRead: true } } }));
      for (const item of out.Responses?.[this.tableName] ?? []) found.set(String(item.SK), item);
      const unprocessed = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, string>[];
      keys = [...unprocessed, ...keys.slice(BATCH_GET_MAX_KEYS)];
      if (unprocessed.length === 0) continue;
      // Throttled: a short pause, then the keys again; a table that keeps refusing is a retryable failure.
      if (++unprocessedRounds >= BATCH_GET_ATTEMPTS) throw new ConnectorError('retryable', 'dynamodb_throttled', `DynamoDB left ${unprocessed.length} link reads unprocessed ${BATCH_GET_ATTEMPTS} times`);
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** unprocessedRounds));
    }
    return {
      customer: keyless<CustomerLink>(found.get(SK.customer(customerId))),
      products: new Map(ids.map((id) => [id, keyless<ProductLink>(found.get(SK.product(id)))])),
    };
  }

  async putProduct(link: ProductLink): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { PK: connectionPk(link.connectionId), SK: SK.product(link.productId), ...link } }));
  }

  async listCustomers(connectionId: string): Promise<CustomerLink[]> {
    return this.listByPrefix<CustomerLink>(connectionId, 'CUSTOMER#');
  }

  async listProducts(connectionId: string): Promise<ProductLink[]> {
    return this.listByPrefix<ProductLink>(connectionId, 'PRODUCT#');
  }

  /** One page of customer links in id order; `after` is the last id of the previous page. */
  async pageCustomers(connectionId: string, options: LinkPageOptions): Promise<LinkPage<CustomerLink>> {
    return this.pageByPrefix<CustomerLink>(connectionId, 'CUSTOMER#', options);
  }

  async pageProducts(connectionId: string, options: LinkPageOptions): Promise<LinkPage<ProductLink>> {
    return this.pageByPrefix<ProductLink>(connectionId, 'PRODUCT#', options);
  }

  private async pageByPrefix<T>(connectionId: string, prefix: string, options: LinkPageOptions): Promise<LinkPage<T>> {
    const pk = connectionPk(connectionId);
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
        ...(options.after !== undefined ? { ExclusiveStartKey: { PK: pk, SK: `${prefix}${options.after}` } } : {}),
        Limit: options.limit,
        ConsistentRead: true,
      }),
    );
    const lastSk = out.LastEvaluatedKey?.SK;
    return {
      items: (out.Items ?? []).map((item) => withoutKeys<T>(item)),
      ...(typeof lastSk === 'string' ? { lastId: lastSk.slice(prefix.length) } : {}),
    };
  }

  private async listByPrefix<T>(connectionId: string, prefix: string): Promise<T[]> {
    return (await queryAllByPrefix(this.db, this.tableName, connectionPk(connectionId), prefix)).map((item) => withoutKeys<T>(item));
  }
}
