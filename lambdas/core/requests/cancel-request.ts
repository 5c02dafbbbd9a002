import { releaseSlotOf, type MerchantQuotas } from '../merchants/merchant-quotas';
import { NotFoundError, RequestNotCancellableError } from '../shared/errors';
import type { DeliveryOrderLedger } from '../webhooks/delivery-order';
import { decideAndApply } from './apply-decision';
import type { RequestReader, RequestTransitions } from './ports';
import type { HeraldRequest } from './request';

/** Writes a cancel may take: a first guess, one retry on what it saw, and a last one on a concurrent change. */
const CANCEL_MAX_WRITES = 3;

export interface CancelDependencies {
  readonly store: RequestTransitions;
  /** Reads how a request stands when every write lost against a concurrent change. */
  readonly reader: Pick<RequestReader, 'get'>;
  readonly quotas: Pick<MerchantQuotas, 'releaseInFlight'>;
  readonly order: Pick<DeliveryOrderLedger, 'withdraw'>;
}

/**
 * Cancels a request no attempt has started on. The write is conditional on the owner, on
 * `accepted` and on no attempt, so it races safely with the worker's claim: exactly one of them
 * wins. The first write guesses that no attempt ran yet; a wrong guess is decided again on the
 * request the failed write returned. A request waiting for a retry is not cancellable: its first
 * attempt may have had effects (a saga's debit) that a cancel would strand. Another merchant's
 * request is a 404, like an unknown id; a request already started or finished is a 409 that
 * names its current status and attempts.
 */
export async function cancelRequest(deps: CancelDependencies, merchantId: string, id: string, now = new Date()): Promise<HeraldRequest> {
  const decided = await decideAndApply(deps.store, { id, status: 'accepted', attempts: 0 }, { kind: 'cancel', merchantId }, now, {
    maxWrites: CANCEL_MAX_WRITES,
  });
  switch (decided.outcome) {
    case 'applied':
      await letGo(deps, decided.request);
      return decided.request;
    case 'missing':
      throw notFound(id);
    case 'refused':
      // Another merchant's request is as good as missing: its owner is never revealed.
      if (decided.refusal.reason === 'not-owner' || !decided.current) throw notFound(id);
      throw notCancellable(decided.current);
    case 'lost': {
      // It kept changing under every write: answer with how it stands now.
      const current = await deps.reader.get(id);
      if (!current) throw notFound(id);
      throw notCancellable(current);
    }
  }
}

/**
 * What a cancelled request held is given back here, since it never reaches the worker whose
 * finish would otherwise do it: its in-flight slot, and its place in its ordering key (it will
 * never hand its number over).
 */
async function letGo(deps: CancelDependencies, cancelled: HeraldRequest): Promise<void> {
  await releaseSlotOf(deps.quotas, cancelled);
  if (cancelled.orderingKey !== undefined && cancelled.orderingSeq !== undefined) {
    await deps.order.withdraw(cancelled.merchantId, cancelled.orderingKey, [cancelled.orderingSeq]);
  }
}

function notFound(id: string): NotFoundError {
  return new NotFoundError(`No request ${id} exists for this merchant`);
}

function notCancellable(current: HeraldRequest): RequestNotCancellableError {
  return new RequestNotCancellableError(current.id, current.status, current.attempts);
}
