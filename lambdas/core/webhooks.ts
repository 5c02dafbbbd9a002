import { randomBytes } from 'node:crypto';
import type { HeraldRequest } from './request';
import * as z from './schema';
import { matchesFilter, parseFilter, type WebhookFilter } from './webhook-filter';
import { generateKeyPair, publishedKeyOf, SIGNATURE_SCHEMES, type PublishedKey, type SignatureScheme } from './webhook-signatures';
import type { OrderingTicket } from './delivery-order';

/**
 * Webhook endpoints, the events Herald sends them and the deliveries that carry one event to one
 * endpoint. Pure: ids, event bodies, filters and the public views; storage and HTTP live in adapters.
 */

export const REQUEST_EVENT_TYPES = ['request.succeeded', 'request.failed'] as const;
export type RequestEventType = (typeof REQUEST_EVENT_TYPES)[number];
export const TEST_EVENT_TYPE = 'webhook.test';
export type WebhookEventType = RequestEventType | typeof TEST_EVENT_TYPE;

export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: `whsec_` and 32 random bytes in base64, the form Standard Webhooks libraries accept. */
export function generateSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

export interface SigningSecret {
  readonly secret: string;
  readonly createdAt: string;
  /** Set on a rotated-out secret: it keeps signing next to the new one until then. */
  readonly expiresAt?: string;
}

export type EndpointStatus = 'enabled' | 'disabled';

/** What an endpoint's events carry: the whole request event, or only what identifies it and where to fetch it. */
export const PAYLOAD_MODES = ['full', 'thin'] as const;
export type PayloadMode = (typeof PAYLOAD_MODES)[number];

export interface WebhookEndpoint {
  readonly id: string;
  readonly merchantId: string;
  readonly url: string;
  readonly description?: string;
  /** Absent: every event type. */
  readonly eventTypes?: readonly RequestEventType[];
  /** Deliveries per second this endpoint takes at most, across every worker; absent: no limit. */
  readonly rateLimitPerSecond?: number;
  /** Conditions on the event body (lambdas/core/webhook-filter.ts); absent: every event of its types. */
  readonly filter?: WebhookFilter;
  /** Absent: `full`. */
  readonly payloadMode?: PayloadMode;
  /** Absent: `v1`. Chosen at registration: rotation keeps the scheme. */
  readonly signatureScheme?: SignatureScheme;
  /** `v1a` only: the public half of the current secret key (`whpk_…`); public, so kept with the settings. */
  readonly publicKey?: string;
  /** `v1a` only: the rotated-out key's public half, published until the old key stops signing. */
  readonly previousPublicKey?: { readonly key: string; readonly expiresAt: string };
  readonly status: EndpointStatus;
  readonly disabledReason?: string;
  readonly disabledAt?: string;
  readonly secret: SigningSecret;
  readonly previousSecret?: SigningSecret;
  /** When the current run of failed attempts began; cleared by the next success. */
  readonly failingSince?: string;
  /** Refreshed at most hourly, so that a healthy endpoint costs no write per delivery. */
  readonly lastSuccessAt?: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * An endpoint without its signing secrets: what a function that may not read the secrets (the
 * fan-out, listings) gets. The secrets live apart, readable only where they are managed or used.
 */
export type EndpointSettings = Omit<WebhookEndpoint, 'secret' | 'previousSecret'>;

/** What a merchant sees of an endpoint: never a secret, except right after creating or rotating it. */
export interface EndpointView {
  readonly id: string;
  readonly url: string;
  readonly description?: string;
  readonly eventTypes: readonly string[];
  readonly filter?: WebhookFilter;
  readonly payloadMode: PayloadMode;
  readonly rateLimitPerSecond?: number;
  readonly signatureScheme: SignatureScheme;
  readonly publicKey?: string;
  readonly disabled: boolean;
  readonly disabledReason?: string;
  readonly disabledAt?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly secret?: string;
}

export function presentEndpoint(endpoint: EndpointSettings & { readonly secret?: SigningSecret }, options: { withSecret?: boolean } = {}): EndpointView {
  return {
    id: endpoint.id,
    url: endpoint.url,
    ...(endpoint.description !== undefined ? { description: endpoint.description } : {}),
    eventTypes: endpoint.eventTypes ?? [...REQUEST_EVENT_TYPES],
    ...(endpoint.filter ? { filter: endpoint.filter } : {}),
    payloadMode: endpoint.payloadMode ?? 'full',
    ...(endpoint.rateLimitPerSecond !== undefined ? { rateLimitPerSecond: endpoint.rateLimitPerSecond } : {}),
    signatureScheme: endpoint.signatureScheme ?? 'v1',
    ...(endpoint.publicKey ? { publicKey: endpoint.publicKey } : {}),
    disabled: endpoint.status === 'disabled',
    ...(endpoint.disabledReason ? { disabledReason: endpoint.disabledReason } : {}),
    ...(endpoint.disabledAt ? { disabledAt: endpoint.disabledAt } : {}),
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
    // A v1a secret key never leaves Herald: the merchant gets the public key instead.
    ...(options.withSecret && endpoint.secret && endpoint.signatureScheme !== 'v1a' ? { secret: endpoint.secret.secret } : {}),
  };
}

/** A fresh signing secret of an endpoint's scheme, and for `v1a` the public key that goes with it. */
export function newSigningSecret(scheme: SignatureScheme | undefined, createdAt: string): { secret: SigningSecret; publicKey?: string } {
  if (scheme !== 'v1a') return { secret: { secret: generateSigningSecret(), createdAt } };
  const pair = generateKeyPair();
  return { secret: { secret: pair.secretKey, createdAt }, publicKey: pair.publicKey };
}

/** The public keys a `v1a` endpoint signs with now: the current one, and the rotated-out one until it expires. */
export function publishedKeysOf(endpoint: EndpointSettings, now: Date): PublishedKey[] {
  if (endpoint.signatureScheme !== 'v1a' || !endpoint.publicKey) return [];
  const previous = endpoint.previousPublicKey;
  const keepPrevious = previous !== undefined && previous.expiresAt > now.toISOString();
  return [publishedKeyOf(endpoint.publicKey), ...(keepPrevious ? [publishedKeyOf(previous.key, previous.expiresAt)] : [])];
}

/** The secrets that sign right now: the current one, and the previous one until it expires. */
export function activeSecrets(endpoint: WebhookEndpoint, now: Date): string[] {
  const previous = endpoint.previousSecret;
  const keepPrevious = previous?.expiresAt !== undefined && previous.expiresAt > now.toISOString();
  return [endpoint.secret.secret, ...(keepPrevious ? [previous.secret] : [])];
}

/** Whether an endpoint wants an event type; the test event goes to whoever asks for it. */
export function subscribes(endpoint: EndpointSettings, type: WebhookEventType): boolean {
  if (type === TEST_EVENT_TYPE) return true;
  return endpoint.eventTypes === undefined || endpoint.eventTypes.includes(type);
}

/** Whether an endpoint takes an event: its type is one the endpoint asks for and its body passes the endpoint's filter. */
export function takesEvent(endpoint: EndpointSettings, event: RequestEvent): boolean {
  return subscribes(endpoint, event.type) && (endpoint.filter === undefined || matchesFilter(endpoint.filter, event));
}

/** The highest per-endpoint rate: above it a limit would not protect any receiver Herald's own concurrency could reach. */
export const MAX_RATE_LIMIT_PER_SECOND = 1000;
const rateLimitSchema = z
  .number({ error: 'must be a whole number of deliveries per second' })
  .check(z.int('must be a whole number of deliveries per second'), z.gte(1, 'must be at least 1'), z.lte(MAX_RATE_LIMIT_PER_SECOND, `must be at most ${MAX_RATE_LIMIT_PER_SECOND}`));

const payloadModeSchema = z.enum(PAYLOAD_MODES, { error: `must be one of ${PAYLOAD_MODES.join(', ')}` });

/** A filter from a request body: validated and bounded (`parseFilter`), or undefined when absent. */
const filterSchema = z.unknown().check(
  z.superRefine((value, ctx) => {
    try {
      parseFilter(value, '');
    } catch (error) {
      for (const issue of (error as { errors?: { path: string; message: string }[] }).errors ?? []) {
        ctx.issues.push({ code: 'custom', message: issue.message, input: value, path: issue.path.split('/').slice(1) });
      }
    }
  }),
) as z.ZodMiniType<WebhookFilter>;

const eventTypesSchema = z
  .array(z.enum(REQUEST_EVENT_TYPES, { error: `must be one of ${REQUEST_EVENT_TYPES.join(', ')}` }))
  .check(z.minLength(1, 'must name at least one event type'), z.maxLength(REQUEST_EVENT_TYPES.length));

export const createEndpointSchema = z.strictObject({
  url: z.string({ error: 'url is required and must be a string' }),
  description: z.optional(z.string().check(z.maxLength(500))),
  eventTypes: z.optional(eventTypesSchema),
  filter: z.optional(filterSchema),
  payloadMode: z.optional(payloadModeSchema),
  rateLimitPerSecond: z.optional(rateLimitSchema),
  signatureScheme: z.optional(z.enum(SIGNATURE_SCHEMES, { error: `must be one of ${SIGNATURE_SCHEMES.join(', ')}` })),
});

export const updateEndpointSchema = z
  .strictObject({
    url: z.optional(z.string()),
    description: z.optional(z.nullable(z.string().check(z.maxLength(500)))),
    eventTypes: z.optional(z.nullable(eventTypesSchema)),
    filter: z.optional(z.nullable(filterSchema)),
    payloadMode: z.optional(payloadModeSchema),
    rateLimitPerSecond: z.optional(z.nullable(rateLimitSchema)),
    disabled: z.optional(z.boolean()),
  })
  .check(z.refine((patch) => Object.keys(patch).length > 0, 'name at least one of url, description, eventTypes, filter, payloadMode, rateLimitPerSecond, disabled'));

export const recoverSchema = z.strictObject({
  since: z.iso.datetime({ offset: true, error: 'since must be an ISO 8601 date-time' }),
});

export type CreateEndpointInput = z.infer<typeof createEndpointSchema>;
export type UpdateEndpointInput = z.infer<typeof updateEndpointSchema>;

// --- deliveries ---------------------------------------------------------------------------

export type DeliveryState = 'pending' | 'succeeded' | 'dead' | 'dropped';
export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'succeeded', 'dead', 'dropped'];

/** Why an attempt failed when there was no HTTP status to tell. */
export type AttemptErrorCode =
  | 'timeout'
  | 'connect_timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns'
  | 'tls'
  | 'unsafe_address'
  | 'network'
  /** No POST was made: the endpoint's circuit was open, and the delivery was rescheduled. */
  | 'circuit_open'
  /** No POST was made: a delivery of the same ordering key to the endpoint is ahead of it (lambdas/core/deliver-in-order.ts). */
  | 'predecessor_pending';

/** Attempts a delivery's log keeps: the latest ones, across rounds, so the item never outgrows its bound. */
export const ATTEMPT_LOG_LIMIT = 20;
/** Bytes of a receiver's response body kept on an attempt: enough to read an error, never enough to fill the item. */
export const RESPONSE_EXCERPT_BYTES = 1024;
/** Characters of an attempt's error message kept. */
export const ERROR_MESSAGE_CHARS = 300;
/**
 * Rounds a delivery may have: every path that sends it again (the sweeper, recover, a retry, a
 * redrive) starts one, and each round has at most the deliveries queue's maxReceiveCount attempts.
 */
export const MAX_DELIVERY_ROUNDS = 100;
/**
 * The largest a delivery item grows, in bytes: the attempt log at its limit (each attempt at most
 * about 1.5 KB with its body excerpt and error message) and the fixed fields. docs/data-model.md states it.
 */
export const DELIVERY_ITEM_BOUND_BYTES = 32 * 1024;

/** The log after `attempt`: the latest `ATTEMPT_LOG_LIMIT` attempts, oldest first. */
export function appendAttempt(log: readonly DeliveryAttempt[], attempt: DeliveryAttempt): DeliveryAttempt[] {
  return [...log, attempt].slice(-ATTEMPT_LOG_LIMIT);
}

/** The first `RESPONSE_EXCERPT_BYTES` bytes of a body, cut on a character boundary. */
export function excerptOf(body: string): string {
  const bytes = Buffer.from(body, 'utf8');
  if (bytes.length <= RESPONSE_EXCERPT_BYTES) return body;
  // Decoding a cut multi-byte character yields U+FFFD; drop it rather than store half a character.
  return bytes.subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8').replace(/\uFFFD$/, '');
}

export interface DeliveryAttempt {
  readonly at: string;
  readonly attempt: number;
  readonly status?: number;
  readonly error?: AttemptErrorCode;
  readonly errorMessage?: string;
  readonly latencyMs: number;
  /** How long the attempt waited for the endpoint's rate limit (`rateLimitPerSecond`) before it went out. */
  readonly waitedMs?: number;
  /** The first bytes of the response body, at most `RESPONSE_EXCERPT_BYTES`. */
  readonly responseBody?: string;
}

export interface Delivery {
  readonly id: string;
  readonly merchantId: string;
  readonly endpointId: string;
  /** The request the event is about, or the test event's own id. */
  readonly subjectId: string;
  readonly eventType: WebhookEventType;
  /** The event's `timestamp`: kept so that every attempt sends the very same body. */
  readonly eventTimestamp: string;
  readonly state: DeliveryState;
  /** Bumped when a delivery is sent again (retry, recover, sweeper): older messages no longer count. */
  readonly round: number;
  readonly attempts: readonly DeliveryAttempt[];
  readonly nextAttemptAt?: string;
  readonly reason?: string;
  readonly traceId?: string;
  /** The deliveries queue's redrive generation when it went dead: only a later redrive sends it again. */
  readonly deadAtRedrive?: number;
  /** Its request's place in its ordering key: every round waits for the deliveries ahead of it. */
  readonly ordering?: OrderingTicket;
  /** Set once it waited for its key's order: `waiting`, then which message claimed its turn (lambdas/core/delivery-order.ts). */
  readonly orderWait?: string;
  /** When its first attempt began: the record is written with that attempt's outcome, not before. */
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What an attempt (or a decision not to attempt) came to, as the delivery's record stores it. */
export interface AttemptRecord {
  /** The attempt log to store, already trimmed (`appendAttempt`); absent when no attempt was made. */
  readonly attempts?: readonly DeliveryAttempt[];
  readonly state: DeliveryState;
  readonly nextAttemptAt?: string;
  readonly reason?: string;
  /** On a dead delivery: the deliveries queue's redrive generation now. */
  readonly redriveGeneration?: number;
}

/**
 * A delivery before its record exists: what its message says it carries, and when its first
 * attempt began. The first outcome's write creates the record from it, in round 1.
 */
export type NewDelivery = Pick<Delivery, 'id' | 'merchantId' | 'endpointId' | 'subjectId' | 'eventType' | 'eventTimestamp' | 'traceId' | 'ordering' | 'createdAt'>;

/** The delivery a message of round 1 creates when its first attempt ends. */
export function newDeliveryOf(message: DeliveryMessage, createdAt: string): NewDelivery {
  return {
    id: message.deliveryId,
    merchantId: message.merchantId,
    endpointId: message.endpointId,
    subjectId: message.subjectId,
    eventType: message.eventType,
    eventTimestamp: message.eventTimestamp,
    ...(message.traceId ? { traceId: message.traceId } : {}),
    ...(message.ordering ? { ordering: message.ordering } : {}),
    createdAt,
  };
}

/** The record a first outcome creates: the new delivery in round 1, in the state the outcome left it. */
export function firstRecordOf(delivery: NewDelivery, record: AttemptRecord, at: string): Delivery {
  return {
    ...delivery,
    state: record.state,
    round: 1,
    attempts: record.attempts ?? [],
    ...(record.state === 'pending' ? { nextAttemptAt: record.nextAttemptAt ?? at } : {}),
    ...(record.reason ? { reason: record.reason } : {}),
    ...(record.redriveGeneration !== undefined ? { deadAtRedrive: record.redriveGeneration } : {}),
    updatedAt: at,
  };
}

const EVENT_CODES: Record<WebhookEventType, string> = {
  'request.succeeded': 'succeeded',
  'request.failed': 'failed',
  'webhook.test': 'test',
};

/**
 * The delivery id, which is also the `webhook-id` header: derived from what it carries, so that
 * every fan-out of one event names the same delivery (the deliver worker finds its record and does
 * not post again), and reversible, so that an id alone locates it.
 *
 * @example deliveryIdOf('req_01j…', 'ep_01j…', 'request.succeeded') === 'dlv_req_01j….ep_01j….succeeded'
 */
export function deliveryIdOf(subjectId: string, endpointId: string, eventType: WebhookEventType): string {
  return `dlv_${subjectId}.${endpointId}.${EVENT_CODES[eventType]}`;
}

/** The parts of a delivery id, or undefined for a string that is not one. */
export function parseDeliveryId(id: string): { subjectId: string; endpointId: string; eventType: WebhookEventType } | undefined {
  const match = /^dlv_([A-Za-z0-9_-]{1,80})\.([A-Za-z0-9_-]{1,80})\.([a-z]+)$/.exec(id);
  if (!match) return undefined;
  const eventType = (Object.keys(EVENT_CODES) as WebhookEventType[]).find((type) => EVENT_CODES[type] === match[3]);
  return eventType ? { subjectId: match[1]!, endpointId: match[2]!, eventType } : undefined;
}

/** The event type a finished request announces, if any: a cancelled request announces nothing. */
export function eventTypeOf(request: HeraldRequest): RequestEventType | undefined {
  if (request.status === 'succeeded') return 'request.succeeded';
  if (request.status === 'failed') return 'request.failed';
  return undefined;
}

/** A request event as receivers get it in full, and as filters see it. */
export interface RequestEvent {
  readonly type: RequestEventType;
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
}

export function requestEvent(request: HeraldRequest, type: RequestEventType, timestamp: string): RequestEvent {
  return {
    type,
    timestamp,
    data: {
      id: request.id,
      type: request.type,
      status: request.status,
      ...(request.status === 'succeeded' ? { result: request.result ?? null } : {}),
      ...(request.status === 'failed' && request.error ? { error: request.error } : {}),
      createdAt: request.createdAt,
      updatedAt: request.updatedAt,
    },
  };
}

/** The body of a request event, as receivers get it. */
export function requestEventBody(request: HeraldRequest, type: RequestEventType, timestamp: string): string {
  return JSON.stringify(requestEvent(request, type, timestamp));
}

/** Where a request can be fetched with the merchant's API key: the API's `GET /v1/requests/{id}`. */
export type RequestUrlOf = (requestId: string) => string;
/** The link where no public API URL is known: the path, relative to the API the merchant calls. */
export const requestPathOf: RequestUrlOf = (requestId) => `/v1/requests/${requestId}`;

/**
 * A thin event (Stripe's name): what identifies the event and its request, its times, and the
 * URL to fetch the request from, never its payload, result or error, so a receiver that must not
 * hold that data fetches it with its own key when it needs it.
 */
export function thinRequestEvent(event: RequestEvent, requestUrlOf: RequestUrlOf) {
  const { id, type, status, createdAt, updatedAt } = event.data as Record<string, string>;
  return { type: event.type, timestamp: event.timestamp, data: { id, type, status, createdAt, updatedAt, url: requestUrlOf(id!) } };
}

/** The body an endpoint gets for a request event, in its payload mode. */
export function eventBodyFor(endpoint: Pick<EndpointSettings, 'payloadMode'>, event: RequestEvent, requestUrlOf: RequestUrlOf = requestPathOf, fullBody?: string): string {
  if (endpoint.payloadMode === 'thin') return JSON.stringify(thinRequestEvent(event, requestUrlOf));
  return fullBody ?? JSON.stringify(event);
}

/** The body of a `webhook.test` event: the same for every attempt of one test delivery. */
export function testEventBody(endpointId: string, eventId: string, timestamp: string): string {
  return JSON.stringify({
    type: TEST_EVENT_TYPE,
    timestamp,
    data: { id: eventId, endpointId, message: 'This is a test event from Herald' },
  });
}

/** A delivery as the API shows it. */
export function presentDelivery(delivery: Delivery) {
  return {
    id: delivery.id,
    endpointId: delivery.endpointId,
    ...(delivery.eventType === TEST_EVENT_TYPE ? {} : { requestId: delivery.subjectId }),
    eventType: delivery.eventType,
    state: delivery.state,
    attempts: delivery.attempts,
    ...(delivery.nextAttemptAt && delivery.state === 'pending' ? { nextAttemptAt: delivery.nextAttemptAt } : {}),
    ...(delivery.reason ? { reason: delivery.reason } : {}),
    createdAt: delivery.createdAt,
    updatedAt: delivery.updatedAt,
  };
}

/** Counts of a request's deliveries, for the status view: failed counts dead and dropped ones. */
export function summarizeDeliveries(deliveries: readonly Delivery[]): { total: number; pending: number; delivered: number; failed: number } {
  const counts = { total: deliveries.length, pending: 0, delivered: 0, failed: 0 };
  for (const delivery of deliveries) {
    if (delivery.state === 'pending') counts.pending++;
    else if (delivery.state === 'succeeded') counts.delivered++;
    else counts.failed++;
  }
  return counts;
}

/** What travels on the deliveries queue: which delivery, which round, and the body when it fits. */
export interface DeliveryMessage {
  readonly deliveryId: string;
  readonly merchantId: string;
  readonly endpointId: string;
  readonly subjectId: string;
  readonly eventType: WebhookEventType;
  readonly eventTimestamp: string;
  readonly round: number;
  /** The signed body; absent when too large for a message, then rebuilt from the request. */
  readonly payload?: string;
  readonly traceId?: string;
  /**
   * Attempts this round made on earlier messages: set when an open circuit or the endpoint's rate
   * limit put the delivery on a new message, whose receive count starts again at 1. The attempt
   * number is this plus the receive count, so a skip or a wait spends none of the attempts before
   * the DLQ.
   */
  readonly attemptsBefore?: number;
  /** When the attempt began waiting for the rate limit, across messages. */
  readonly waitingSince?: string;
  /** The message is to be received no earlier than this (SQS DelaySeconds, at most 15 minutes). */
  readonly notBefore?: string;
  /** The request's place in its ordering key: the delivery goes only once those ahead of it ended. */
  readonly ordering?: OrderingTicket;
  /** When the delivery first found one ahead of it, across messages: its wait is bounded from then. */
  readonly orderWaitSince?: string;
  /** Names a wake or a re-check of a delivery that waited for its key: the one that claims the delivery posts it. */
  readonly orderToken?: string;
}

/** Bodies above this stay out of the message (SQS takes 256 KiB with attributes); the worker rebuilds them. */
export const MAX_INLINE_PAYLOAD_BYTES = 200 * 1024;

export function parseDeliveryMessage(body: string): DeliveryMessage | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<DeliveryMessage>;
    if (
      typeof parsed.deliveryId === 'string' &&
      typeof parsed.merchantId === 'string' &&
      typeof parsed.endpointId === 'string' &&
      typeof parsed.subjectId === 'string' &&
      typeof parsed.eventType === 'string' &&
      typeof parsed.eventTimestamp === 'string' &&
      typeof parsed.round === 'number' &&
      (parsed.attemptsBefore === undefined || (Number.isInteger(parsed.attemptsBefore) && parsed.attemptsBefore >= 0)) &&
      (parsed.ordering === undefined || (typeof parsed.ordering.key === 'string' && Number.isInteger(parsed.ordering.seq)))
    ) {
      return parsed as DeliveryMessage;
    }
  } catch {
    // Not ours: the caller drops it.
  }
  return undefined;
}

/** An ETag that also changes when the request's deliveries progress (they do not bump its version). */
export function withDeliveriesTag(etag: string, summary: { total: number; pending: number; delivered: number; failed: number }): string {
  if (summary.total === 0) return etag;
  return `${etag.slice(0, -1)}.d${summary.pending}-${summary.delivered}-${summary.failed}"`;
}
