import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '../../lambdas/settings/environment';
import { functions, type FunctionName, type FunctionSpec, type Grants } from '../topology';
import { keyPartitions } from '../../lambdas/settings/storage';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambdas/settings/observability';
import { type QueueName } from '../../lambdas/settings/retry';
import { SMS_PUBLISH_SID } from './nag-acknowledgements';
import { pascalCase, upperSnakeCase } from './naming';
import { tableStatements } from './table-access';
import type { Notifications } from './notifications';
import type { WorkQueues } from './work-queues';

/** Marks the statement that lets a function read (or make) the status token secret. */
export const STATUS_TOKEN_SECRET_SID = 'StatusTokenSecret';
export const DELIVERY_MESSAGE_KEY_SID = 'DeliveryMessageKey';

/** Marks the statement that denies publishing to any topic that is not Herald's. */
export const FOREIGN_TOPICS_DENY_SID = 'DenyPublishToForeignTopics';

/** Where topology entry paths are relative to: two folders up from lib/constructs. */
const projectRoot = path.resolve(__dirname, '..', '..');

export interface FunctionsProps {
  readonly table: ITable;
  readonly secretsTable: ITable;
  /** Payloads and results too large for the table, granted by kind (topology `bodies`). */
  readonly bodiesBucket: IBucket;
  readonly queues: WorkQueues;
  readonly notifications: Notifications;
  /** Operator settings every function reads from its environment (retry scale, TTLs, allowed hosts…). */
  readonly settings: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** X-Ray active tracing of every function (stack prop `tracing`). */
  readonly tracing: boolean;
  /** Reserved concurrency instead of the topology's, per function (stack prop `eventStreamConcurrency`). */
  readonly reservedConcurrency?: Partial<Record<FunctionName, number>>;
  /** Request emails sent with SES from this verified identity (stack prop `emailSenderIdentity`). @default through the topic */
  readonly directEmail?: DirectEmailGrant;
}

/** What the functions that mail requesters may send: `ses:SendEmail` on one identity, from one address. */
export interface DirectEmailGrant {
  readonly identityArn: string;
  readonly fromAddress: string;
}

/** The Sid of the statement that lets a function send request emails with SES. */
export const SEND_REQUEST_EMAIL_SID = 'SendRequestEmails';

/** The protocols of the subscriptions Herald makes: email recipients and operations contacts by email or SMS. */
export const SUBSCRIBED_PROTOCOLS = ['email', 'sms'] as const;

/**
 * One Lambda function per topology entry, each with exactly the grants its spec lists and the
 * environment variables naming those resources: a function cannot reach what it was not given.
 */
export class Functions extends Construct {
  readonly byName: ReadonlyMap<FunctionName, NodejsFunction>;

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const byName = new Map<FunctionName, NodejsFunction>();
    for (const [name, spec] of Object.entries(functions) as [FunctionName, FunctionSpec][]) {
      byName.set(name, this.render(name, spec, props));
    }
    this.byName = byName;
  }

  get(name: FunctionName): NodejsFunction {
    const fn = this.byName.get(name);
    if (!fn) throw new Error(`Function ${name} is not in the topology`);
    return fn;
  }

  private render(name: FunctionName, spec: FunctionSpec, props: FunctionsProps): NodejsFunction {
    const baseId = pascalCase(name);
    const logGroup = new LogGroup(this, `${baseId}LogGroup`, { retention: props.logRetention });
    // An own role instead of the default one: the default attaches AWSLambdaBasicExecutionRole
    // (logs on every log group of the account); this one writes only to the function's log group.
    const role = new Role(this, `${baseId}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Herald ${name} function`,
    });
    logGroup.grantWrite(role);

    const fn = new NodejsFunction(this, `${baseId}Function`, {
      entry: path.join(projectRoot, spec.entry),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      description: spec.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      ...reservedConcurrencyOf(name, spec, props),
      ...(props.tracing ? { tracing: Tracing.ACTIVE } : {}),
      role,
      logGroup,
      // JSON lets Lambda filter by level; at WARN its own START/END/REPORT lines (about 440
      // bytes an invocation, more than the function's own INFO line) are not ingested. Duration
      // and memory stay in the function's CloudWatch metrics; errors and timeouts still log.
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[props.logLevel],
      systemLogLevelV2: SystemLogLevel.WARN,
      environment: {
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.settings,
        ...resourceEnvironment(spec, props),
      },
      bundling: {
        minify: true,
        sourceMap: true,
        // Maps to file and line without a copy of every source: Node parses the whole map at load
        // (NODE_OPTIONS=--enable-source-maps), and the sources made it 900 KB instead of 150 KB,
        // 10 to 15 ms of every initialisation (`npm run bench:coldstart`).
        sourcesContent: false,
        target: 'node24',
        format: OutputFormat.CJS,
        define: bundleConstants(name),
      },
    });
    this.grant(fn, name, spec, props);
    return fn;
  }

  private grantBodies(fn: NodejsFunction, grants: Grants, bucket: IBucket): void {
    for (const statement of bodyStatements(grants, bucket)) fn.addToRolePolicy(statement);
    // A bucket under the operator's key: its objects are encrypted and read through that key.
    if (grants.bodies?.write?.length) bucket.encryptionKey?.grantEncryptDecrypt(fn);
    else if (grants.bodies?.read?.length) bucket.encryptionKey?.grantDecrypt(fn);
  }

  private grant(fn: NodejsFunction, name: FunctionName, spec: FunctionSpec, props: FunctionsProps): void {
    const { grants } = spec;
    if (grants.table) for (const statement of tableStatements(props.table, name, grants.table)) fn.addToRolePolicy(statement);
    if (grants.tableWritesUnder?.length) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
          resources: [props.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': grants.tableWritesUnder.map((prefix) => `${prefix}*`) } },
        }),
      );
    }
    if (grants.statusTokenSecret) {
      fn.addToRolePolicy(
        new PolicyStatement({
          sid: STATUS_TOKEN_SECRET_SID,
          actions: grants.statusTokenSecret === 'create' ? ['dynamodb:GetItem', 'dynamodb:PutItem'] : ['dynamodb:GetItem'],
          resources: [props.secretsTable.tableArn],
          conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [keyPartitions.statusTokenSecret] } },
        }),
      );
    } else if (grants.secrets) {
      // The signing secrets' holders may not read the status token secret beside them: whoever
      // reads it can mint a status link to any request. They never scan the table either.
      fn.addToRolePolicy(
        new PolicyStatement({
          effect: Effect.DENY,
          actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
          resources: [props.secretsTable.tableArn],
          conditions: { 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': [keyPartitions.statusTokenSecret] } },
        }),
      );
      fn.addToRolePolicy(new PolicyStatement({ effect: Effect.DENY, actions: ['dynamodb:Scan'], resources: [props.secretsTable.tableArn] }));
    }
    if (handlesDeliveryMessages(spec)) {
      // Every sender seals its messages and the consumer checks them (lambdas/core/webhooks/delivery-message-seal.ts):
      // each reads the key's one item, and the first sender makes it.
      fn.addToRolePolicy(
        new PolicyStatement({
          sid: DELIVERY_MESSAGE_KEY_SID,
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
          resources: [props.secretsTable.tableArn],
          conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [keyPartitions.deliveryMessageKey] } },
        }),
      );
    }
    if (grants.countsWaitingCalls && grants.table !== 'readWrite') {
      // One item per merchant, one attribute: IAM holds the function to exactly that write.
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['dynamodb:UpdateItem'],
          resources: [props.table.tableArn],
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['MER#*'] },
            'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'calls'] },
          },
        }),
      );
    }
    this.grantBodies(fn, grants, props.bodiesBucket);
    if (grants.secrets === 'read') props.secretsTable.grantReadData(fn);
    if (grants.secrets === 'readWrite') props.secretsTable.grantReadWriteData(fn);
    for (const [queueName, access] of Object.entries(grants.queues ?? {}) as [QueueName, string][]) {
      const { queue, slowLane } = props.queues.get(queueName);
      if (access === 'send' || access === 'sendAndConsume') queue.grantSendMessages(fn);
      // Consume includes sqs:ChangeMessageVisibility, which the retry backoff relies on.
      if (access === 'consume' || access === 'sendAndConsume') queue.grantConsumeMessages(fn);
      // The consumer hands slow messages to the slow lane and consumes them from there.
      if (slowLane && access !== 'send') {
        slowLane.grantSendMessages(fn);
        slowLane.grantConsumeMessages(fn);
      }
    }
    for (const topicName of grants.publishesTo ?? []) props.notifications.get(topicName).grantPublish(fn);
    for (const topicName of grants.managesSubscriptionsOf ?? []) {
      const { topicArn } = props.notifications.get(topicName);
      // Only the protocols Herald subscribes: an https, lambda or sqs subscriber would receive every
      // merchant's notices, so such a Subscribe is refused even if a caller were tricked into it.
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['sns:Subscribe'],
          resources: [topicArn],
          conditions: { StringEquals: { 'sns:Protocol': [...SUBSCRIBED_PROTOCOLS] } },
        }),
      );
      // Listing finds the subscription an address already has, to share it (see SnsNotificationTopic).
      fn.addToRolePolicy(new PolicyStatement({ actions: ['sns:ListSubscriptionsByTopic'], resources: [topicArn] }));
      // A subscription's ARN is its topic's ARN and an id SNS picks: only a wildcard after the topic names them.
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['sns:GetSubscriptionAttributes', 'sns:SetSubscriptionAttributes', 'sns:Unsubscribe'],
          resources: [`${topicArn}:*`],
        }),
      );
    }
    // The functions that text requesters mail them too: from the operator's identity and address only.
    if (grants.sendsSms && props.directEmail) {
      fn.addToRolePolicy(
        new PolicyStatement({
          sid: SEND_REQUEST_EMAIL_SID,
          actions: ['ses:SendEmail'],
          resources: [props.directEmail.identityArn],
          conditions: { StringEquals: { 'ses:FromAddress': props.directEmail.fromAddress } },
        }),
      );
    }
    // SMS to a phone number is a Publish without a topic: IAM offers no resource to scope it to.
    // The Sid marks the one statement whose wildcard is acknowledged for that reason.
    if (grants.sendsSms) {
      fn.addToRolePolicy(new PolicyStatement({ sid: SMS_PUBLISH_SID, actions: ['sns:Publish'], resources: ['*'] }));
      // The wildcard above would also reach every topic of every account. This deny takes that
      // back for every topic but Herald's own. A Publish to a phone number names no resource, so
      // it carries no aws:ResourceAccount and the condition keeps the deny off SMS.
      fn.addToRolePolicy(
        new PolicyStatement({
          sid: FOREIGN_TOPICS_DENY_SID,
          effect: Effect.DENY,
          actions: ['sns:Publish'],
          notResources: [...props.notifications.byName.values()].map((topic) => topic.topicArn),
          conditions: { Null: { 'aws:ResourceAccount': 'false' } },
        }),
      );
    }
  }
}

/**
 * Gets and puts of single objects under the kinds' prefixes, and nothing on the bucket itself: no
 * s3:ListBucket (it would list every merchant's request ids), no delete (the lifecycle rules expire bodies).
 */
function bodyStatements(grants: Grants, bucket: IBucket): PolicyStatement[] {
  const statements: PolicyStatement[] = [];
  const read = grants.bodies?.read ?? [];
  const write = grants.bodies?.write ?? [];
  if (read.length) statements.push(new PolicyStatement({ actions: ['s3:GetObject'], resources: read.map((kind) => bucket.arnForObjects(`${kind}/*`)) }));
  if (write.length) statements.push(new PolicyStatement({ actions: ['s3:PutObject'], resources: write.map((kind) => bucket.arnForObjects(`${kind}/*`)) }));
  return statements;
}

function reservedConcurrencyOf(name: FunctionName, spec: FunctionSpec, props: FunctionsProps): { reservedConcurrentExecutions?: number } {
  const reserved = props.reservedConcurrency?.[name] ?? spec.reservedConcurrency;
  if (reserved === undefined) return {};
  if (!Number.isInteger(reserved) || reserved < 1) throw new RangeError(`The reserved concurrency of ${name} must be a whole number of 1 or more, got ${reserved}`);
  return { reservedConcurrentExecutions: reserved };
}

/**
 * Functions whose AWS clients are captured for X-Ray. None today: the X-Ray SDK adds about 120 KB
 * and a third of the module initialisation to a bundle, and Herald's functions make one to four
 * calls each, which the call counts of `npm run bench:lifecycle` and Lambda's own active tracing
 * (invocation, initialisation, the queue hop) already explain. Add a function here when its calls
 * need a subsegment each.
 */
export const XRAY_SDK_FUNCTIONS: ReadonlySet<FunctionName> = new Set<FunctionName>();

/**
 * Constants esbuild writes into a function's bundle: code behind a constant that is false there
 * is left out of the bundle, `require` included (see lambdas/adapters/tracing.ts and
 * lambdas/adapters/aws-clients.ts). The SQS and SNS clients follow the function's grants: a
 * function that may not call a service does not load its client at initialisation (about 20 ms of
 * CPU each on top of DynamoDB's, `npm run bench:coldstart`), and could not use it anyway.
 */
export function bundleConstants(name: FunctionName): Record<string, string> {
  const { grants } = functions[name];
  const callsSqs = Object.keys(grants.queues ?? {}).length > 0;
  const callsSns = (grants.publishesTo?.length ?? 0) > 0 || (grants.managesSubscriptionsOf?.length ?? 0) > 0 || grants.sendsSms === true;
  return {
    'process.env.HERALD_XRAY_SDK': JSON.stringify(XRAY_SDK_FUNCTIONS.has(name) ? 'bundled' : 'omitted'),
    'process.env.HERALD_SQS_SDK': JSON.stringify(callsSqs ? 'loaded' : 'omitted'),
    'process.env.HERALD_SNS_SDK': JSON.stringify(callsSns ? 'loaded' : 'omitted'),
    'process.env.HERALD_S3_SDK': JSON.stringify(grants.bodies ? 'loaded' : 'omitted'),
    // The functions that text requesters are the ones that mail them directly.
    'process.env.HERALD_SES_SDK': JSON.stringify(grants.sendsSms === true ? 'loaded' : 'omitted'),
  };
}

/** Sends to or consumes the deliveries queue, so it seals or checks delivery messages. */
const handlesDeliveryMessages = (spec: FunctionSpec): boolean => spec.grants.queues?.deliveries !== undefined;

/** The environment variables naming the resources a function's grants cover, and only those. */
function resourceEnvironment(spec: FunctionSpec, props: FunctionsProps): Record<string, string> {
  const environment: Record<string, string> = {};
  const { grants } = spec;
  if (grants.table) environment[ENV.tableName] = props.table.tableName;
  if (grants.secrets || grants.statusTokenSecret || handlesDeliveryMessages(spec)) environment[ENV.secretsTableName] = props.secretsTable.tableName;
  if (grants.bodies) environment[ENV.bodiesBucket] = props.bodiesBucket.bucketName;
  for (const [queueName, access] of Object.entries(grants.queues ?? {}) as [QueueName, string][]) {
    const { queue, slowLane } = props.queues.get(queueName);
    environment[queueUrlVariable(queueName)] = queue.queueUrl;
    if (slowLane && access !== 'send') environment[queueUrlVariable(`${queueName}SlowLane`)] = slowLane.queueUrl;
  }
  for (const topicName of new Set([...(grants.publishesTo ?? []), ...(grants.managesSubscriptionsOf ?? [])])) {
    environment[topicArnVariable(topicName)] = props.notifications.get(topicName).topicArn;
  }
  return environment;
}

/** `requests` → ENV.requestsQueueUrl (HERALD_REQUESTS_QUEUE_URL); a queue new to the topology follows the same pattern. */
export function queueUrlVariable(queueName: string): string {
  return lookupEnv(`${queueName}QueueUrl`) ?? `${SERVICE_NAME.toUpperCase()}_${upperSnakeCase(queueName)}_QUEUE_URL`;
}

/** `notifications` → ENV.notificationsTopicArn (HERALD_NOTIFICATIONS_TOPIC_ARN), by the same rule as queues. */
export function topicArnVariable(topicName: string): string {
  return lookupEnv(`${topicName}TopicArn`) ?? `${SERVICE_NAME.toUpperCase()}_${upperSnakeCase(topicName)}_TOPIC_ARN`;
}

/** Names the topology declares win, so a deliberate name there is never second-guessed here. */
export function lookupEnv(key: string): string | undefined {
  return (ENV as Readonly<Record<string, string>>)[key];
}
