import { NotFoundError, RequestNotCancellableError } from '../shared/errors';
import type { RequestCancellation } from './ports';
import type { HeraldRequest } from './request';

/**
 * Cancels a request no attempt has started on. The write is conditional on the owner, on
 * `accepted` and on no attempt, so it races safely with the worker's claim: exactly one of them
 * wins. A request waiting for a retry is not cancellable: its first attempt may have had effects
 * (a saga's debit) that a cancel would strand. Another merchant's request is a 404, like an
 * unknown id; a request already started or finished is a 409 that names its current status and
 * attempts.
 */
export async function cancelRequest(store: RequestCancellation, merchantId: string, id: string, now = new Date()): Promise<HeraldRequest> {
  const outcome = await store.cancel(merchantId, id, now);
  switch (outcome.outcome) {
    case 'cancelled':
      return outcome.request;
    case 'not-found':
      throw new NotFoundError(`No request ${id} exists for this merchant`);
    case 'conflict':
      throw new RequestNotCancellableError(id, outcome.current.status, outcome.current.attempts);
  }
}
