import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { HeraldStack, type HeraldStackProps } from '../../lib/herald-stack';
import { table } from '../../lambdas/settings/storage';

function synth(props?: HeraldStackProps): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new HeraldStack(app, 'Herald', props));
}

const template = synth();

it('keys the table by the string pk and sk of the topology', () => {
  template.hasResourceProperties('AWS::DynamoDB::Table', {
    KeySchema: [
      { AttributeName: table.partitionKey, KeyType: 'HASH' },
      { AttributeName: table.sortKey, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: Match.arrayWith([
      { AttributeName: table.partitionKey, AttributeType: 'S' },
      { AttributeName: table.sortKey, AttributeType: 'S' },
    ]),
  });
});

it('bills on demand', () => {
  template.hasResourceProperties('AWS::DynamoDB::Table', { BillingMode: 'PAY_PER_REQUEST' });
});

it('expires items through the TTL attribute of the topology', () => {
  template.hasResourceProperties('AWS::DynamoDB::Table', {
    TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
  });
});

it('enables point-in-time recovery', () => {
  template.hasResourceProperties('AWS::DynamoDB::Table', {
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
  });
});

it.each(Object.values(table.indexes))('has the $name index with string keys projecting keys only', index => {
  template.hasResourceProperties('AWS::DynamoDB::Table', {
    GlobalSecondaryIndexes: Match.arrayWith([
      {
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ]),
    AttributeDefinitions: Match.arrayWith([
      { AttributeName: index.partitionKey, AttributeType: 'S' },
      { AttributeName: index.sortKey, AttributeType: 'S' },
    ]),
  });
});

it('encrypts with the AWS-owned key unless given a key', () => {
  // SSEEnabled false is how CloudFormation spells the AWS-owned key: tables are always encrypted.
  template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: false } });
});

it('encrypts with the customer-managed key it is given', () => {
  const withKey = synth({ tableEncryptionKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/table-key' });
  withKey.hasResourceProperties('AWS::DynamoDB::Table', {
    SSESpecification: {
      SSEEnabled: true,
      SSEType: 'KMS',
      KMSMasterKeyId: 'arn:aws:kms:eu-west-1:111111111111:key/table-key',
    },
  });
});

it('retains the table when the stack is deleted, by default', () => {
  template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
});

it('deletes the table with the stack only when asked to', () => {
  synth({ tableRemovalPolicy: RemovalPolicy.DESTROY }).hasResource('AWS::DynamoDB::Table', {
    DeletionPolicy: 'Delete',
  });
});

it('encrypts with a key construct from another stack', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const keyStack = new Stack(app, 'Keys');
  const key = new Key(keyStack, 'TableKey');
  const keyed = Template.fromStack(new HeraldStack(app, 'Herald', { tableEncryptionKey: key }));
  keyed.hasResourceProperties('AWS::DynamoDB::Table', {
    SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::ImportValue': Match.anyValue() } },
  });
});

describe('the bodies bucket', () => {
  it('encrypts its objects, blocks every public access and refuses requests without TLS', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('expires payloads after twice the request retention and results a day after it (30 days by default)', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'payload/', ExpirationInDays: 60, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'result/', ExpirationInDays: 31, Status: 'Enabled' }),
        ]),
      },
    });
  });

  it('follows the retention the operator sets', () => {
    synth({ requestRetentionDays: 7 }).hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: 'payload/', ExpirationInDays: 14 }), Match.objectLike({ Prefix: 'result/', ExpirationInDays: 8 })]),
      },
    });
  });

  it('encrypts under the customer-managed key it is given, with a bucket key so that a body costs no KMS request', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    synth({ tableEncryptionKeyArn: keyArn }).hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } },
        ],
      },
    });
  });

  it('is retained with the table when the stack is deleted, by default', () => {
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});
