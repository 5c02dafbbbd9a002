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

import type { RequestCallback } from '../webhooks/callbacks';

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
