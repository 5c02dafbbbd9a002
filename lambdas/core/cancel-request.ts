import { NotFoundError, RequestNotCancellableError } from './errors';
import type { RequestCancellation } from './ports';
import type { HeraldRequest } from './request';

/**
 * Cancels a request that no worker has claimed yet. The write is conditional on the owner and
 * on `accepted`, so it races safely with the worker's claim: exactly one of them wins. Another
 * merchant's request is a 404, like an unknown id; a request already started or finished is a
 * 409 that names its current status.
 */
export async function cancelRequest(store: RequestCancellation, merchantId: string, id: string, now = new Date()): Promise<HeraldRequest> {
  const outcome = await store.cancel(merchantId, id, now);
  switch (outcome.outcome) {
    case 'cancelled':
      return outcome.request;
    case 'not-found':
      throw new NotFoundError(`No request ${id} exists for this merchant`);
    case 'conflict':
      throw new RequestNotCancellableError(id, outcome.current.status);
  }
}
