import type { Delivery } from './delivery';
import type { WebhookEndpoint } from './endpoint';
import type { MerchantNotifier } from '../merchants/ports';
import type { DeliveryStore, EndpointHealth, WebhookEndpointStore } from './ports';
import { lastErrorsOf, NOTICE_LATEST_DELIVERIES } from './endpoint-disabled-notice';

export interface EndpointHealthDependencies {
  readonly endpoints: Pick<WebhookEndpointStore, 'disable' | 'markFailing' | 'markSucceeded'>;
  readonly deliveries: Pick<DeliveryStore, 'listForEndpoint'>;
  /** Tells the merchant's operations contacts (the notifications' `notifyEndpointDisabled`). */
  readonly operations: MerchantNotifier;
  /** Consecutive dead deliveries that disable an endpoint; 0 turns the rule off. */
  readonly deadStreakLimit: number;
  /** Days of nothing but failed attempts that disable an endpoint. */
  readonly failingDaysLimit: number;
  /** Carries the line alarms match (`webhook.endpoint_disabled`), written whether or not anyone is told. */
  readonly log: (message: string, extra?: Record<string, unknown>) => void;
}

/**
 * The endpoint health the deliver worker reports to: a 410 disables at once; so do failing
 * attempts for `failingDaysLimit` days and `deadStreakLimit` dead deliveries in a row. Disabling
 * happens once (a second caller finds the endpoint disabled already) and sends one notice quoting
 * the last error of each of the endpoint's latest deliveries.
 */
export class EndpointHealthMonitor implements EndpointHealth {
  constructor(private readonly deps: EndpointHealthDependencies) {}

  async attemptSucceeded(endpoint: WebhookEndpoint, at: string): Promise<void> {
    if (endpoint.failingSince) await this.deps.endpoints.markSucceeded(endpoint.merchantId, endpoint.id, at);
  }

  async attemptFailed(endpoint: WebhookEndpoint, at: string): Promise<void> {
    const since = endpoint.failingSince ?? (await this.deps.endpoints.markFailing(endpoint.merchantId, endpoint.id, at))?.failingSince;
    if (!since) return;
    const days = (Date.parse(at) - Date.parse(since)) / 86_400_000;
    if (days >= this.deps.failingDaysLimit) {
      await this.disable(endpoint, `every attempt has failed since ${since} (${this.deps.failingDaysLimit} days)`, at);
    }
  }

  async deliveryDied(endpoint: WebhookEndpoint, deliveryId: string, at: string): Promise<void> {
    await this.attemptFailed(endpoint, at);
    await this.checkDeadStreak(endpoint, deliveryId, at);
  }

  async gone(endpoint: WebhookEndpoint, at: string): Promise<void> {
    await this.disable(endpoint, 'the endpoint answered 410 Gone', at);
  }

  /** Counts dead deliveries back from the newest finished one; a success ends the streak. */
  private async checkDeadStreak(endpoint: WebhookEndpoint, deadId: string, at: string): Promise<void> {
    const limit = this.deps.deadStreakLimit;
    if (limit <= 0) return;
    const recent = await this.deps.deliveries.listForEndpoint(endpoint.id, { limit: limit * 3 + 10 });
    // The index may not show the write that just made this one dead yet.
    let streak = recent.some((delivery) => delivery.id === deadId) ? 0 : 1;
    for (const delivery of recent) {
      const state = delivery.id === deadId ? 'dead' : delivery.state;
      if (state === 'succeeded') break;
      if (state === 'dead') streak++;
    }
    // The notice quotes the latest deliveries this read already holds, newest first.
    if (streak >= limit) await this.disable(endpoint, `${streak} consecutive deliveries failed every attempt`, at, recent.slice(0, NOTICE_LATEST_DELIVERIES));
  }

  /** Disables the endpoint and tells its merchant, once; a notice that cannot be sent is logged, never thrown. */
  private async disable(endpoint: WebhookEndpoint, reason: string, at: string, latest?: readonly Delivery[]): Promise<void> {
    const disabled = await this.deps.endpoints.disable(endpoint.merchantId, endpoint.id, reason, at);
    if (!disabled) return;
    const notice = { merchantId: endpoint.merchantId, endpointId: endpoint.id, url: endpoint.url, reason, disabledAt: at };
    this.deps.log('webhook.endpoint_disabled', { ...notice });
    try {
      const deliveries = latest ?? (await this.deps.deliveries.listForEndpoint(endpoint.id, { limit: NOTICE_LATEST_DELIVERIES }));
      await this.deps.operations.endpointDisabled({ ...notice, lastErrors: lastErrorsOf(deliveries) });
    } catch (error) {
      this.deps.log('Could not send the endpoint-disabled notice', { endpointId: endpoint.id, error: (error as Error).message });
    }
  }
}
