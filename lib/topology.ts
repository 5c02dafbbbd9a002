/**
 * The one description of Herald's deployment: its functions, HTTP routes, queues, schedules,
 * topic and grants. The CDK stack renders it to AWS and the local runtime renders it to
 * embedded endpoints and in-process pollers, so the two cannot drift apart.
 *
 * The runtime settings it builds on (environment names, metrics, retry schedules, table and
 * index names, limits) live in lambdas/settings, beside the Lambda code that reads them: Lambda
 * code never imports this module.
 */

import type { RetrySchedule } from '../lambdas/core/shared/retry-schedule';
import { ENV } from '../lambdas/settings/environment';
import { SERVICE_NAME } from '../lambdas/settings/observability';
import { retrySchedules, type QueueName } from '../lambdas/settings/retry';
import { keyPartitions, table, type BodyKind } from '../lambdas/settings/storage';

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
  /**
   * Payloads and results kept in the bodies bucket (over `INLINE_BODY_MAX_BYTES`): the kinds it
   * reads (`s3:GetObject`) and writes (`s3:PutObject`), each under its own key prefix. Every
   * function that reads a request's status reads its result, wherever it is kept.
   */
  readonly bodies?: { readonly read?: readonly BodyKind[]; readonly write?: readonly BodyKind[] };
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
    grants: { table: 'readWrite', queues: { requests: 'send' }, statusTokenSecret: 'create', bodies: { write: ['payload'] } },
  },
  status: {
    entry: 'lambdas/handlers/get-request-status.ts',
    description: 'GET /v1/requests/{id}: the status of one request',
    // Lambda's smallest size: a waiting call (`Prefer: wait`) is billed for its memory the whole
    // time it sleeps between reads, which halves at 128 MB; a poll's few ms of work take longer on
    // the smaller CPU share for about the same GB-s (docs/waiting.md).
    memoryMb: 128,
    // `Prefer: wait=N` holds the answer up to defaults.waiting.maxSeconds.
    timeoutSeconds: 25,
    grants: { table: 'read', countsWaitingCalls: true, bodies: { read: ['result'] } },
  },
  process: {
    entry: 'lambdas/handlers/process-requests.ts',
    description: 'Consumes the requests queue: claims, runs the processor, finishes',
    memoryMb: 512,
    timeoutSeconds: 60,
    // The fan-out texts and mails the people behind finished requests (subscribing new email recipients).
    grants: {
      table: 'readWrite',
      publishesTo: ['notifications'],
      managesSubscriptionsOf: ['notifications'],
      sendsSms: true,
      queues: { requests: 'consume', deliveries: 'send' },
      bodies: { read: ['payload', 'result'], write: ['result'] },
    },
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
    grants: { table: 'readWrite', secrets: 'readWrite', queues: { deliveries: 'send' }, bodies: { read: ['result'] } },
  },
  deliver: {
    entry: 'lambdas/handlers/deliver-webhooks.ts',
    description: 'Consumes the deliveries queue: signs and posts webhook events, schedules retries',
    memoryMb: 256,
    // A batch runs concurrently; each attempt is cut off after 10 s, then its outcome is recorded.
    timeoutSeconds: 30,
    // Tells the merchant's operations contacts when it disables an endpoint.
    // Signs with the secrets; only the webhooks API writes them.
    grants: { table: 'readWrite', secrets: 'read', queues: { deliveries: 'sendAndConsume' }, publishesTo: ['notifications'], bodies: { read: ['result'] } },
  },
  events: {
    entry: 'lambdas/handlers/stream-request-events.ts',
    description: "GET /v1/requests/{id}/events: a request's transitions as server-sent events (function URL, response streaming)",
    memoryMb: 256,
    // One stream lasts at most DEFAULT_STREAM_LIMITS.maxDurationMs (5 min); then the client reconnects.
    timeoutSeconds: 330,
    // Writes nothing but the stream slot leases (eventStreams below), a partition of their own.
    grants: { table: 'read', tableWritesUnder: [keyPartitions.eventStreamSlots], bodies: { read: ['result'] } },
    // A public URL whose every call may hold an instance for 330 s: capped so that streams can
    // never take the account's concurrency from the API and the workers (stack prop eventStreamConcurrency).
    reservedConcurrency: 50,
  },
  statusPage: {
    entry: 'lambdas/handlers/get-status-page.ts',
    description: "GET /v1/status/{token}: a request's public status page (no API key: the token is the capability)",
    memoryMb: 256,
    timeoutSeconds: 10,
    grants: { table: 'read', statusTokenSecret: 'read', bodies: { read: ['result'] } },
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

export interface QueueSpec {
  readonly consumer: FunctionName;
  /** Must exceed the consumer's timeout, or a message becomes visible while still being worked on. */
  readonly visibilityTimeoutSeconds: number;
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly maxConcurrency: number;
  readonly retentionDays: number;
  /** The DLQ keeps what SQS moves there for this long; a message moves after `retry.maxAttempts` receives. */
  readonly deadLetter: { readonly retentionDays: number };
  readonly retry: RetrySchedule;
  /**
   * The message field whose value is sent as the `MessageGroupId`: the queue's tenant. SQS fair
   * queues serve a tenant holding more than its share of the in-flight messages after the quiet
   * ones; the local event source applies the same rule (docs/scale.md, Fairness).
   */
  readonly tenantField: 'merchantId' | 'endpointId';
  /**
   * A second queue beside this one, with the same DLQ, settings and consumer but its own event
   * source: the consumer hands it the messages it measured as slow, so they never hold the main
   * pool's batches (docs/scale.md, "A slow lane").
   */
  readonly slowLane?: { readonly maxConcurrency: number };
}

/**
 * How long a queue's event source gathers messages before invoking a batch that is not full
 * (Lambda's smallest window above none). Under sustained traffic batches fill before it ends
 * (at 100 requests a second, ten messages take 0.1 s) and each receive, batch delete and
 * invocation serves ten requests; at light traffic each queue hop waits up to this long, so a
 * request's webhook arrives up to 2 s later (docs/performance.md).
 */
export const BATCHING_WINDOW_SECONDS = 1;

export const queues: Record<QueueName, QueueSpec> = {
  requests: {
    consumer: 'process',
    // AWS's rule for an event source with a batching window: six times the timeout plus the window.
    visibilityTimeoutSeconds: functions.process.timeoutSeconds * 6 + BATCHING_WINDOW_SECONDS,
    batchSize: 10,
    maxBatchingWindowSeconds: BATCHING_WINDOW_SECONDS,
    maxConcurrency: 10,
    retentionDays: 4,
    deadLetter: { retentionDays: 14 },
    retry: retrySchedules.requests,
    tenantField: 'merchantId',
    // Lambda's smallest event source concurrency: slow requests wait for each other, not for the quiet ones.
    slowLane: { maxConcurrency: 2 },
  },
  deliveries: {
    consumer: 'deliver',
    visibilityTimeoutSeconds: functions.deliver.timeoutSeconds * 6 + BATCHING_WINDOW_SECONDS,
    batchSize: 10,
    maxBatchingWindowSeconds: BATCHING_WINDOW_SECONDS,
    // Delivering is waiting on receivers: a batch holding a receiver that never answers occupies
    // its instance for the 10 s timeout, so isolation comes from running many instances at once.
    maxConcurrency: 50,
    retentionDays: 4,
    // The receive count is the attempt number: the last failure leaves the message for the DLQ.
    deadLetter: { retentionDays: 14 },
    retry: retrySchedules.deliveries,
    tenantField: 'endpointId',
  },
};

export const topics = {
  notifications: { displayName: 'Herald notifications' },
} as const;

/** Physical names used by the local runtime; on AWS, CloudFormation names the resources. */
export function localResourceNames(prefix = SERVICE_NAME) {
  return {
    table: `${prefix}-table`,
    secretsTable: `${prefix}-secrets`,
    queue: (name: QueueName) => `${prefix}-${name}`,
    deadLetterQueue: (name: QueueName) => `${prefix}-${name}-dlq`,
    topic: (name: keyof typeof topics) => `${prefix}-${name}`,
    bodiesBucket: `${prefix}-bodies`,
  };
}
