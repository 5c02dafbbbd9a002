import type { Delivery, DeliveryAttempt } from './delivery';

/** How many of an endpoint's latest deliveries the notice quotes the last error of. */
export const NOTICE_LATEST_DELIVERIES = 5;

/** How much of a receiver's error message one line of the notice quotes. */
const NOTICE_ERROR_MESSAGE_CHARS = 120;

/**
 * The lines a disabled endpoint's notice quotes: the last failed attempt of each of its latest
 * deliveries (newest first), so its merchant can see why without opening the delivery log.
 * A success and a delivery never attempted quote nothing.
 */
export function lastErrorsOf(latest: readonly Delivery[]): string[] {
  return latest
    .slice(0, NOTICE_LATEST_DELIVERIES)
    .map((delivery) => delivery.attempts.at(-1))
    .filter((attempt): attempt is DeliveryAttempt => attempt !== undefined && (attempt.status === undefined || attempt.status >= 300))
    .map(describeFailedAttempt);
}

/**
 * One line of the notice: when, and what the receiver answered or how the call failed.
 *
 * @example describeFailedAttempt({ at: '2026-01-02T03:04:05Z', status: 503, errorMessage: 'busy' }) === '2026-01-02T03:04:05Z HTTP 503: busy'
 */
export function describeFailedAttempt(attempt: Pick<DeliveryAttempt, 'at' | 'status' | 'error' | 'errorMessage'>): string {
  const what = attempt.status !== undefined ? `HTTP ${attempt.status}` : (attempt.error ?? 'error');
  return `${attempt.at} ${what}${attempt.errorMessage ? `: ${attempt.errorMessage.slice(0, NOTICE_ERROR_MESSAGE_CHARS)}` : ''}`;
}
