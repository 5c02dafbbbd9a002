import { defaults } from '../../lib/topology';
import { NotFoundError } from '../core/errors';
import { etagOf, isTerminal, NO_DELIVERIES, presentRequest } from '../core/request';
import { summarizeDeliveries, withDeliveriesTag } from '../core/webhooks';
import { mayHaveNotifications, presentNotifications, withNotificationsTag } from '../core/notifications';
import { notificationLedger } from './shared/notifier';
import { processorFor } from '../processors/registry';
import { requestStore } from './shared/dependencies';
import { deliveryStore } from './shared/webhook-dependencies';
import { empty, headerOf, httpRoute, json, merchantIdOf } from './shared/http';

/** GET /v1/requests/{id}: one request's status; another merchant's request is a 404 like an unknown one. */
export const handler = httpRoute(async (event) => {
  const merchantId = merchantIdOf(event);
  const id = event.pathParameters?.id ?? '';
  const request = await requestStore().getForMerchant(merchantId, id);
  if (!request) throw new NotFoundError(`No request ${id} exists for this merchant`);
  // Deliveries exist only once a request has finished with webhook events on.
  const deliveries =
    isTerminal(request.status) && request.webhookEvents !== false
      ? summarizeDeliveries(await deliveryStore().listForSubject(request.id))
      : NO_DELIVERIES;
  // Only requests that can have notifications pay for reading them.
  const notifications = mayHaveNotifications(request) ? await notificationLedger().listForRequest(request.id) : [];
  const etag = withNotificationsTag(withDeliveriesTag(etagOf(request), deliveries), notifications);
  const headers: Record<string, string> = { ETag: etag, 'Cache-Control': 'no-store' };
  if (!isTerminal(request.status)) {
    headers['Retry-After'] = String(processorFor(request.type)?.expectedSeconds ?? defaults.retryAfterSeconds);
  }
  const ifNoneMatch = headerOf(event, 'if-none-match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
    return empty(304, headers);
  }
  const view = presentRequest(request, deliveries);
  return json(200, notifications.length > 0 ? { ...view, notifications: presentNotifications(notifications) } : view, headers);
});
