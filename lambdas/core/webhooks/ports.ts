import type { AttemptRecord, Delivery, DeliveryState, NewDelivery } from './delivery';
import type { DeliveryMessage } from './delivery-message';
import type { EndpointSettings, WebhookEndpoint } from './endpoint';

export type { AttemptRecord } from './delivery';

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
   * Records what the first attempt of a delivery that has no record yet came to, creating the
   * record in round 1 with that outcome: one conditional write. False when a record exists: another
   * copy of the message (a repeated fan-out, a duplicate receive) recorded its outcome first.
   */
  recordFirst(delivery: NewDelivery, record: AttemptRecord, at: string): Promise<boolean>;
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
  /**
   * Records what an attempt of `round` came to. False when the delivery moved on meanwhile (it was
   * sent again, or another copy of the message already finished it).
   */
  record(id: string, round: number, record: AttemptRecord, at: string): Promise<boolean>;
  /**
   * Starts a new round: pending again, due at `at`, while the delivery has had fewer than
   * `MAX_DELIVERY_ROUNDS` rounds. With `expected`, only if the delivery is still in that round and
   * state (pending unless said otherwise) and, when given, due at that time (nothing happened
   * since the caller looked).
   */
  resend(
    id: string,
    at: string,
    expected?: { readonly round: number; readonly state?: DeliveryState; readonly nextAttemptAt?: string },
  ): Promise<Delivery | undefined>;
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
