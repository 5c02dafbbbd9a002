import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { secretsTable as secretsTableSpec, table as tableSpec } from '../../lambdas/settings/storage';

export interface StorageProps {
  readonly removalPolicy: RemovalPolicy;
  /** Customer-managed key; without one the table uses the AWS-owned key (no KMS cost or key policy to manage). */
  readonly encryptionKey?: IKey;
  /** Days a finished request is kept (`requestRetentionDays`): its bodies in the bucket expire with it. */
  readonly requestRetentionDays: number;
}

/** The one table that is Herald's source of truth: requests, keys, merchants, endpoints, deliveries. */
export class Storage extends Construct {
  readonly table: Table;
  /** Webhook signing secrets, granted only to the functions that manage or sign with them. */
  readonly secretsTable: Table;
  /** Payloads and results too large for the table, granted by kind to the functions that read or write them. */
  readonly bodiesBucket: Bucket;

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

    // Objects outlive their request as the table's body items would: a payload twice the retention
    // from submission (its request may stay open a while), a result one day past its request's
    // expiry, so a reader never meets a request whose body is already gone.
    this.bodiesBucket = new Bucket(this, 'BodiesBucket', {
      ...(props.encryptionKey
        ? { encryption: BucketEncryption.KMS, encryptionKey: props.encryptionKey, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [
        { id: 'payloads', prefix: 'payload/', expiration: Duration.days(2 * props.requestRetentionDays) },
        { id: 'results', prefix: 'result/', expiration: Duration.days(props.requestRetentionDays + 1) },
        { id: 'unfinished-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: props.removalPolicy,
      autoDeleteObjects: false,
    });
    Validations.of(this.bodiesBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only Herald\'s function roles reach this bucket, one PutObject or GetObject per large body; server access logs would write a log object per request ' +
        'into another bucket for what CloudTrail data events give on demand, and the request history in the table already records who submitted each body.',
    });
  }
}
