import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { secretsTable as secretsTableSpec, table as tableSpec } from '../../lambdas/settings/storage';

export interface StorageProps {
  readonly removalPolicy: RemovalPolicy;
  /** Customer-managed key; without one the table uses the AWS-owned key (no KMS cost or key policy to manage). */
  readonly encryptionKey?: IKey;
}

/** The one table that is Herald's source of truth: requests, keys, merchants, endpoints, deliveries. */
export class Storage extends Construct {
  readonly table: Table;
  /** Webhook signing secrets, granted only to the functions that manage or sign with them. */
  readonly secretsTable: Table;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);

    // Table (not TableV2) because cdk-nag's point-in-time-recovery rule inspects AWS::DynamoDB::Table only.
    this.table = new Table(this, 'Table', {
      partitionKey: { name: tableSpec.partitionKey, type: AttributeType.STRING },
      sortKey: { name: tableSpec.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: tableSpec.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: TableEncryption.DEFAULT }),
      removalPolicy: props.removalPolicy,
    });

    for (const index of Object.values(tableSpec.indexes)) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType[index.projection],
      });
    }

    // A table of its own rather than field encryption under a KMS key: IAM scopes a table as
    // tightly as a key, and it costs no KMS request per delivery (see docs/stack.md).
    this.secretsTable = new Table(this, 'SecretsTable', {
      partitionKey: { name: secretsTableSpec.partitionKey, type: AttributeType.STRING },
      sortKey: { name: secretsTableSpec.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      ...(props.encryptionKey
        ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
        : { encryption: TableEncryption.DEFAULT }),
      removalPolicy: props.removalPolicy,
    });
  }
}
