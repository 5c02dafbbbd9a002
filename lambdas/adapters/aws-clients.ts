import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { S3Client } from '@aws-sdk/client-s3';
import { tracer } from './tracing';

// The SQS and SNS modules load with this one, as DynamoDB's do, except in the bundle of a function
// whose grants give it no queue or no topic: there the bundler makes the constant `omitted`
// (lib/constructs/functions.ts) and leaves the dead `require` out, so its initialisation never
// pays for a client it could not use.
const sqsSdk =
  process.env.HERALD_SQS_SDK !== 'omitted' ? (require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs')) : undefined;
const snsSdk =
  process.env.HERALD_SNS_SDK !== 'omitted' ? (require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns')) : undefined;
// S3's module loads on first use instead: most invocations of the functions granted the bodies
// bucket never meet a body kept there, and its initialisation would be paid by every cold start.
let s3Module: typeof import('@aws-sdk/client-s3') | undefined;
export function s3Sdk(): typeof import('@aws-sdk/client-s3') {
  if (process.env.HERALD_S3_SDK === 'omitted') return sdkOf<typeof import('@aws-sdk/client-s3')>(undefined, 'S3');
  s3Module ??= require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  return s3Module;
}

/** The SDK module of a service, or an error naming why this bundle has none. */
export function sdkOf<T>(sdk: T | undefined, service: 'SQS' | 'SNS' | 'S3'): T {
  if (!sdk) throw new Error(`This function is bundled without the ${service} client: its grants give it no ${service} access`);
  return sdk;
}

/**
 * One client per service per process, created on first use so that a warm Lambda reuses its
 * connections. Endpoints and region come from the standard SDK environment
 * (`AWS_REGION`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_SNS`,
 * `AWS_ENDPOINT_URL_S3`):
 * that is the only thing the local runtime changes. On AWS each client is captured by the
 * tracer, so X-Ray shows every call; elsewhere the tracer is off and hands the client back as is.
 */
let dynamo: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;
let sns: SNSClient | undefined;
let s3: S3Client | undefined;

export function dynamoClient(): DynamoDBDocumentClient {
  // The document client shares the base client's middleware stack, so capturing the base covers both.
  dynamo ??= DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return dynamo;
}

export function sqsClient(): SQSClient {
  // The regional endpoint is always right for our own queues; following the QueueUrl's host
  // instead only breaks emulators whose queue URLs use made-up host names.
  sqs ??= tracer.captureAWSv3Client(new (sdkOf(sqsSdk, 'SQS').SQSClient)({ useQueueUrlAsEndpoint: false }));
  return sqs;
}

export function snsClient(): SNSClient {
  sns ??= tracer.captureAWSv3Client(new (sdkOf(snsSdk, 'SNS').SNSClient)({}));
  return sns;
}

export function s3Client(): S3Client {
  // Virtual-hosted bucket addresses need DNS for every bucket name; an endpoint set in the
  // environment is the local runtime's, addressed by IP, which only path-style requests reach.
  s3 ??= tracer.captureAWSv3Client(new (s3Sdk().S3Client)({ forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined }));
  return s3;
}

/** Every client created so far, e.g. for a benchmark to count the calls they make. */
export function createdClients(): { dynamo: DynamoDBDocumentClient; sqs: SQSClient; sns: SNSClient; s3: S3Client } {
  return { dynamo: dynamoClient(), sqs: sqsClient(), sns: snsClient(), s3: s3Client() };
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set`);
  return value;
}
