import { type WebhookEndpoint } from './endpoint';
import { type DeliverDependencies } from './deliver-webhook';

/** Disables an endpoint and tells its merchant, once: a second caller finds it disabled already. */
export async function disableEndpoint(
  deps: Pick<DeliverDependencies, 'endpoints' | 'notifier' | 'log'>,
  endpoint: WebhookEndpoint,
  reason: string,
  at: string,
): Promise<void> {
  const disabled = await deps.endpoints.disable(endpoint.merchantId, endpoint.id, reason, at);
  if (!disabled) return;
  deps.log('Webhook endpoint disabled', { endpointId: endpoint.id, merchantId: endpoint.merchantId, reason });
  try {
    await deps.notifier.endpointDisabled({ merchantId: endpoint.merchantId, endpointId: endpoint.id, url: endpoint.url, reason, disabledAt: at });
  } catch (error) {
    deps.log('Could not send the endpoint-disabled notice', { endpointId: endpoint.id, error: (error as Error).message });
  }
}

export async function checkFailingEndpoint(deps: DeliverDependencies, endpoint: WebhookEndpoint, at: string): Promise<void> {
  const since = endpoint.failingSince ?? (await deps.endpoints.markFailing(endpoint.merchantId, endpoint.id, at))?.failingSince;
  if (!since) return;
  const days = (Date.parse(at) - Date.parse(since)) / 86_400_000;
  if (days >= deps.failingDaysLimit) {
    await disableEndpoint(deps, endpoint, `every attempt has failed since ${since} (${deps.failingDaysLimit} days)`, at);
  }
}

/** Counts dead deliveries back from the newest finished one; a success ends the streak. */
export async function checkDeadStreak(deps: DeliverDependencies, endpoint: WebhookEndpoint, deadId: string, at: string): Promise<void> {
  const limit = deps.deadStreakLimit;
  if (limit <= 0) return;
  const recent = await deps.deliveries.listForEndpoint(endpoint.id, { limit: limit * 3 + 10 });
  // The index may not show the write that just made this one dead yet.
  let streak = recent.some((delivery) => delivery.id === deadId) ? 0 : 1;
  for (const delivery of recent) {
    const state = delivery.id === deadId ? 'dead' : delivery.state;
    if (state === 'succeeded') break;
    if (state === 'dead') streak++;
  }
  if (streak >= limit) await disableEndpoint(deps, endpoint, `${streak} consecutive deliveries failed every attempt`, at);
}
