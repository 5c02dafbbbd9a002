import type { HeraldRequest, HistoryEntry, RequestError, RequestStatus } from './request';

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

export interface AttemptOutcome {
  readonly result?: unknown;
  readonly error?: RequestError;
  readonly reason?: string;
  readonly nextAttemptAt?: string;
  /** Rows the processor recorded during the attempt (saga steps), appended before the transition's own row. */
  readonly steps?: readonly HistoryEntry[];
  /** On a failure by exhaustion: the queue's redrive generation now, so only a later redrive reopens it. */
  readonly redriveGeneration?: number;
}

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

/** The worker's side of the lifecycle: take a request for one attempt, then end that attempt. */
export interface RequestClaims {
  claim(id: string, terms: ClaimTerms, expectedAttempts: number, now?: Date): Promise<ClaimOutcome>;
  finishAttempt(
    claimed: HeraldRequest,
    to: Exclude<RequestStatus, 'processing' | 'cancelled'>,
    outcome: AttemptOutcome,
    now?: Date,
  ): Promise<HeraldRequest | undefined>;
  /**
   * Ends a request all of whose `maxAttempts` attempts started without one finishing (the last
   * lease ran out): `failed` with the reason `attempts-exhausted`. Undefined when it changed first.
   */
  exhaust(current: HeraldRequest, maxAttempts: number, redriveGeneration: number, now?: Date): Promise<HeraldRequest | undefined>;
}

export interface RequestStore extends RequestIntake, RequestReader, RequestClaims {}

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

export type CancelOutcome =
  | { readonly outcome: 'cancelled'; readonly request: HeraldRequest }
  | { readonly outcome: 'not-found' }
  | { readonly outcome: 'conflict'; readonly current: HeraldRequest };

export interface RequestCancellation {
  /** `accepted → cancelled` in one conditional write that also checks the owner. */
  cancel(merchantId: string, id: string, now?: Date): Promise<CancelOutcome>;
}

/** What the sweeper reads and writes: requests that an enqueue or a worker left behind. */
export interface StuckRequestStore {
  /**
   * `accepted` requests last changed (or due for a retry) before `changedBefore` that were
   * never enqueued, or whose last enqueue happened before `enqueuedBefore`.
   */
  findUnqueued(query: { readonly changedBefore: string; readonly enqueuedBefore: string; readonly limit: number }): Promise<HeraldRequest[]>;
  /** `processing` requests whose lease ran out before `before`: their worker died or timed out. */
  findLeaseExpired(query: { readonly before: string; readonly limit: number }): Promise<HeraldRequest[]>;
  /** Records that a still-`accepted` request was put on the queue again at `at`. */
  markResent(id: string, at: string): Promise<void>;
}
