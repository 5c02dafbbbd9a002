import type { DeliveryStore } from './ports';
import type { DeliveryAttempt } from './delivery';
import type { EndpointDisabledNotice, MerchantNotifier } from '../merchants/ports';

/** How many of an endpoint's latest deliveries the notice quotes the last error of. */
export const NOTICE_LATEST_DELIVERIES = 5;

/** How much of a receiver's error message one line of the notice quotes. */
const NOTICE_ERROR_MESSAGE_CHARS = 120;

export interface AnnounceEndpointDisabledDependencies {
  readonly deliveries: Pick<DeliveryStore, 'listForEndpoint'>;
  /** Tells the merchant's operations contacts (the notifications' `notifyEndpointDisabled`). */
  readonly tellOperations: (notice: EndpointDisabledNotice) => Promise<void>;
  /** The log line alarms match (`webhook.endpoint_disabled`), written whether or not anyone is told. */
  readonly log: (message: string, extra: Record<string, unknown>) => void;
}

/**
 * Announces a disabled webhook endpoint: a log line for alarms, then a notice to the merchant's
 * operations contacts quoting the last failed attempt of each of the endpoint's latest deliveries,
 * so they can see why without opening the delivery log.
 *
 * @example
 * const notifier = endpointDisabledAnnouncer({ deliveries, tellOperations: (n) => notifyEndpointDisabled(deps, n), log });
 * await notifier.endpointDisabled({ merchantId, endpointId, url, reason, disabledAt });
 */
export async function announceEndpointDisabled(deps: AnnounceEndpointDisabledDependencies, notice: EndpointDisabledNotice): Promise<void> {
  deps.log('webhook.endpoint_disabled', { ...notice });
  const latest = await deps.deliveries.listForEndpoint(notice.endpointId, { limit: NOTICE_LATEST_DELIVERIES });
  const lastErrors = latest
    .map((delivery) => delivery.attempts.at(-1))
    .filter((attempt): attempt is DeliveryAttempt => attempt !== undefined && (attempt.status === undefined || attempt.status >= 300))
    .map(describeFailedAttempt);
  await deps.tellOperations({ ...notice, lastErrors });
}

/** The webhook worker's notifier port, answered by `announceEndpointDisabled`. */
export function endpointDisabledAnnouncer(deps: AnnounceEndpointDisabledDependencies): MerchantNotifier {
  return { endpointDisabled: (notice) => announceEndpointDisabled(deps, notice) };
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
