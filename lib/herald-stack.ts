import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { Functions, lookupEnv, type DirectEmailGrant } from './constructs/functions';
import { RequestEventStream } from './constructs/request-event-stream';
import { Intake, type ApiThrottle } from './constructs/intake';
import { acknowledgeGrantWildcards } from './constructs/nag-acknowledgements';
import { pascalCase } from './constructs/naming';
import { Notifications } from './constructs/notifications';
import { Observability } from './constructs/observability';
import { Processing } from './constructs/processing';
import { MerchantRateLimit } from './constructs/rate-limit';
import { Schedules } from './constructs/schedules';
import { Storage } from './constructs/storage';
import { checkWebhookUrl, parseHostList } from '../lambdas/core/webhooks/webhook-url';
import { parsePublicBaseUrl } from '../lambdas/core/shared/public-base-url';
import { WorkQueues } from './constructs/work-queues';
import { defaults, merchantQuotaDefaults } from '../lambdas/settings/requests';
import { ENV } from '../lambdas/settings/environment';
import { queueRetrySchedule, retryScheduleEnvironment, type QueueName } from '../lambdas/settings/retry';
import { webhookDefaults } from '../lambdas/settings/webhooks';
import { type RetryOverride, type RetrySchedule } from '../lambdas/core/shared/retry-schedule';

/** What an operator may choose per deployment; everything structural comes from lib/topology.ts. */
export interface HeraldStackProps extends StackProps {
  /** How long a finished request stays readable before its TTL expires it. @default topology defaults (30 days) */
  readonly requestRetentionDays?: number;
  /**
   * Comma-separated hosts webhooks may target; when set, every other host is refused at
   * registration and at delivery, and the listed ones still need https and public addresses.
   * Empty allows any public host over https. @default ''
   */
  readonly allowedWebhookHosts?: string;
  /** Sender id shown on SMS notifications, where the destination country supports one. @default none */
  readonly smsSenderId?: string;
  /**
   * A verified SES identity (an email address, or a domain) to send request emails from, each
   * with one SES `SendEmail` and no subscription to confirm first. Operations contacts stay topic
   * subscribers. See docs/stack.md for what SES needs (verification, the sandbox).
   * @default none: request emails go through the notifications topic
   */
  readonly emailSenderIdentity?: string;
  /** The From address of request emails, within `emailSenderIdentity`. @default the identity, when it is an address */
  readonly emailFromAddress?: string;
  /**
   * Countries (ISO 3166 alpha-2, e.g. `['US', 'CA']`) SMS notifications may go to; a number
   * elsewhere is refused with a 400 at submit. Empty turns SMS off. @default [] (no SMS)
   */
  readonly smsAllowedCountries?: readonly string[];
  /**
   * Requests per API key per 5 minutes, counted by a WAF rate-based rule on a CloudFront
   * distribution in front of the API (429 with Retry-After beyond it); `ApiUrl` becomes the
   * distribution's URL. Needs the stack in us-east-1. @default no per-merchant limit
   */
  readonly merchantRateLimit?: number;
  /**
   * With `merchantRateLimit`: the API's own custom domain, through which the distribution calls
   * it, since the `execute-api` endpoint is then disabled (it would bypass the WAF). Create a
   * CNAME from this name to the output `ApiOriginDnsTarget`; the certificate must be in us-east-1.
   */
  readonly apiOriginDomain?: { readonly domainName: string; readonly certificateArn: string };
  /**
   * Requests per merchant accepted but not yet finished; beyond it submit answers 429. 0 counts
   * nothing. Counting costs two calls and up to 8 write units per request (docs/stack.md), the
   * price of one merchant's backlog not holding every worker. @default 100
   */
  readonly maxRequestsInFlight?: number;
  /**
   * SMS per merchant per UTC day, those its requests ask for and those to its operations contacts
   * alike; beyond it submit answers 429 and operations SMS are not sent. 0: no daily cap. @default 100
   */
  readonly maxSmsPerDay?: number;
  /**
   * The base URL clients reach Herald at, when it is not the stack's own (`ApiUrl`), e.g. a
   * custom domain in front of it: `statusUrl` links are built on it and never on a request's
   * headers. Output as `PublicBaseUrl`. @default ApiUrl (the CloudFront front door's URL with
   * `merchantRateLimit`, the HTTP API's otherwise)
   */
  readonly publicBaseUrl?: string;
  /**
   * Instances reserved for the event stream function, which are also the most streams all
   * merchants together hold open (each stream holds one for up to 5 minutes). The account must
   * keep 10 unreserved. @default topology `functions.events.reservedConcurrency` (50)
   */
  readonly eventStreamConcurrency?: number;
  /** Registers the demo processors `demo.sleep` and `demo.fail`. @default false */
  readonly demoProcessors?: boolean;
  /** Subscribed by email to the alarm topic. @default no subscription */
  readonly alarmEmail?: string;
  /** Retention of function and access logs. @default one month */
  readonly logRetention?: RetentionDays;
  /** Powertools log level of every function, also Lambda's application log level. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * X-Ray active tracing of every function. Off by default: the default sampling rule records
   * about a fifth of the requests of a modest load, $1 per million requests (docs/stack.md),
   * and the trace id already travels with each request through the queues and the logs.
   * @default false
   */
  readonly tracing?: boolean;
  /** Stage-wide API throttling. @default 50 requests/s, bursts of 100 */
  readonly throttle?: ApiThrottle;
  /** The table holds every request and merchant: keep it unless told otherwise. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /** Customer-managed key for the table. @default the AWS-owned key */
  readonly tableEncryptionKey?: IKey;
  /** The same as `tableEncryptionKey`, for an app that has only the key's ARN (e.g. from context). */
  readonly tableEncryptionKeyArn?: string;
  /** Age of a work queue's oldest message that raises an alarm. @default 15 minutes */
  readonly queueAgeAlarmThreshold?: Duration;
  /**
   * Attempts and delays of request processing; the attempts become the requests queue's
   * maxReceiveCount. @default topology `requestRetrySchedule` (5 attempts, 2 s doubling to 5 min)
   */
  readonly requestRetry?: RetryOverride;
  /**
   * Attempts and delays of webhook deliveries; the attempts become the deliveries queue's
   * maxReceiveCount. @default topology `webhookRetrySchedule` (8 attempts over about 27 h)
   */
  readonly deliveryRetry?: RetryOverride;
  /** Consecutive dead deliveries after which an endpoint is disabled. @default topology `webhookDefaults` (5) */
  readonly webhookDeadStreakLimit?: number;
  /**
   * Concurrent consumers per queue (Lambda's event source maximum concurrency, 2 to 1,000); size
   * them for the traffic with docs/scale.md. @default topology `queues` (requests 10, deliveries 50)
   */
  readonly workerConcurrency?: Partial<Record<QueueName, number>>;
  /** Concurrency reserved for each queue's consumer, at least its worker concurrency. @default none reserved */
  readonly reservedConcurrency?: Partial<Record<QueueName, number>>;
}

export const defaultThrottle: ApiThrottle = { rateLimit: 50, burstLimit: 100 };

/** Herald on AWS: lib/topology.ts rendered to Lambda, API Gateway, SQS, DynamoDB, SNS and CloudWatch. */
export class HeraldStack extends Stack {
  readonly storage: Storage;
  readonly queues: WorkQueues;
  readonly notifications: Notifications;
  readonly functions: Functions;
  readonly intake: Intake;
  readonly observability: Observability;
  rateLimit?: MerchantRateLimit;

  constructor(scope: Construct, id: string, props: HeraldStackProps = {}) {
    super(scope, id, props);
    refuseLocalOnlySettings(this);
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    this.storage = new Storage(this, 'Storage', {
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
      requestRetentionDays: props.requestRetentionDays ?? defaults.requestRetentionDays,
      encryptionKey:
        props.tableEncryptionKey ??
        (props.tableEncryptionKeyArn ? Key.fromKeyArn(this, 'TableEncryptionKey', props.tableEncryptionKeyArn) : undefined),
    });
    // One schedule per queue feeds both the queue's maxReceiveCount and its consumer's environment.
    const retrySchedules: Record<QueueName, RetrySchedule> = {
      requests: queueRetrySchedule('requests', props.requestRetry),
      deliveries: queueRetrySchedule('deliveries', props.deliveryRetry),
    };
    this.queues = new WorkQueues(this, 'WorkQueues', { retrySchedules });
    this.notifications = new Notifications(this, 'Notifications');
    this.functions = new Functions(this, 'Functions', {
      table: this.storage.table,
      secretsTable: this.storage.secretsTable,
      bodiesBucket: this.storage.bodiesBucket,
      queues: this.queues,
      notifications: this.notifications,
      settings: operatorSettings(props, retrySchedules),
      ...directEmailOf(props),
      logRetention,
      logLevel: props.logLevel ?? 'INFO',
      tracing: props.tracing === true,
      ...(props.eventStreamConcurrency !== undefined ? { reservedConcurrency: { events: props.eventStreamConcurrency } } : {}),
    });
    new Processing(this, 'Processing', {
      functions: this.functions,
      queues: this.queues,
      ...(props.workerConcurrency ? { workerConcurrency: props.workerConcurrency } : {}),
      ...(props.reservedConcurrency ? { reservedConcurrency: props.reservedConcurrency } : {}),
    });
    new Schedules(this, 'Schedules', { functions: this.functions });
    this.intake = new Intake(this, 'Intake', {
      functions: this.functions,
      throttle: props.throttle ?? defaultThrottle,
      logRetention,
      // Behind the rate limit's front door, the API's own endpoint would be a way around it.
      disableExecuteApiEndpoint: props.merchantRateLimit !== undefined,
    });
    this.observability = new Observability(this, 'Observability', {
      functions: this.functions,
      queues: this.queues,
      api: this.intake.api,
      alarmEmail: props.alarmEmail,
      queueAgeAlarmThreshold: props.queueAgeAlarmThreshold ?? Duration.minutes(15),
    });

    if (props.merchantRateLimit !== undefined) {
      if (!props.apiOriginDomain) {
        throw new Error(
          'merchantRateLimit needs apiOriginDomain (a custom domain name and its ACM certificate in us-east-1): the execute-api endpoint is disabled so that no request bypasses the WAF, and CloudFront reaches the API through that domain',
        );
      }
      this.rateLimit = new MerchantRateLimit(this, 'MerchantRateLimit', {
        api: this.intake.api,
        stage: this.intake.stage,
        origin: props.apiOriginDomain,
        limit: props.merchantRateLimit,
      });
      this.output('ApiOriginDnsTarget', this.rateLimit.originDomain.regionalDomainName, `Point a CNAME for ${props.apiOriginDomain.domainName} here`);
    }
    const apiUrl = this.rateLimit?.url ?? this.intake.url;
    this.output('ApiUrl', apiUrl, 'Base URL of the HTTP API');
    // Links in responses (statusUrl) are built on this, never on the Host a request came with.
    const publicBaseUrl = props.publicBaseUrl !== undefined ? parsePublicBaseUrl(props.publicBaseUrl, 'publicBaseUrl') : apiUrl;
    this.functions.get('submit').addEnvironment(ENV.publicBaseUrl, publicBaseUrl);
    this.output('PublicBaseUrl', publicBaseUrl, 'Base URL of the links Herald hands out (statusUrl)');
    // Thin webhook events link to their request under the API's URL; only the functions that build events need it.
    for (const name of ['process', 'deliver'] as const) this.functions.get(name).addEnvironment(ENV.publicApiUrl, publicBaseUrl);
    for (const [output, url] of new RequestEventStream(this, 'RequestEventStream', { functions: this.functions }).urls) {
      this.output(output, url.url, 'Base URL of GET /v1/requests/{id}/events (server-sent events, same API key)');
    }
    this.output('TableName', this.storage.table.tableName, 'The DynamoDB table (for the herald CLI)');
    this.output('BodiesBucketName', this.storage.bodiesBucket.bucketName, 'Payloads and results too large for the table (for the herald CLI)');
    for (const { name, queue, deadLetterQueue, slowLane } of this.queues.byName.values()) {
      this.output(`${pascalCase(name)}QueueUrl`, queue.queueUrl, `The ${name} queue`);
      if (slowLane) this.output(`${pascalCase(name)}SlowLaneQueueUrl`, slowLane.queueUrl, `The ${name} queue's slow lane (for herald queues)`);
      this.output(`${pascalCase(name)}DeadLetterQueueUrl`, deadLetterQueue.queueUrl, `Dead letters of the ${name} queue (redrive from here)`);
    }
    for (const [name, topic] of this.notifications.byName) {
      this.output(`${pascalCase(name)}TopicArn`, topic.topicArn, `The ${name} topic`);
    }
    this.output('AlarmTopicArn', this.observability.alarmTopic.topicArn, 'Subscribe here to receive alarms');
    this.output(
      'DashboardUrl',
      `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${this.observability.dashboard.dashboardName}`,
      'The CloudWatch dashboard',
    );

    acknowledgeGrantWildcards(this);
  }

  private output(id: string, value: string, description: string): void {
    new CfnOutput(this, id, { value, description });
  }
}

/**
 * Context that only the local runtime honours. Plain-http receivers at loopback addresses make
 * sense on a laptop; on AWS the same setting would let webhooks reach the Lambda runtime API or
 * VPC addresses, so a deployment that asks for it fails at synth instead of quietly ignoring it.
 */
export const LOCAL_ONLY_CONTEXT = ['localWebhookHosts'] as const;

function refuseLocalOnlySettings(scope: Construct): void {
  for (const key of LOCAL_ONLY_CONTEXT) {
    const value: unknown = scope.node.tryGetContext(key);
    if (value !== undefined && value !== null && value !== '') {
      throw new Error(`Context ${key} is for the local runtime only (npm start); the deployed stack refuses it. Use allowedWebhookHosts to restrict webhook hosts.`);
    }
  }
}

/**
 * The allow-list as the functions will read it, checked at synth: every entry must be a host
 * name or a public address, since listing a host never relaxes https or the address checks.
 */
function webhookAllowList(raw: string | undefined): string {
  const hosts = [...parseHostList(raw)];
  for (const host of hosts) {
    if (host === 'localhost' || host.endsWith('.localhost')) {
      throw new RangeError(`allowedWebhookHosts cannot list ${host}: deployed webhooks go to public addresses only`);
    }
    try {
      checkWebhookUrl(`https://${host.includes(':') ? `[${host}]` : host}/`, { allowedHosts: new Set([host]), localReceivers: new Set() });
    } catch (error) {
      throw new RangeError(`allowedWebhookHosts cannot list ${host}: ${(error as Error).message}`);
    }
  }
  return hosts.join(',');
}

/** The SMS countries as the functions read them; synth refuses anything but two-letter codes (no `*`). */
function smsCountryList(countries: readonly string[]): string {
  const codes = countries.map((code) => code.trim().toUpperCase()).filter((code) => code !== '');
  for (const code of codes) {
    if (!/^[A-Z]{2}$/.test(code)) {
      throw new RangeError(`smsAllowedCountries takes ISO 3166 alpha-2 codes such as US or DE, got "${code}"; list each country SMS may go to`);
    }
  }
  return [...new Set(codes)].join(',');
}

/** Settings the functions read from their environment, the same names the local runtime sets. */
function operatorSettings(props: HeraldStackProps, retrySchedules: Record<QueueName, RetrySchedule>): Record<string, string> {
  const deadStreakLimit = props.webhookDeadStreakLimit ?? webhookDefaults.deadStreakLimit;
  if (!Number.isInteger(deadStreakLimit) || deadStreakLimit < 1) {
    throw new RangeError(`webhookDeadStreakLimit must be a whole number of 1 or more, got ${deadStreakLimit}`);
  }
  const settings: Record<string, string> = {
    // Always written, not only when overridden: a function's configuration then shows the
    // schedule its queue was deployed with.
    ...retryScheduleEnvironment('requests', retrySchedules.requests),
    ...retryScheduleEnvironment('deliveries', retrySchedules.deliveries),
    [ENV.webhookDeadStreakLimit]: String(deadStreakLimit),
    // Retry delays are real on AWS; only local and test runs shrink them.
    [ENV.retryScale]: '1',
    [ENV.requestRetentionDays]: String(props.requestRetentionDays ?? defaults.requestRetentionDays),
    // CloudFormation puts a random UUID in every stack id and keeps it for the stack's life: a key
    // that merchants cannot know and that never changes under stored requests (docs/architecture.md).
    [ENV.requestIdKey]: Aws.STACK_ID,
    [ENV.allowedWebhookHosts]: webhookAllowList(props.allowedWebhookHosts),
  };
  settings[ENV.smsAllowedCountries] = smsCountryList(props.smsAllowedCountries ?? []);
  settings[ENV.demoProcessors] = props.demoProcessors === true ? 'true' : 'false';
  for (const [name, value] of [
    ['maxRequestsInFlight', props.maxRequestsInFlight ?? merchantQuotaDefaults.requestsInFlight],
    ['maxSmsPerDay', props.maxSmsPerDay ?? merchantQuotaDefaults.smsPerDay],
  ] as const) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number, 0 for no quota, got ${value}`);
    settings[ENV[name]] = String(value);
  }
  if (props.smsSenderId) settings[lookupEnv('smsSenderId') ?? 'HERALD_SMS_SENDER_ID'] = props.smsSenderId;
  const directEmail = directEmailOf(props).directEmail;
  if (directEmail) settings[ENV.emailFromAddress] = directEmail.fromAddress;
  return settings;
}

/** Plain addresses only: SES takes a display name too, but one address is what IAM's condition compares. */
const EMAIL_ADDRESS = /^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/;

/**
 * The SES grant of direct request email: the identity's ARN in this stack's account and region,
 * and the From address, which must be the identity itself or an address of the domain it is.
 */
export function directEmailOf(props: Pick<HeraldStackProps, 'emailSenderIdentity' | 'emailFromAddress'>): { directEmail?: DirectEmailGrant } {
  const identity = props.emailSenderIdentity?.trim().toLowerCase();
  if (!identity) {
    if (props.emailFromAddress) throw new Error('emailFromAddress needs emailSenderIdentity, the verified SES identity it belongs to');
    return {};
  }
  const identityIsAddress = identity.includes('@');
  if (identityIsAddress && !EMAIL_ADDRESS.test(identity)) throw new Error(`emailSenderIdentity must be an email address or a domain, got ${identity}`);
  if (!identityIsAddress && !/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(identity)) {
    throw new Error(`emailSenderIdentity must be an email address or a domain, got ${identity}`);
  }
  const fromAddress = (props.emailFromAddress ?? (identityIsAddress ? identity : '')).trim().toLowerCase();
  if (!fromAddress) throw new Error(`emailSenderIdentity ${identity} is a domain: set emailFromAddress to an address of it, e.g. notifications@${identity}`);
  if (!EMAIL_ADDRESS.test(fromAddress)) throw new Error(`emailFromAddress must be one email address, got ${fromAddress}`);
  const belongs = identityIsAddress ? fromAddress === identity : fromAddress.endsWith(`@${identity}`);
  if (!belongs) throw new Error(`emailFromAddress ${fromAddress} is not within the identity ${identity}: SES sends only from a verified identity`);
  return { directEmail: { identityArn: `arn:${Aws.PARTITION}:ses:${Aws.REGION}:${Aws.ACCOUNT_ID}:identity/${identity}`, fromAddress } };
}
