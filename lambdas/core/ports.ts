import type { HeraldRequest, RequestError, RequestStatus } from './request';

/**
 * What the use cases need from storage and transport, stated in domain terms. The DynamoDB and
 * SQS adapters implement these; the use cases never see an AWS type.
 */

/** The idempotency record: what a replay of the same key needs, without reading the request. */
export interface IdempotencyRecord {
  readonly merchantId: string;
  readonly key: string;
  readonly requestId: string;
  readonly requestType: string;
  readonly fingerprint: string;
  /** The body of the original 202, returned verbatim on every replay. */
  readonly response: Record<string, unknown>;
  readonly enqueuedAt?: string;
  readonly traceId?: string;
  readonly expiresAt: number;
}

export type CreateOutcome = { readonly outcome: 'created' } | { readonly outcome: 'exists'; readonly record: IdempotencyRecord };

export type ClaimOutcome =
  | { readonly outcome: 'claimed'; readonly request: HeraldRequest }
  | { readonly outcome: 'lost'; readonly reason: string; readonly current?: HeraldRequest };

export interface AttemptOutcome {
  readonly result?: unknown;
  readonly error?: RequestError;
  readonly reason?: string;
  readonly nextAttemptAt?: string;
}

export interface RequestStore {
  create(request: HeraldRequest, record: IdempotencyRecord): Promise<CreateOutcome>;
  markEnqueued(record: IdempotencyRecord, at: string): Promise<void>;
  markNotEnqueued(record: IdempotencyRecord): Promise<void>;
  get(id: string): Promise<HeraldRequest | undefined>;
  getForMerchant(merchantId: string, id: string): Promise<HeraldRequest | undefined>;
  claim(id: string, leaseMs: number, expectedAttempts: number, now?: Date): Promise<ClaimOutcome>;
  finishAttempt(
    claimed: HeraldRequest,
    to: Exclude<RequestStatus, 'processing' | 'cancelled'>,
    outcome: AttemptOutcome,
    now?: Date,
  ): Promise<HeraldRequest | undefined>;
}

/** What travels on the requests queue: a pointer to the stored request, never its payload. */
export interface RequestMessage {
  readonly requestId: string;
  readonly merchantId: string;
  readonly type: string;
}

export interface RequestQueue {
  enqueue(message: RequestMessage, traceId?: string): Promise<void>;
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
