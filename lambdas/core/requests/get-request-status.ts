import { NotFoundError } from '../shared/errors';
import { mayHaveNotifications, presentNotifications, withNotificationsTag, type NotificationView } from '../notifications/notification-view';
import type { RequestStatusReader } from './ports';
import { isTerminal, type HeraldRequest } from './request';
import { etagOf, NO_DELIVERIES, presentRequest, type RequestView } from './request-view';
import { summarizeDeliveries, withDeliveriesTag } from '../webhooks/delivery-view';

export interface RequestStatusDependencies {
  /** The request with its deliveries and notifications, read together. */
  readonly requests: RequestStatusReader;
  /** How long a request of this type usually takes: when a client should ask again. */
  readonly expectedSeconds: (type: string) => number;
}

export interface RequestStatusQuery {
  readonly merchantId: string;
  readonly id: string;
  /** The entity tags the client already holds (`If-None-Match`), if any. */
  readonly ifNoneMatch?: string;
}

/** A request as its merchant sees it, with the SMS and email sent about it when there are any. */
export type RequestStatusView = RequestView & { readonly notifications?: readonly NotificationView[] };

/** What the client asked about, as of now; `view` is absent when the client's copy is still current. */
export type RequestStatusReply = {
  /** Changes whenever anything the view shows changes: the request, its deliveries, its notifications. */
  readonly etag: string;
  /** Set while the request is not finished: when asking again is worth it. */
  readonly retryAfterSeconds?: number;
} & ({ readonly notModified: true } | { readonly notModified: false; readonly view: RequestStatusView });

/**
 * One request's status for its merchant, or "not modified" when the client's entity tag still
 * matches. Another merchant's request is a `NotFoundError` like an unknown one, so ids reveal
 * nothing across tenants. The request and its records come in one read; deliveries and
 * notifications count only when the request can have them, as the view has always shown them.
 *
 * @example
 * const status = await getRequestStatus(deps, { merchantId, id, ifNoneMatch: headers['if-none-match'] });
 * if (status.notModified) return empty(304, { ETag: status.etag });
 */
export async function getRequestStatus(deps: RequestStatusDependencies, query: RequestStatusQuery): Promise<RequestStatusReply> {
  const found = await deps.requests.getWithRecordsForMerchant(query.merchantId, query.id);
  if (!found) throw new NotFoundError(`No request ${query.id} exists for this merchant`);
  const { request } = found;
  // Deliveries exist only once a request has finished with webhook events on, or with a callback.
  const deliveries =
    isTerminal(request.status) && (request.webhookEvents !== false || request.callback !== undefined)
      ? summarizeDeliveries(found.deliveries)
      : NO_DELIVERIES;
  const notifications = mayHaveNotifications(request) ? found.notifications : [];
  const etag = withNotificationsTag(withDeliveriesTag(etagOf(request), deliveries), notifications);
  const freshness = { etag, ...retryAfterOf(deps, request) };
  if (matchesEntityTag(query.ifNoneMatch, etag)) return { ...freshness, notModified: true };
  const view = presentRequest(request, deliveries);
  return {
    ...freshness,
    notModified: false,
    view: notifications.length > 0 ? { ...view, notifications: presentNotifications(notifications) } : view,
  };
}

function retryAfterOf(deps: RequestStatusDependencies, request: HeraldRequest): { retryAfterSeconds?: number } {
  return isTerminal(request.status) ? {} : { retryAfterSeconds: deps.expectedSeconds(request.type) };
}

/**
 * Whether an `If-None-Match` value names `etag`: one of its comma-separated tags equals it, or it
 * is `*` (any current representation).
 *
 * @example matchesEntityTag('"a", "b"', '"b"') === true
 */
export function matchesEntityTag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*');
}
