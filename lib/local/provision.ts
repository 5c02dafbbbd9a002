import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { queues, topics } from '../topology';
import { retryScheduleOf, type QueueName } from '../../lambdas/settings/retry';
import { secretsTable, table } from '../../lambdas/settings/storage';

/** Credentials the embedded endpoints accept; they never leave this machine. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

export interface LocalEndpoints {
  readonly dynamodb: string;
  readonly sqs: string;
  readonly sns: string;
  /** fauxqs serves S3 beside SQS and SNS, path-style (buckets are not host names on 127.0.0.1). */
  readonly s3: string;
}

export interface ProvisionedQueue {
  readonly url: string;
  readonly arn: string;
  readonly deadLetterUrl: string;
  readonly deadLetterArn: string;
  /** The queue's slow lane (its name with `-slow`), where the topology gives it one. */
  readonly slowLane?: { readonly url: string; readonly arn: string };
}

export interface ProvisionedResources {
  readonly tableName: string;
  readonly secretsTableName: string;
  readonly queues: Record<QueueName, ProvisionedQueue>;
  readonly topicArns: Record<keyof typeof topics, string>;
  /** Payloads and results too large for the table (the stack's bodies bucket). */
  readonly bodiesBucket: string;
}

export interface ResourceNames {
  readonly table: string;
  readonly secretsTable: string;
  queue(name: QueueName): string;
  deadLetterQueue(name: QueueName): string;
  topic(name: keyof typeof topics): string;
  readonly bodiesBucket: string;
}

export function localClients(endpoints: LocalEndpoints) {
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  return {
    dynamodb: new DynamoDBClient({ ...common, endpoint: endpoints.dynamodb }),
    sqs: new SQSClient({ ...common, endpoint: endpoints.sqs }),
    sns: new SNSClient({ ...common, endpoint: endpoints.sns }),
    s3: new S3Client({ ...common, endpoint: endpoints.s3, forcePathStyle: true }),
  };
}

/**
 * Creates what `lib/topology.ts` describes, with the same settings the stack gives AWS: the
 * table with its keys, indexes and TTL; each queue with its DLQ and redrive policy; the topics;
 * the bodies bucket (without the lifecycle rules: fauxqs keeps objects in memory, gone at exit).
 * Idempotent, so a restart over a kept data directory finds the table already there.
 */
export async function provision(endpoints: LocalEndpoints, names: ResourceNames): Promise<ProvisionedResources> {
  const clients = localClients(endpoints);
  try {
    await createTable(clients.dynamodb, names.table);
    await createSecretsTable(clients.dynamodb, names.secretsTable);
    const provisionedQueues = {} as Record<QueueName, ProvisionedQueue>;
    for (const [name, spec] of Object.entries(queues) as [QueueName, (typeof queues)[QueueName]][]) {
      const dlq = await createQueue(clients.sqs, names.deadLetterQueue(name), {
        MessageRetentionPeriod: String(spec.deadLetter.retentionDays * 86_400),
      });
      const attributes = {
        VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(spec.retentionDays * 86_400),
        // The same schedule the consumer reads, so an override in the environment moves both.
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: retryScheduleOf(name, process.env).maxAttempts }),
      };
      const source = await createQueue(clients.sqs, names.queue(name), attributes);
      // The slow lane shares the DLQ, as on AWS.
      const slowLane = spec.slowLane ? await createQueue(clients.sqs, `${names.queue(name)}-slow`, attributes) : undefined;
      provisionedQueues[name] = { url: source.url, arn: source.arn, deadLetterUrl: dlq.url, deadLetterArn: dlq.arn, ...(slowLane ? { slowLane } : {}) };
    }
    const topicArns = {} as Record<keyof typeof topics, string>;
    for (const name of Object.keys(topics) as (keyof typeof topics)[]) {
      const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: names.topic(name) }));
      topicArns[name] = TopicArn!;
    }
    await createBucket(clients.s3, names.bodiesBucket);
    return { tableName: names.table, secretsTableName: names.secretsTable, queues: provisionedQueues, topicArns, bodiesBucket: names.bodiesBucket };
  } finally {
    clients.dynamodb.destroy();
    clients.sqs.destroy();
    clients.sns.destroy();
    clients.s3.destroy();
  }
}

async function createTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const indexes = Object.values(table.indexes);
  const attributes = new Set<string>([table.partitionKey, table.sortKey, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])]);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: table.partitionKey, KeyType: 'HASH' },
          { AttributeName: table.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: indexes.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: index.projection },
        })),
      }),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  }
}

async function createSecretsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [secretsTable.partitionKey, secretsTable.sortKey].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
        KeySchema: [
          { AttributeName: secretsTable.partitionKey, KeyType: 'HASH' },
          { AttributeName: secretsTable.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

async function createQueue(client: SQSClient, name: string, attributes: Record<string, string>) {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn! };
}

async function createBucket(client: S3Client, name: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } catch (error) {
    if (!(error instanceof BucketAlreadyOwnedByYou)) throw error;
  }
}
