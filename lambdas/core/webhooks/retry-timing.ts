import { backoffDelaySeconds } from '../shared/backoff';
import { type DeliverDependencies, VISIBILITY_LIMIT_SECONDS } from './deliver-webhook';
import { type PostResult } from './webhook-attempt';

/**
 * The wait before the next attempt: the schedule's jittered delay, or the receiver's Retry-After
 * on a 429 or 503, kept within [delay, 2 × delay] so that a receiver can slow Herald down but
 * neither hurry it nor park a delivery for days. The caller clamps it further to what is left of
 * SQS's 12-hour visibility limit since the message was received.
 */
export function retryDelaySeconds(
  deps: Pick<DeliverDependencies, 'schedule' | 'retryScale' | 'random'>,
  failedAttempt: number,
  result: PostResult,
): number {
  const delay = backoffDelaySeconds(deps.schedule, failedAttempt, deps.random, deps.retryScale);
  if ((result.status === 429 || result.status === 503) && result.retryAfter) {
    const asked = retryAfterSeconds(result.retryAfter);
    if (asked !== undefined) return Math.min(Math.max(asked, delay), 2 * delay, VISIBILITY_LIMIT_SECONDS);
  }
  return delay;
}

/** `Retry-After` in seconds, from either of its forms (delta-seconds or an HTTP date). */
export function retryAfterSeconds(value: string, now = Date.now()): number | undefined {
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(Math.ceil((date - now) / 1000), 0);
}
