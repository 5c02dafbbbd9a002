/**
 * The one description of Herald: its functions, HTTP routes, queues, table, topic and
 * retry schedules. The CDK stack renders it to AWS and the local runtime renders it to
 * embedded endpoints and in-process pollers, so the two cannot drift apart.
 *
 * This module is data only (no CDK or AWS SDK imports): Lambda code may import it too,
 * e.g. to read the retry schedules it shares with the stack.
 */

import { parseRetryDelays, withRetryOverride, type RetryOverride, type RetrySchedule } from '../lambdas/core/retry-schedule';

// The schedule's shape and its checks belong to the domain (the worker computes backoff from
// them); the topology supplies the numbers and keeps offering both to the stack and the CLI.
export { parseRetryDelays, withRetryOverride, type RetryOverride, type RetrySchedule };

export const SERVICE_NAME = 'herald';
export const METRICS_NAMESPACE = 'Herald';

/**
 * Herald's own metrics (Counts, as Powertools EMF in METRICS_NAMESPACE with the dimension
 * `service`): the handlers count them and the dashboard graphs them by these names.
 */
export const METRICS = {
  /** A new request stored (a replayed Idempotency-Key is not counted again). */
  requestsAccepted: 'RequestsAccepted',
  requestsSucceeded: 'RequestsSucceeded',
  /** A request finished failed: a permanent error, or its attempts ran out. */
  requestsFailed: 'RequestsFailed',
  /** A processor run by the worker (a claim lost to another worker is not an attempt). */
  processingAttempts: 'ProcessingAttempts',
  deliveriesSucceeded: 'DeliveriesSucceeded',
  /** One webhook attempt that failed, whether or not another follows. */
  deliveriesFailed: 'DeliveriesFailed',
  /** A delivery given up: its attempts ran out, or the endpoint answered 410. */
  deliveriesDead: 'DeliveriesDead',
} as const;

/** Environment variables through which handlers learn their resources; nothing else differs between AWS and local. */
export const ENV = {
  tableName: 'HERALD_TABLE_NAME',
  /** The webhook signing secrets' table; set only for the functions granted `secrets`. */
  secretsTableName: 'HERALD_SECRETS_TABLE_NAME',
  requestsQueueUrl: 'HERALD_REQUESTS_QUEUE_URL',
  notificationsTopicArn: 'HERALD_NOTIFICATIONS_TOPIC_ARN',
  retryScale: 'HERALD_RETRY_SCALE',
  /** The key of the HMAC that derives a request's id from (merchant, idempotency key); never changed once requests exist. */
  requestIdKey: 'HERALD_REQUEST_ID_KEY',
  requestRetentionDays: 'HERALD_REQUEST_RETENTION_DAYS',
  /** Sender id on SMS notifications, where the destination country supports one (stack prop `smsSenderId`). */
  smsSenderId: 'HERALD_SMS_SENDER_ID',
  /** Local runtime only: SMS go to this outbox instead of SNS. The stack never sets it. */
  smsOutboxUrl: 'HERALD_SMS_OUTBOX_URL',
  /** Seconds an `accepted` request may sit without an enqueue mark before the sweeper re-enqueues it. */
  sweepUnenqueuedAfterSeconds: 'HERALD_SWEEP_UNENQUEUED_AFTER_SECONDS',
  /** Seconds after which an enqueue mark is distrusted and the request is re-enqueued anyway. */
  sweepStaleEnqueueAfterSeconds: 'HERALD_SWEEP_STALE_ENQUEUE_AFTER_SECONDS',
  deliveriesQueueUrl: 'HERALD_DELIVERIES_QUEUE_URL',
  /** The API's public base URL, from which thin webhook events link to their request (the stack sets the HTTP API's URL). */
  publicApiUrl: 'HERALD_PUBLIC_API_URL',
  /** Comma-separated exact hosts webhooks may target; when set, every other host is refused (https and public addresses still required). */
  allowedWebhookHosts: 'HERALD_ALLOWED_WEBHOOK_HOSTS',
  /** Local runtime only: comma-separated hosts of receivers on this machine, allowed plain http and loopback addresses. The stack refuses it. */
  localWebhookHosts: 'HERALD_LOCAL_WEBHOOK_HOSTS',
  /** `true` registers the demo processors (demo.sleep, demo.fail); anything else leaves them out. The stack writes `false` unless told otherwise. */
  demoProcessors: 'HERALD_DEMO_PROCESSORS',
  /** ISO 3166 alpha-2 codes SMS may go to, comma-separated; empty: no SMS; `*` (local runtime only): every country. */
  smsAllowedCountries: 'HERALD_SMS_ALLOWED_COUNTRIES',
  /** Per-merchant quotas (stack props `maxRequestsInFlight`, `maxSmsPerDay`); unset: no quota (the local runtime's default). */
  maxRequestsInFlight: 'HERALD_MAX_REQUESTS_IN_FLIGHT',
  maxSmsPerDay: 'HERALD_MAX_SMS_PER_DAY',
  /**
   * The public base URL clients reach Herald at (stack output `PublicBaseUrl`: the front door's URL,
   * or the stack prop `publicBaseUrl`); `statusUrl` is built on it, never on request headers.
   * The local runtime sets its own address unless told otherwise.
   */
  publicBaseUrl: 'HERALD_PUBLIC_BASE_URL',
  /** Local runtime only: requests per API key per `merchantRateLimit.windowSeconds`; unset, no limit. On AWS the WAF rule counts. */
  merchantRateLimit: 'HERALD_MERCHANT_RATE_LIMIT',
  /** Consecutive dead deliveries after which an endpoint is disabled. */
  webhookDeadStreakLimit: 'HERALD_WEBHOOK_DEAD_STREAK_LIMIT',
  /** Overrides of a queue's retry schedule (stack props `requestRetry`, `deliveryRetry`): delays as comma-separated seconds. */
  requestRetryDelays: 'HERALD_REQUEST_RETRY_DELAYS',
  requestMaxAttempts: 'HERALD_REQUEST_MAX_ATTEMPTS',
  deliveryRetryDelays: 'HERALD_DELIVERY_RETRY_DELAYS',
  deliveryMaxAttempts: 'HERALD_DELIVERY_MAX_ATTEMPTS',
  /** Consecutive timeouts or 5xx that open an endpoint's circuit; 0 turns the breaker off (tests of the plain retry path). */
  circuitFailureThreshold: 'HERALD_CIRCUIT_FAILURE_THRESHOLD',
} as const;

/**
 * Partition keys that IAM conditions name (`dynamodb:LeadingKeys`): the grants below and the
 * adapters' keys module (lambdas/adapters/dynamo/keys.ts) spell them from here, once.
 */
export const keyPartitions = {
  /** Followed by the merchant id: a merchant's event stream slots, in the table. */
  eventStreamSlots: 'STREAMS#',
  /** The status token secret's one item, in the secrets table. */
  statusTokenSecret: 'CONFIG#status-token-secret',
} as const;

export type FunctionName =
  | 'authorizer'
  | 'submit'
  | 'status'
  | 'process'
  | 'notifications'
  | 'list'
  | 'cancel'
  | 'sweep'
  | 'webhooks'
  | 'deliver'
  | 'sweepDeliveries'
  | 'events'
  | 'statusPage';

export interface FunctionSpec {
  /** Path of the handler module from the project root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Least privilege: exactly what this function may do; the stack grants this and nothing more. */
  readonly grants: Grants;
  /** Instances kept for this function alone, which are also the most it may run at once. @default none (the account's pool) */
  readonly reservedConcurrency?: number;
}

export interface Grants {
  readonly table?: 'read' | 'readWrite';
  /**
   * Partition key prefixes of the table whose items it may put and delete, where it otherwise
   * only reads (IAM `dynamodb:LeadingKeys`): a public function writes its own bookkeeping and nothing else.
   */
  readonly tableWritesUnder?: readonly string[];
  /** The webhook signing secrets' table: only the functions that manage or sign with them. */
  readonly secrets?: 'read' | 'readWrite';
  /**
   * The status token secret's one item in the secrets table, and nothing else of that table:
   * `create` reads it and makes it on the first submit, `read` only reads it. Every other
   * function, the two that hold the signing secrets included, is denied it.
   */
  readonly statusTokenSecret?: 'read' | 'create';
  /** Queues it sends to (`send`) or whose messages it changes and deletes as their consumer (`consume`). */
  readonly queues?: Partial<Record<QueueName, 'send' | 'consume' | 'sendAndConsume'>>;
  readonly publishesTo?: readonly (keyof typeof topics)[];
  /** Topics whose subscriptions it creates, reads, changes and removes (email recipients, operations contacts). */
  readonly managesSubscriptionsOf?: readonly (keyof typeof topics)[];
  /**
   * Sends SMS straight to phone numbers (SNS Publish with PhoneNumber). IAM has no resource to
   * scope that to, so it is a grant of its own, given only where an SMS is sent.
   */
  readonly sendsSms?: boolean;
  /** Updates the merchant's count of waiting calls (`Prefer: wait`), and no other item or attribute. */
  readonly countsWaitingCalls?: boolean;
}

export const functions: Record<FunctionName, FunctionSpec> = {
  authorizer: {
    entry: 'lambdas/handlers/authorize-api-key.ts',
    description: 'Resolves the merchant behind a Bearer API key',
    memoryMb: 256,
    timeoutSeconds: 5,
    grants: { table: 'read' },
  },
  submit: {
    entry: 'lambdas/handlers/submit-request.ts',
    description: 'POST /v1/requests: stores an idempotent request and enqueues it',
    memoryMb: 256,
    // `Prefer: respond-async, wait=N` holds the answer up to defaults.waiting.maxSeconds.
    timeoutSeconds: 25,
    // The status token secret signs the statusUrl of every 202.
    grants: { table: 'readWrite', queues: { requests: 'send' }, statusTokenSecret: 'create' },
  },
  status: {
    entry: 'lambdas/handlers/get-request-status.ts',
    description: 'GET /v1/requests/{id}: the status of one request',
    memoryMb: 256,
    // `Prefer: wait=N` holds the answer up to defaults.waiting.maxSeconds.
    timeoutSeconds: 25,
    grants: { table: 'read', countsWaitingCalls: true },
  },
  process: {
    entry: 'lambdas/handlers/process-requests.ts',
    description: 'Consumes the requests queue: claims, runs the processor, finishes',
    memoryMb: 512,
    timeoutSeconds: 60,
    // The fan-out texts and mails the people behind finished requests (subscribing new email recipients).
    grants: { table: 'readWrite', publishesTo: ['notifications'], managesSubscriptionsOf: ['notifications'], sendsSms: true, queues: { requests: 'consume', deliveries: 'send' } },
  },
  notifications: {
    entry: 'lambdas/handlers/put-notification-contacts.ts',
    description: "PUT /v1/notifications: the merchant's operations contacts and the events they receive",
    memoryMb: 256,
    timeoutSeconds: 10,
    grants: { table: 'readWrite', managesSubscriptionsOf: ['notifications'] },
  },
  list: {
    entry: 'lambdas/handlers/list-requests.ts',
    description: "GET /v1/requests: the merchant's requests, newest first",
    memoryMb: 256,
    timeoutSeconds: 10,
    grants: { table: 'read' },
  },
  cancel: {
    entry: 'lambdas/handlers/cancel-request.ts',
    description: 'POST /v1/requests/{id}/cancel: cancels a request no worker has started',
    memoryMb: 256,
    timeoutSeconds: 10,
    grants: { table: 'readWrite' },
  },
  sweep: {
    entry: 'lambdas/handlers/sweep-stuck-requests.ts',
    description: 'Schedule: re-enqueues requests whose enqueue failed or whose worker vanished',
    memoryMb: 256,
    timeoutSeconds: 60,
    grants: { table: 'readWrite', queues: { requests: 'send' } },
  },
  // One function serves every /v1/webhooks* and /v1/deliveries* route: they share their
  // dependencies, and one warm container answers them all instead of eleven cold ones.
  webhooks: {
    entry: 'lambdas/handlers/webhooks-api.ts',
    description: '/v1/webhooks and /v1/deliveries: endpoint registration, secrets, tests, delivery logs, retries',
    memoryMb: 256,
    // POST /v1/webhooks/{id}/test waits for one delivery attempt (10 s at most).
    timeoutSeconds: 20,
    grants: { table: 'readWrite', secrets: 'readWrite', queues: { deliveries: 'send' } },
  },
  deliver: {
    entry: 'lambdas/handlers/deliver-webhooks.ts',
    description: 'Consumes the deliveries queue: signs and posts webhook events, schedules retries',
    memoryMb: 256,
    // A batch runs concurrently; each attempt is cut off after 10 s, then its outcome is recorded.
    timeoutSeconds: 30,
    // Tells the merchant's operations contacts when it disables an endpoint.
    // Signs with the secrets; only the webhooks API writes them.
    grants: { table: 'readWrite', secrets: 'read', queues: { deliveries: 'consume' }, publishesTo: ['notifications'] },
  },
  events: {
    entry: 'lambdas/handlers/stream-request-events.ts',
    description: "GET /v1/requests/{id}/events: a request's transitions as server-sent events (function URL, response streaming)",
    memoryMb: 256,
    // One stream lasts at most DEFAULT_STREAM_LIMITS.maxDurationMs (5 min); then the client reconnects.
    timeoutSeconds: 330,
    // Writes nothing but the stream slot leases (eventStreams below), a partition of their own.
    grants: { table: 'read', tableWritesUnder: [keyPartitions.eventStreamSlots] },
    // A public URL whose every call may hold an instance for 330 s: capped so that streams can
    // never take the account's concurrency from the API and the workers (stack prop eventStreamConcurrency).
    reservedConcurrency: 50,
  },
  statusPage: {
    entry: 'lambdas/handlers/get-status-page.ts',
    description: "GET /v1/status/{token}: a request's public status page (no API key: the token is the capability)",
    memoryMb: 256,
    timeoutSeconds: 10,
    grants: { table: 'read', statusTokenSecret: 'read' },
  },
  sweepDeliveries: {
    entry: 'lambdas/handlers/sweep-pending-deliveries.ts',
    description: 'Schedule: re-enqueues webhook deliveries left pending past their next attempt',
    memoryMb: 256,
    timeoutSeconds: 60,
    grants: { table: 'readWrite', queues: { deliveries: 'send' } },
  },
};

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteSpec {
  readonly method: HttpMethod;
  /** API Gateway route path; `{name}` segments become `pathParameters.name`. */
  readonly path: string;
  readonly function: FunctionName;
  /** Routes behind the API-key authorizer; a public one carries its own capability (the status page's token). */
  readonly authorized: boolean;
}

export const routes: readonly RouteSpec[] = [
  { method: 'POST', path: '/v1/requests', function: 'submit', authorized: true },
  { method: 'GET', path: '/v1/requests/{id}', function: 'status', authorized: true },
  { method: 'PUT', path: '/v1/notifications', function: 'notifications', authorized: true },
  { method: 'GET', path: '/v1/requests', function: 'list', authorized: true },
  { method: 'POST', path: '/v1/requests/{id}/cancel', function: 'cancel', authorized: true },
  { method: 'POST', path: '/v1/webhooks', function: 'webhooks', authorized: true },
  { method: 'GET', path: '/v1/webhooks', function: 'webhooks', authorized: true },
  { method: 'POST', path: '/v1/webhooks/filter-test', function: 'webhooks', authorized: true },
  { method: 'GET', path: '/v1/webhooks/{id}', function: 'webhooks', authorized: true },
  { method: 'PATCH', path: '/v1/webhooks/{id}', function: 'webhooks', authorized: true },
  { method: 'DELETE', path: '/v1/webhooks/{id}', function: 'webhooks', authorized: true },
  { method: 'POST', path: '/v1/webhooks/{id}/rotate-secret', function: 'webhooks', authorized: true },
  { method: 'POST', path: '/v1/webhooks/{id}/test', function: 'webhooks', authorized: true },
  { method: 'GET', path: '/v1/webhooks/{id}/deliveries', function: 'webhooks', authorized: true },
  { method: 'POST', path: '/v1/webhooks/{id}/recover', function: 'webhooks', authorized: true },
  { method: 'GET', path: '/v1/requests/{id}/deliveries', function: 'webhooks', authorized: true },
  { method: 'POST', path: '/v1/deliveries/{id}/retry', function: 'webhooks', authorized: true },
  { method: 'GET', path: '/v1/callback-secret', function: 'webhooks', authorized: true },
  { method: 'POST', path: '/v1/callback-secret/rotate', function: 'webhooks', authorized: true },
  // Public by design, like any JWKS: public keys let receivers verify v1a signatures without an API key.
  { method: 'GET', path: '/v1/webhook-keys/{merchantId}', function: 'webhooks', authorized: false },
  // Public by design: the unguessable token in the path is the capability, and the page shows no merchant data.
  { method: 'GET', path: '/v1/status/{token}', function: 'statusPage', authorized: false },
];

/**
 * Routes the HTTP API cannot serve because they stream their answer: on AWS each is a Lambda
 * function URL in RESPONSE_STREAM mode (the stack outputs its base URL); the local runtime
 * serves them on its own port beside the API. The handler checks the API key itself.
 */
/**
 * Bounds of the event streams beside each stream's own (`DEFAULT_STREAM_LIMITS`): open streams a
 * merchant may hold at once (one more is a 429), each held by a lease that outlives a stream's
 * longest life by `leaseMarginSeconds`, so a stream whose function was cut off frees its slot.
 */
export const eventStreams = { maxOpenPerMerchant: 5, leaseMarginSeconds: 30 } as const;

export const streamingRoutes = [{ method: 'GET', path: '/v1/requests/{id}/events', function: 'events', output: 'RequestEventsUrl' }] as const;

export interface ScheduleSpec {
  readonly function: FunctionName;
  /** Period of the run: an EventBridge rate on AWS, a timer in the local runtime. */
  readonly everyMinutes: number;
}

/** Functions run on a timer rather than by a route or a queue. */
export const schedules: Record<string, ScheduleSpec> = {
  sweep: { function: 'sweep', everyMinutes: 1 },
  sweepDeliveries: { function: 'sweepDeliveries', everyMinutes: 5 },
};

/**
 * Per-merchant quotas a deployment gets unless the operator chooses others (0 counts nothing).
 * The in-flight quota costs a write at every submit and every finish, and is on all the same:
 * without it one merchant's backlog holds the workers every other merchant waits for.
 */
export const merchantQuotaDefaults = { requestsInFlight: 100, smsPerDay: 100 } as const;

/**
 * The per-merchant request limit (stack prop and context `merchantRateLimit`, locally
 * `HERALD_MERCHANT_RATE_LIMIT`): requests per API key in a window of this many seconds, counted
 * by a WAF rate-based rule on AWS and by the gateway locally. One of WAF's evaluation windows
 * (60, 120, 300 or 600 s).
 */
export const merchantRateLimit = { windowSeconds: 300, minimum: 10 } as const;

/** The 429 problem of the rate limit, the same from the WAF rule's custom response and the local gateway. */
export function rateLimitProblem(limit: number, windowSeconds: number): Record<string, unknown> {
  return {
    type: 'https://herald.dev/problems/rate-limited',
    title: 'Too many requests',
    status: 429,
    detail: `This API key sent more than ${limit} requests in ${windowSeconds} seconds; retry after the time in Retry-After`,
  };
}

/** How long API Gateway caches an authorizer decision: a revoked key keeps working at most this long. */
export const AUTHORIZER_CACHE_TTL_SECONDS = 300;

export type QueueName = 'requests' | 'deliveries';

export interface QueueSpec {
  readonly consumer: FunctionName;
  /** Must exceed the consumer's timeout, or a message becomes visible while still being worked on. */
  readonly visibilityTimeoutSeconds: number;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly maxConcurrency: number;
  readonly retentionDays: number;
  readonly deadLetter: { readonly maxReceiveCount: number; readonly retentionDays: number };
  readonly retry: RetrySchedule;
  /**
   * The message field whose value is sent as the `MessageGroupId`: the queue's tenant. SQS fair
   * queues serve a tenant holding more than its share of the in-flight messages after the quiet
   * ones; the local event source applies the same rule (docs/scale.md, Fairness).
   */
  readonly tenantField: 'merchantId' | 'endpointId';
}

/** Exponential backoff for transient processor failures: 2 s, 4 s, 8 s, 16 s … capped at 5 min, full jitter. */
export const requestRetrySchedule: RetrySchedule = {
  maxAttempts: 5,
  delaysSeconds: [2, 4, 8, 16, 32, 64, 128, 256, 300],
  jitter: { kind: 'full' },
};

/**
 * Webhook retries, close to Svix's: at once, then about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and
 * 10 h (8 attempts over about 27 h), each ±20 %, so receivers can count on rough times.
 */
export const webhookRetrySchedule: RetrySchedule = {
  maxAttempts: 8,
  delaysSeconds: [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600],
  jitter: { kind: 'proportional', ratio: 0.2 },
};

/** Webhook limits and the rules that disable a failing endpoint. */
export const webhookDefaults = {
  maxEndpointsPerMerchant: 20,
  maxUrlLength: 2048,
  /** How long a rotated-out secret keeps signing next to the new one. */
  previousSecretHours: 24,
  /** Consecutive dead deliveries that disable an endpoint (override: ENV.webhookDeadStreakLimit). */
  deadStreakLimit: 5,
  /** An endpoint whose attempts have all failed for this long is disabled. */
  failingDaysLimit: 5,
  /** How far back POST /v1/webhooks/{id}/recover may reach. */
  recoverMaxDays: 14,
  /** Total time one attempt may take, and the part of it the connection may take. */
  attemptTimeoutMs: 10_000,
  connectTimeoutMs: 3_000,
  /** Bytes of a receiver's response body kept on the attempt. */
  responseBodyBytes: 2048,
  /** How long a Lambda reuses an endpoint it read: a change reaches deliveries within this time. */
  endpointCacheSeconds: 10,
  /** A pending delivery whose next attempt is this overdue has lost its message: the sweeper re-enqueues it. */
  sweepGraceSeconds: 15 * 60,
  sweepBatchLimit: 100,
  /**
   * The per-endpoint circuit breaker (lambdas/core/circuit-breaker.ts): after this many timeouts
   * or 5xx in a row a delivering instance reschedules the endpoint's deliveries without a POST
   * for the cool-down, then lets one probe through; each failed probe doubles the cool-down up to
   * the maximum. A skipped delivery goes back on a new message (SQS takes up to 900 s of delay),
   * so skips never spend the attempts that lead to the DLQ.
   */
  circuitBreaker: { failureThreshold: 3, coolDownSeconds: 30, maxCoolDownSeconds: 600 },
} as const;

export const queues: Record<QueueName, QueueSpec> = {
  requests: {
    consumer: 'process',
    visibilityTimeoutSeconds: functions.process.timeoutSeconds * 6,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    maxConcurrency: 10,
    retentionDays: 4,
    // SQS moves a message to the DLQ on the receive after maxReceiveCount, so the count is the attempt budget.
    deadLetter: { maxReceiveCount: requestRetrySchedule.maxAttempts, retentionDays: 14 },
    retry: requestRetrySchedule,
    tenantField: 'merchantId',
  },
  deliveries: {
    consumer: 'deliver',
    visibilityTimeoutSeconds: functions.deliver.timeoutSeconds * 6,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    // Delivering is waiting on receivers: a batch holding a receiver that never answers occupies
    // its instance for the 10 s timeout, so isolation comes from running many instances at once.
    maxConcurrency: 50,
    retentionDays: 4,
    // The receive count is the attempt number: the eighth failure leaves the message for the DLQ.
    deadLetter: { maxReceiveCount: webhookRetrySchedule.maxAttempts, retentionDays: 14 },
    retry: webhookRetrySchedule,
    tenantField: 'endpointId',
  },
};

/** The environment variables through which a queue's consumer learns an overridden schedule. */
export const retryEnvironment: Record<QueueName, { readonly delays: string; readonly maxAttempts: string }> = {
  requests: { delays: ENV.requestRetryDelays, maxAttempts: ENV.requestMaxAttempts },
  deliveries: { delays: ENV.deliveryRetryDelays, maxAttempts: ENV.deliveryMaxAttempts },
};

/**
 * A queue's retry schedule with an operator's override: its attempts are the queue's
 * maxReceiveCount unless overridden, and the stack sets maxReceiveCount from the result, so the
 * attempt the worker treats as the last is the one after which SQS dead-letters.
 */
export function queueRetrySchedule(queue: QueueName, override: RetryOverride = {}): RetrySchedule {
  const spec = queues[queue];
  return withRetryOverride({ ...spec.retry, maxAttempts: spec.deadLetter.maxReceiveCount }, override);
}

/**
 * The retry schedule a queue's consumer runs: the topology's, overridden by the environment the
 * stack sets from its props (absent or empty variables leave the topology's numbers).
 */
export function retryScheduleOf(queue: QueueName, env: Readonly<Record<string, string | undefined>>): RetrySchedule {
  const names = retryEnvironment[queue];
  const delays = env[names.delays]?.trim();
  const attempts = env[names.maxAttempts]?.trim();
  try {
    return queueRetrySchedule(queue, {
      ...(delays ? { delaysSeconds: parseRetryDelays(delays) } : {}),
      ...(attempts ? { maxAttempts: Number(attempts) } : {}),
    });
  } catch (error) {
    throw new RangeError(`${names.delays} / ${names.maxAttempts}: ${(error as Error).message}`, { cause: error });
  }
}

/** The environment that carries a queue's schedule to the functions; `retryScheduleOf` reads it back. */
export function retryScheduleEnvironment(queue: QueueName, schedule: RetrySchedule): Record<string, string> {
  const names = retryEnvironment[queue];
  return { [names.delays]: schedule.delaysSeconds.join(','), [names.maxAttempts]: String(schedule.maxAttempts) };
}

export const table = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  /**
   * Both indexes project keys only: an update that leaves an item's index keys alone then writes
   * no index entry, and readers fetch the items by key (BatchGetItem). Changing a projection
   * replaces the index on deploy (docs/stack.md).
   */
  indexes: {
    /** A merchant's requests, newest first: gsi1pk = MER#<merchantId>#<shard>, gsi1sk = createdAt#id. */
    byMerchant: { name: 'byMerchant', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projection: 'KEYS_ONLY' },
    /** Open work for the sweepers: gsi2pk = STATUS#<status>#<shard> or DLV#pending#<shard>, gsi2sk = sweep time#id. */
    byStatus: { name: 'byStatus', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projection: 'KEYS_ONLY' },
  },
  /**
   * How many partition key values each shared index key is spread over (docs/data-model.md,
   * docs/scale.md). DynamoDB serves 1,000 write units a second per value: a request writes its
   * byStatus shard about twice per status it passes, its merchant's list shard once, and its
   * endpoint's delivery-log shard once, so these counts put the table's ceiling above 20,000
   * requests a second and one merchant's above 5,000. Readers query every shard, so each list
   * page and each sweep costs one query per shard. Changing a count moves where new items land:
   * readers would miss items written under the old count, so it is a migration, not a setting.
   */
  shards: {
    /** `STATUS#accepted`, `STATUS#processing` and `DLV#pending`: every open item of the service. */
    byStatus: 128,
    /** `MER#<merchantId>`: every request of one merchant. */
    merchantRequests: 16,
    /** `WH#<endpointId>`: every delivery to one endpoint. */
    endpointDeliveries: 16,
  },
} as const;

/**
 * The webhook signing secrets, apart from the table every function reads: one item per endpoint,
 * keyed like the endpoint (lambdas/adapters/dynamo/keys.ts), no indexes, no TTL.
 */
export const secretsTable = {
  partitionKey: 'pk',
  sortKey: 'sk',
} as const;

export const topics = {
  notifications: { displayName: 'Herald notifications' },
} as const;

/** Defaults an operator may override (stack props on AWS, environment locally). */
export const defaults = {
  requestRetentionDays: 30,
  /** Seconds a client is told to wait before polling a request that is not finished yet. */
  retryAfterSeconds: 1,
  /** An `accepted` request with no enqueue mark this long after its last change lost its SendMessage. */
  sweepUnenqueuedAfterSeconds: 60,
  /**
   * Submit writes the enqueue mark before SendMessage and clears it if the send fails; if the
   * clearing write fails too, the mark lies. Past this age the sweeper re-enqueues regardless.
   */
  sweepStaleEnqueueAfterSeconds: 15 * 60,
  /** Requests of each kind one sweeper run handles at most. */
  sweepBatchLimit: 100,
  /**
   * `Prefer: wait=N` on GET /v1/requests/{id} and POST /v1/requests: the longest wait served (a
   * longer one is cut to it; API Gateway's HTTP API ends an integration at 30 s), and how many
   * such calls one merchant may hold at once (more are answered without waiting).
   */
  waiting: { maxSeconds: 20, callsPerMerchant: 10 },
} as const;

/** Physical names used by the local runtime; on AWS, CloudFormation names the resources. */
export function localResourceNames(prefix = SERVICE_NAME) {
  return {
    table: `${prefix}-table`,
    secretsTable: `${prefix}-secrets`,
    queue: (name: QueueName) => `${prefix}-${name}`,
    deadLetterQueue: (name: QueueName) => `${prefix}-${name}-dlq`,
    topic: (name: keyof typeof topics) => `${prefix}-${name}`,
  };
}
