import { defaults } from '../../lib/topology';
import { getRequestStatus } from '../core/get-request-status';
import { assertRequestId } from '../core/ids';
import { processorFor } from '../processors/registry';
import { deliveryStore, notificationLedger, requestStore } from './shared/dependencies';
import { empty, headerOf, httpRoute, json, merchantIdOf } from './shared/http';

/** GET /v1/requests/{id}: one request's status; another merchant's request is a 404 like an unknown one. */
export const handler = httpRoute(async (event) => {
  // Authentication first: a refused caller costs no store and no AWS call.
  const merchantId = merchantIdOf(event);
  const id = event.pathParameters?.id ?? '';
  assertRequestId(id);
  const status = await getRequestStatus(
    {
      requests: requestStore(),
      deliveries: deliveryStore(),
      notifications: notificationLedger(),
      expectedSeconds: (type) => processorFor(type)?.expectedSeconds ?? defaults.retryAfterSeconds,
    },
    { merchantId, id, ifNoneMatch: headerOf(event, 'if-none-match') },
  );
  const headers: Record<string, string> = { ETag: status.etag, 'Cache-Control': 'no-store' };
  if (status.retryAfterSeconds !== undefined) headers['Retry-After'] = String(status.retryAfterSeconds);
  return status.notModified ? empty(304, headers) : json(200, status.view, headers);
});
