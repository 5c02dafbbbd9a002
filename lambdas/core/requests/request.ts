/**
 * The request lifecycle: the states a request moves through, the transitions allowed between
 * them, and the public view a client polls. Every transition leaves a row in `history`, written
 * in the same conditional update as the status, so the two can never disagree.
 */

export const REQUEST_STATUSES = ['accepted', 'processing', 'succeeded', 'failed', 'cancelled'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<RequestStatus> = new Set(['succeeded', 'failed', 'cancelled']);

export function isTerminal(status: RequestStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

export interface HistoryEntry {
  readonly from: RequestStatus | null;
  readonly to: RequestStatus;
  readonly at: string;
  readonly attempt: number;
  readonly reason?: string;
  /** Set on rows a processor recorded during an attempt (a saga step or its compensation), not on transitions. */
  readonly step?: string;
}

export interface RequestError {
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
  /** A saga undid the steps it had completed before failing, so nothing it did remains in effect. */
  readonly compensated?: boolean;
}

export interface NotifyTargets {
  readonly sms?: string;
  readonly email?: string;
}

import { presentCallback, type RequestCallback } from '../webhooks/callbacks';

export interface HeraldRequest {
  readonly id: string;
  readonly merchantId: string;
  readonly type: string;
  /**
   * What the client submitted. A large payload is stored apart from the request and only the
   * worker's claim reads it back, so it is absent on a request read for anything else (status,
   * lists, sweeps) and on one whose stored payload has expired.
   */
  readonly payload?: Record<string, unknown>;
  readonly status: RequestStatus;
  /** Bumped by every write; conditions compare it so a stale writer loses. */
  readonly version: number;
  readonly attempts: number;
  readonly idempotencyKey: string;
  readonly traceId?: string;
  readonly notify?: NotifyTargets;
  readonly webhookEvents: boolean;
  /** Where the request's end is told besides the merchant's endpoints (lambdas/core/webhooks/callbacks.ts). */
  readonly callback?: RequestCallback;
  readonly result?: unknown;
  readonly error?: RequestError;
  readonly leaseUntil?: string;
  /** Set while a transient failure waits for its retry. */
  readonly nextAttemptAt?: string;
  readonly enqueuedAt?: string;
  /** The last operator redrive that reopened this request; a redriven message reopens it only once per redrive. */
  readonly redriveGeneration?: number;
  /**
   * The queue's redrive generation when the request failed by exhausting its attempts: a redrive
   * reopens it only once the generation has grown past this, so an old redrive never does.
   */
  readonly failedAtRedrive?: number;
  /**
   * The request was counted against its merchant's in-flight quota when it was accepted, so its
   * end gives the slot back; a request accepted while the quota was off never costs a release.
   */
  readonly holdsQuotaSlot?: boolean;
  /** The key whose requests' events each endpoint receives in acceptance order (lambdas/core/webhooks/delivery-order.ts). */
  readonly orderingKey?: string;
  /** Its place in that order, from 1: assigned by the intake in the write that stores the request. */
  readonly orderingSeq?: number;
  readonly history: readonly HistoryEntry[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** History rows kept per request: the first rows and the latest ones survive, so the item stays small. */
export const HISTORY_LIMIT = 50;

/**
 * Appends an entry, keeping the first `HISTORY_LIMIT / 2` rows (how it began) and the latest
 * ones (how it is going) once a request has been retried very often.
 */
export function appendHistory(history: readonly HistoryEntry[], entry: HistoryEntry): HistoryEntry[] {
  const next = [...history, entry];
  if (next.length <= HISTORY_LIMIT) return next;
  const head = Math.floor(HISTORY_LIMIT / 2);
  return [...next.slice(0, head), ...next.slice(next.length - (HISTORY_LIMIT - head))];
}

/**
 * Only a request no attempt has started on can be cancelled: an attempt may have had effects (a
 * saga's debit) that a cancel would strand, so once one starts the request runs to its end.
 */
export function isCancellable(request: Pick<HeraldRequest, 'status' | 'attempts' | 'redriveGeneration'>): boolean {
  return request.status === 'accepted' && request.attempts === 0 && request.redriveGeneration === undefined;
}

/** Where a client goes next from a request: itself, and its cancel action while that is allowed. */
export interface RequestLinks {
  readonly self: string;
  readonly cancel?: string;
}

export function linksOf(request: Pick<HeraldRequest, 'id' | 'status' | 'attempts' | 'redriveGeneration'>): RequestLinks {
  const self = `/v1/requests/${request.id}`;
  return { self, ...(isCancellable(request) ? { cancel: `${self}/cancel` } : {}) };
}

/** How the webhook deliveries of a request stand, by count. */
export interface DeliverySummary {
  readonly total: number;
  readonly pending: number;
  readonly delivered: number;
  readonly failed: number;
}

/** The summary of a request with no deliveries (yet): what every request shows until webhooks record some. */
export const NO_DELIVERIES: DeliverySummary = { total: 0, pending: 0, delivered: 0, failed: 0 };

/** What a client sees when it polls a request. */
export interface RequestView {
  readonly id: string;
  readonly type: string;
  readonly status: RequestStatus;
  readonly attempts: number;
  readonly orderingKey?: string;
  readonly result?: unknown;
  readonly error?: RequestError;
  readonly history: readonly HistoryEntry[];
  readonly deliveries: DeliverySummary;
  readonly callback?: ReturnType<typeof presentCallback>;
  readonly links: RequestLinks;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function presentRequest(request: HeraldRequest, deliveries: DeliverySummary = NO_DELIVERIES): RequestView {
  return {
    id: request.id,
    type: request.type,
    status: request.status,
    attempts: request.attempts,
    ...(request.orderingKey !== undefined ? { orderingKey: request.orderingKey } : {}),
    ...(request.result !== undefined ? { result: request.result } : {}),
    ...(request.error ? { error: request.error } : {}),
    history: request.history,
    deliveries,
    ...(request.callback ? { callback: presentCallback(request.callback) } : {}),
    links: linksOf(request),
    createdAt: request.createdAt,
    updatedAt: request.updatedAt,
  };
}

/** One row of a merchant's request list: enough to choose which to open, without payloads or results. */
export interface RequestSummary {
  readonly id: string;
  readonly type: string;
  readonly status: RequestStatus;
  readonly attempts: number;
  readonly links: RequestLinks;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function summarizeRequest(request: HeraldRequest): RequestSummary {
  return {
    id: request.id,
    type: request.type,
    status: request.status,
    attempts: request.attempts,
    links: linksOf(request),
    createdAt: request.createdAt,
    updatedAt: request.updatedAt,
  };
}

/** The strong ETag of a request's current state: every write bumps the version. */
export function etagOf(request: Pick<HeraldRequest, 'id' | 'version'>): string {
  return `"${request.id}.v${request.version}"`;
}
