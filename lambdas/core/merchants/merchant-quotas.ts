import { HeraldError } from '../shared/errors';
import type { HeraldRequest } from '../requests/request';

/**
 * Per-merchant quotas, so that one merchant cannot starve the workers, fill the DLQ or spend the
 * account's SMS budget: a cap on its requests not yet finished, and on the requests of one UTC
 * day that ask for an SMS. Both are counted where the request is accepted; the in-flight count
 * drops again when the request ends (succeeded, failed or cancelled).
 */
export interface MerchantQuotaLimits {
  /** Absent: not counted, and a request takes no slot (each admit and release is a write). */
  readonly requestsInFlight?: number;
  readonly smsPerDay?: number;
}

export type QuotaName = 'requests-in-flight' | 'sms-per-day';

/** Counting store of the quotas. Admitting or releasing the same request twice counts once. */
export interface MerchantQuotas {
  /** Counts the request as in flight unless `limit` others are; false when full. */
  admitInFlight(merchantId: string, requestId: string, limit: number): Promise<boolean>;
  releaseInFlight(merchantId: string, requestId: string): Promise<void>;
  /** Takes one SMS of the day unless `limit` are taken; false when none is left. */
  reserveSms(merchantId: string, day: string, limit: number, now: Date): Promise<boolean>;
  returnSms(merchantId: string, day: string): Promise<void>;
}

/**
 * Gives back the in-flight slot of a request that ended or was cancelled, if it took one: a
 * request accepted while the quota was off costs no release, whatever the setting is now.
 */
export async function releaseSlotOf(quotas: Pick<MerchantQuotas, 'releaseInFlight'>, request: Pick<HeraldRequest, 'id' | 'merchantId' | 'holdsQuotaSlot'>): Promise<void> {
  if (request.holdsQuotaSlot) await quotas.releaseInFlight(request.merchantId, request.id);
}

/** A quota is used up: answered 429 with the seconds after which trying again may succeed. */
export class QuotaExceededError extends HeraldError {
  override readonly name = 'QuotaExceededError';

  constructor(
    readonly quota: QuotaName,
    readonly limit: number,
    readonly retryAfterSeconds: number,
  ) {
    super(
      'quota-exceeded',
      quota === 'requests-in-flight'
        ? `This merchant already has ${limit} requests in flight, its limit; submit again once some have finished`
        : `This merchant has used its ${limit} SMS notifications of today (UTC); submit without notify.sms or after midnight UTC`,
    );
  }
}

/** Seconds a merchant waits for an in-flight slot: a guess, since it depends on its own requests. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 5;

/** The UTC day an SMS counts against, and the seconds until the next one begins. */
export function smsDay(now: Date): { day: string; secondsLeft: number } {
  const day = now.toISOString().slice(0, 10);
  const next = Date.parse(`${day}T00:00:00.000Z`) + 86_400_000;
  return { day, secondsLeft: Math.max(Math.ceil((next - now.getTime()) / 1000), 1) };
}
