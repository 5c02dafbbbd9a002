import { cancelRequest } from '../core/requests/cancel-request';
import { assertRequestId } from '../core/requests/ids';
import { etagOf, presentRequest } from '../core/requests/request';
import { releaseSlotOf } from '../core/merchants/merchant-quotas';
import { deliveryOrderLedger, merchantQuotaStore, requestStore } from './shared/dependencies';
import { httpRoute, json, merchantIdOf } from './shared/http';

/** POST /v1/requests/{id}/cancel: `accepted → cancelled`; 409 with the current status once work has begun. */
export const handler = httpRoute(async (event) => {
  const merchantId = merchantIdOf(event);
  const id = event.pathParameters?.id ?? '';
  assertRequestId(id);
  const cancelled = await cancelRequest(requestStore(), merchantId, id);
  // A cancelled request never reaches the worker, whose finish would otherwise give its slot back.
  await releaseSlotOf(merchantQuotaStore(), cancelled);
  // Nor does it ever hand its ordering number over: it stops holding its key here.
  if (cancelled.orderingKey !== undefined && cancelled.orderingSeq !== undefined) {
    await deliveryOrderLedger().withdraw(merchantId, cancelled.orderingKey, [cancelled.orderingSeq]);
  }
  return json(200, presentRequest(cancelled), { ETag: etagOf(cancelled), 'Cache-Control': 'no-store' });
});
