import { type DeliveryMessage } from './delivery-message';
import { type WebhookEventType } from './endpoint';
import type { OrderingTicket } from './delivery-order';

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
  /** No POST was made: a delivery of the same ordering key to the endpoint is ahead of it (lambdas/core/webhooks/deliver-in-order.ts). */
  | 'predecessor_pending';

/** Attempts a delivery's log keeps: the latest ones, across rounds, so the item never outgrows its bound. */
export const ATTEMPT_LOG_LIMIT = 20;
/** Bytes of a receiver's response body kept on an attempt: enough to read an error, never enough to fill the item. */
export const RESPONSE_EXCERPT_BYTES = 1024;
/** Characters of an attempt's error message kept. */
export const ATTEMPT_ERROR_MESSAGE_CHARS = 300;
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
  /** Set once it waited for its key's order: `waiting`, then which message claimed its turn (lambdas/core/webhooks/delivery-order.ts). */
  readonly orderWait?: string;
  /** When its first attempt began: the record is written with that attempt's outcome, not before. */
  readonly createdAt: string;
  readonly updatedAt: string;
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
