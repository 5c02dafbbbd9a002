import { presentCallback } from '../webhooks/callbacks';
import type { HeraldRequest, HistoryEntry, RequestError, RequestStatus } from './request';
import { mayCancel } from './request-lifecycle';

/** What a client sees of a request: its view when polled, its row in a list, its links and its ETag. */

/** Where a client goes next from a request: itself, and its cancel action while that is allowed. */
export interface RequestLinks {
  readonly self: string;
  readonly cancel?: string;
}

export function linksOf(request: Pick<HeraldRequest, 'id' | 'status' | 'attempts' | 'redriveGeneration'>): RequestLinks {
  const self = `/v1/requests/${request.id}`;
  return { self, ...(mayCancel(request) ? { cancel: `${self}/cancel` } : {}) };
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
