import { cancelRequest } from '../core/requests/cancel-request';
import { assertRequestId } from '../core/requests/ids';
import { etagOf, presentRequest } from '../core/requests/request-view';
import { deliveryOrderLedger, merchantQuotaStore, requestPorts } from './shared/dependencies';
import { httpRoute, json, merchantIdOf } from './shared/http';

/** POST /v1/requests/{id}/cancel: `accepted → cancelled`; 409 with the current status once work has begun. */
export const handler = httpRoute(async (event) => {
  const merchantId = merchantIdOf(event);
  const id = event.pathParameters?.id ?? '';
  assertRequestId(id);
  const cancelled = await cancelRequest({ store: requestPorts().lifecycle, reader: requestPorts().queries, quotas: merchantQuotaStore(), order: deliveryOrderLedger() }, merchantId, id);
  return json(200, presentRequest(cancelled), { ETag: etagOf(cancelled), 'Cache-Control': 'no-store' });
});
