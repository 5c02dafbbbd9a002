import type { Delivery } from './delivery';
import type { DeliveryTransition } from './delivery-lifecycle';
import type { DeliveryMessage } from './delivery-message';
import type { EndpointSettings, WebhookEndpoint } from './endpoint';

/**
 * What the webhook use cases need from storage and transport, in domain terms; the DynamoDB and
 * SQS adapters implement them.
 */

export type CreateEndpointOutcome = 'created' | 'limit-reached';

export interface WebhookEndpointStore {
  /** Stores a new endpoint unless the merchant already has `maxPerMerchant` (one transaction with a counter). */
  create(endpoint: WebhookEndpoint, maxPerMerchant: number): Promise<CreateEndpointOutcome>;
  /** A consistent read, secrets included: what the API shows and changes. */
  get(merchantId: string, id: string): Promise<WebhookEndpoint | undefined>;
  /** A merchant's endpoints without their secrets, so that listing needs no access to them. */
  list(merchantId: string): Promise<EndpointSettings[]>;
  /** Reads that may be a few seconds old (`webhookDefaults.endpointCacheSeconds`): what deliveries use. */
  getCached(merchantId: string, id: string): Promise<WebhookEndpoint | undefined>;
  listCached(merchantId: string): Promise<EndpointSettings[]>;
  /** Replaces an endpoint if nobody changed it since `expectedVersion`; undefined when someone did. */
  replace(endpoint: WebhookEndpoint, expectedVersion: number): Promise<WebhookEndpoint | undefined>;
  delete(merchantId: string, id: string): Promise<boolean>;
  /** Disables an enabled endpoint; undefined when it was already disabled or is gone. */
  disable(merchantId: string, id: string, reason: string, at: string): Promise<EndpointSettings | undefined>;
  /** Notes the start of a run of failures (kept if already running); returns the endpoint as stored. */
  markFailing(merchantId: string, id: string, at: string): Promise<EndpointSettings | undefined>;
  /** Ends a run of failures. */
  markSucceeded(merchantId: string, id: string, at: string): Promise<void>;
}

export interface DeliveryStore {
  /**
   * Writes a transition `decideDelivery` decided, on the condition it names (no record yet, or the
   * round, state and due time it was decided on): one conditional write. Returns the record as
   * stored after it, or undefined when the condition no longer held: another copy of the message
   * recorded first, the delivery moved on to a newer round, or it is gone.
   */
  apply(transition: DeliveryTransition): Promise<Delivery | undefined>;
  get(id: string): Promise<Delivery | undefined>;
  listForSubject(subjectId: string): Promise<Delivery[]>;
  /** An endpoint's deliveries, newest first, optionally only those created at or after `since`. */
  listForEndpoint(endpointId: string, query: { readonly since?: string; readonly limit: number }): Promise<Delivery[]>;
  /**
   * One page of an endpoint's deliveries created at or after `since`, oldest first, starting after
   * the position `after` (a previous page's `next`); `next` is absent on the last page.
   */
  pageForEndpoint(
    endpointId: string,
    query: { readonly since: string; readonly limit: number; readonly after?: string },
  ): Promise<{ readonly deliveries: Delivery[]; readonly next?: string }>;
  /** Pending deliveries whose next attempt was due before `before`, oldest first. */
  findOverdue(before: string, limit: number): Promise<Delivery[]>;
}

/** A slot taken (`at`, ms since the epoch), or none within the horizon: then try again at `retryAt`. */
export type RateReservation = { readonly kind: 'slot'; readonly at: number } | { readonly kind: 'later'; readonly retryAt: number };

export interface DeliveryRateLimiter {
  /**
   * Takes the endpoint's next delivery slot at `perSecond`, shared by every worker, if it comes
   * within `horizonMs` of `now` (ms since the epoch).
   */
  reserve(endpointId: string, perSecond: number, now: number, horizonMs: number): Promise<RateReservation>;
}

export interface DeliveryQueue {
  /** Sends messages in batches of ten, hidden for `delaySeconds` (at most 900) when given; throws if any could not be sent. */
  send(messages: readonly DeliveryMessage[], options?: { readonly delaySeconds?: number }): Promise<void>;
  /** Hides a received message for `seconds`: the wait before its next attempt. */
  delayRedelivery(receiptHandle: string, seconds: number): Promise<void>;
}

/**
 * Sends delivery messages in as few calls as the transport takes (SQS: ten entries and 256 KiB a
 * call), retrying once what failed on the transport's side. Reports rather than throws: the
 * positions in `messages` of those still unsent, so that a caller gathering several records'
 * messages fails only the records whose messages did not go.
 */
export interface DeliveryMessageSender {
  sendEach(messages: readonly DeliveryMessage[]): Promise<readonly number[]>;
}

/**
 * An endpoint's health as the deliver worker sees it: its failing streak, disabling it when it
 * answers 410, fails for days on end or lets deliveries die in a row, and the one notice that
 * tells its merchant. The worker reports each outcome; whatever follows is decided once, here.
 */
export interface EndpointHealth {
  /** An attempt got through: ends the endpoint's run of failures, if it had one. */
  attemptSucceeded(endpoint: WebhookEndpoint, at: string): Promise<void>;
  /** An attempt failed and the delivery will be tried again. */
  attemptFailed(endpoint: WebhookEndpoint, at: string): Promise<void>;
  /** A delivery's attempts ran out: it is dead. */
  deliveryDied(endpoint: WebhookEndpoint, deliveryId: string, at: string): Promise<void>;
  /** The endpoint answered 410 Gone: it is disabled at once. */
  gone(endpoint: WebhookEndpoint, at: string): Promise<void>;
}
