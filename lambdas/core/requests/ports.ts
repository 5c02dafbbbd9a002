import type { HeraldRequest, RequestStatus } from './request';
import type { Delivery } from '../webhooks/delivery';
import type { NotificationRecord } from '../notifications/notification';
import type { LifecyclePolicy, Transition } from './lifecycle-events';

/**
 * What the use cases need from storage and transport, stated in domain terms. The DynamoDB and
 * SQS adapters implement these; the use cases never see an AWS type.
 */

/**
 * What a second submit under a taken key finds: the request the key is bound to and the
 * fingerprint of the body that created it, read from the failed write itself.
 */
export type CreateOutcome =
  | { readonly outcome: 'created' }
  | { readonly outcome: 'exists'; readonly request: HeraldRequest; readonly fingerprint: string };

export type ClaimOutcome =
  | { readonly outcome: 'claimed'; readonly request: HeraldRequest }
  | { readonly outcome: 'lost'; readonly reason: string; readonly current?: HeraldRequest };

/** What a claim asks for: a lease of `leaseMs`, and only while fewer than `maxAttempts` attempts have started. */
export interface ClaimTerms {
  readonly leaseMs: number;
  readonly maxAttempts: number;
}

/**
 * Submitting: the request stored once under the id its idempotency key derives (so storing it is
 * also what deduplicates it), with the body's fingerprint, and whether it reached the queue.
 */
export interface RequestIntake {
  create(request: HeraldRequest, fingerprint: string): Promise<CreateOutcome>;
  markEnqueued(requestId: string, at: string): Promise<void>;
  markNotEnqueued(requestId: string): Promise<void>;
}

/** Reading one request; `getForMerchant` answers only its owner. */
export interface RequestReader {
  get(id: string): Promise<HeraldRequest | undefined>;
  getForMerchant(merchantId: string, id: string): Promise<HeraldRequest | undefined>;
}

/** A request with the records its status shows beside it: its deliveries and its notification slots. */
export interface RequestWithRecords {
  readonly request: HeraldRequest;
  /** Its request events' deliveries (endpoints and callback); test events are never among them. */
  readonly deliveries: readonly Delivery[];
  readonly notifications: readonly NotificationRecord[];
}

/**
 * What a status poll reads: the request and its records together, in one read where the store
 * keeps them side by side. Answers only the request's owner: another merchant's id is undefined,
 * like an unknown one, and none of its records are handed out.
 */
export interface RequestStatusReader {
  getWithRecordsForMerchant(merchantId: string, id: string): Promise<RequestWithRecords | undefined>;
}

/** What a store answers when asked to write a decided transition. */
export type ApplyOutcome =
  | { readonly outcome: 'applied'; readonly request: HeraldRequest }
  /** The precondition no longer held: `current` is the request as it stood then, absent when there is none. */
  | { readonly outcome: 'lost'; readonly current?: HeraldRequest };

/** Bodies stored apart that the caller needs with the answer; each costs a read only when it is stored apart. */
export interface ApplyReads {
  /** The payload of the request the write applied to: the attempt a claim starts runs on it. */
  readonly payload?: boolean;
  /** The result of a finished request a write lost against: its end may be announced again. */
  readonly resultOfFinished?: boolean;
}

/**
 * The lifecycle's side of storage: writes a transition `decide` allowed, in one conditional write
 * that holds its precondition and bumps `version`, and reports a lost condition. It decides
 * nothing: the use cases build the events, call `decide` and say what to do on a loss.
 */
export interface RequestTransitions {
  /** How long finished requests are kept: `decide` sets their expiry from it. */
  readonly policy: LifecyclePolicy;
  apply(id: string, transition: Transition, reads?: ApplyReads): Promise<ApplyOutcome>;
}

/** What travels on the requests queue: a pointer to the stored request, never its payload. */
export interface RequestMessage {
  readonly requestId: string;
  readonly merchantId: string;
  readonly type: string;
}

export interface RequestQueue {
  /** Sends the message; with `delaySeconds` (≤ 900, SQS's bound) no worker receives it before then. */
  enqueue(message: RequestMessage, traceId?: string, delaySeconds?: number): Promise<void>;
  /** Hides a received message for `seconds`: how a retry waits out its backoff without a timer. */
  delayRedelivery(receiptHandle: string, seconds: number): Promise<void>;
}

/**
 * Tells the world a request ended: webhooks to the merchant's endpoints, SMS or email. Called
 * after every terminal transition and again when a redelivered message finds the request already
 * finished (the worker may have died between the status write and the fan-out), so every
 * implementation must be idempotent per (request, event).
 */
export interface RequestEventPublisher {
  requestFinished(request: HeraldRequest): Promise<void>;
}

/** A place in a merchant's list, newest first: the last request a page returned. */
export interface ListPosition {
  readonly createdAt: string;
  readonly id: string;
}

export interface RequestPage {
  readonly requests: readonly HeraldRequest[];
  /** Present when more requests may follow; the next page starts after it. */
  readonly next?: ListPosition;
}

/** A merchant's requests, newest first, read from the index on (merchant, createdAt). */
export interface RequestListing {
  listForMerchant(
    merchantId: string,
    query: { readonly status?: RequestStatus; readonly limit: number; readonly after?: ListPosition },
  ): Promise<RequestPage>;
}

/** What one sweep looks for: each kind's cutoff, and at most `limit` of each. */
export interface StuckQuery {
  /** An `accepted` request last changed (or due for a retry) before this... */
  readonly changedBefore: string;
  /** ...and never enqueued, or last enqueued before this. */
  readonly enqueuedBefore: string;
  /** A `processing` request whose lease ran out before this: its worker died or timed out. */
  readonly leaseEndedBefore: string;
  /**
   * Such a request was claimed before this (no lease is shorter than the gap), so the time its
   * index entry keeps from before the claim is earlier still: the store need read no later entry.
   */
  readonly claimedBefore: string;
  readonly limit: number;
}

export interface StuckRequests {
  readonly unqueued: HeraldRequest[];
  readonly leaseExpired: HeraldRequest[];
}

/** What the sweeper reads and writes: requests that an enqueue or a worker left behind. */
export interface StuckRequestStore {
  /** Both kinds of stuck request, oldest first, found in one read of the open requests. */
  findStuck(query: StuckQuery): Promise<StuckRequests>;
  /** Records that a still-`accepted` request was put on the queue again at `at`. */
  markResent(id: string, at: string): Promise<void>;
}

/**
 * Unfinished work, whatever its age: the requests of a status that is not terminal, read from the
 * status index oldest first, at most `limit` (what a restart recovers, what `herald tail` follows).
 */
export interface UnfinishedRequests {
  findUnfinished(status: 'accepted' | 'processing', limit: number): Promise<HeraldRequest[]>;
}
