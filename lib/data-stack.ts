import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2, type ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { CONNECTOR_TABLE, IDEMPOTENCY_TABLE } from '../shared/store/keys';
import type { StageConfig } from './stage-config';

export interface DataStackProps extends StackProps {
  readonly config: StageConfig;
}

/** What holds the connector's data, as the data stack hands it to the service stack. */
export interface ConnectorData {
  /** Single-table store: connections, links, invoice tax records, audit log (`PK`/`SK`, `GSI1`, TTL `ttl`). */
  readonly connectorTable: ITableV2;
  /** Powertools idempotency records (`id`, TTL `expiration`), kept apart from the connector table. */
  readonly idempotencyTable: ITableV2;
  /** Name prefix of per-connection secrets, e.g. `sphere-connector/sandbox/connections/`. */
  readonly secretsPrefix: string;
}

/**
 * What holds data. This stack changes rarely and is never replaced: tables here are retained in
 * production (deletion protection on) and always have point-in-time recovery.
 *
 * Secrets are *not* created here: one secret per connection is written by the connect flow at runtime,
 * under `secretsPrefix`. The stack only publishes the prefix so the service stack can scope IAM to it.
 */
export class DataStack extends Stack implements ConnectorData {
  public readonly connectorTable: ITableV2;
  public readonly idempotencyTable: ITableV2;
  public readonly secretsPrefix: string;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config } = props;

    const common = {
      billing: Billing.onDemand(),
      encryption: TableEncryptionV2.awsManagedKey(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: config.deletionProtection,
      removalPolicy: config.dataRemovalPolicy,
    } as const;

    this.connectorTable = new TableV2(this, 'ConnectorTable', {
      ...common,
      partitionKey: { name: CONNECTOR_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: CONNECTOR_TABLE.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: CONNECTOR_TABLE.timeToLiveAttribute,
      globalSecondaryIndexes: CONNECTOR_TABLE.indexes.map((index) => ({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.ALL,
      })),
    });

    this.idempotencyTable = new TableV2(this, 'IdempotencyTable', {
      ...common,
      partitionKey: { name: IDEMPOTENCY_TABLE.partitionKey, type: AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_TABLE.timeToLiveAttribute,
    });

    this.secretsPrefix = config.secretsPrefix;

    new CfnOutput(this, 'ConnectorTableName', { value: this.connectorTable.tableName });
    new CfnOutput(this, 'IdempotencyTableName', { value: this.idempotencyTable.tableName });
    new CfnOutput(this, 'SecretsPrefix', { value: this.secretsPrefix });
  }
}
