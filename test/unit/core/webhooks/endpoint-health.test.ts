import { describeFailedAttempt } from '../../../../lambdas/core/webhooks/endpoint-disabled-notice';
import { EndpointHealthMonitor } from '../../../../lambdas/core/webhooks/endpoint-health';
import type { EndpointDisabledNotice } from '../../../../lambdas/core/merchants/ports';
import type { Delivery, DeliveryAttempt, DeliveryState } from '../../../../lambdas/core/webhooks/delivery';
import { InMemoryWebhookEndpointStore, RecordingMerchantNotifier } from '../../../support/core/webhooks/in-memory-ports';
import { webhookEndpoint } from '../../../support/core/webhooks/fixtures';

const AT = '2026-03-01T10:00:00.000Z';

const endpoint = webhookEndpoint({ merchantId: 'mer_a', url: 'https://hooks.example.com/herald' });

function deliveryEndingWith(attempt: DeliveryAttempt | undefined, n: number, state: DeliveryState = 'dead'): Delivery {
  return {
    id: `dlv_${n}`,
    merchantId: 'mer_a',
    endpointId: 'ep_1',
    subjectId: `req_${n}`,
    eventType: 'request.failed',
    eventTimestamp: AT,
    state,
    round: 1,
    attempts: attempt ? [attempt] : [],
    createdAt: AT,
    updatedAt: AT,
  };
}

const busy = (n: number) => deliveryEndingWith({ at: `2026-03-01T09:5${n}:00.000Z`, attempt: 8, status: 503, errorMessage: 'busy', latencyMs: 12 }, n);

/** The monitor over an endpoint store, a delivery log that counts its reads, and a notifier that keeps the notices. */
function monitor(latest: Delivery[], deadStreakLimit = 5) {
  const endpoints = new InMemoryWebhookEndpointStore();
  endpoints.seed(endpoint);
  const operations = new RecordingMerchantNotifier();
  const logged: string[] = [];
  const reads: number[] = [];
  const health = new EndpointHealthMonitor({
    endpoints,
    deliveries: {
      listForEndpoint: async (_endpointId, { limit }) => {
        reads.push(limit);
        return latest.slice(0, limit);
      },
    },
    operations,
    deadStreakLimit,
    failingDaysLimit: 5,
    log: (message) => void logged.push(message),
  });
  return { health, endpoints, notices: operations.notices, logged, reads };
}

describe('EndpointHealthMonitor', () => {
  it('disables an endpoint that answered 410, logs it for alarms and tells operations the last errors of its 5 latest deliveries', async () => {
    const h = monitor([
      deliveryEndingWith({ at: '2026-03-01T09:59:00.000Z', attempt: 8, status: 503, errorMessage: 'busy', latencyMs: 12 }, 1),
      deliveryEndingWith({ at: '2026-03-01T09:58:00.000Z', attempt: 8, error: 'timeout', latencyMs: 10_000 }, 2),
    ]);
    await h.health.gone(endpoint, AT);

    expect(await h.endpoints.get('mer_a', 'ep_1')).toMatchObject({ status: 'disabled', disabledReason: 'the endpoint answered 410 Gone' });
    expect(h.logged).toEqual(['webhook.endpoint_disabled']);
    expect(h.reads).toEqual([5]);
    const expected: EndpointDisabledNotice = {
      merchantId: 'mer_a',
      endpointId: 'ep_1',
      url: 'https://hooks.example.com/herald',
      reason: 'the endpoint answered 410 Gone',
      disabledAt: AT,
      lastErrors: ['2026-03-01T09:59:00.000Z HTTP 503: busy', '2026-03-01T09:58:00.000Z timeout'],
    };
    expect(h.notices).toEqual([expected]);
  });

  it('quotes no success and no delivery that was never attempted', async () => {
    const h = monitor([deliveryEndingWith({ at: '2026-03-01T09:59:00.000Z', attempt: 1, status: 204, latencyMs: 5 }, 1, 'succeeded'), deliveryEndingWith(undefined, 2)]);
    await h.health.gone(endpoint, AT);
    expect(h.notices[0]?.lastErrors).toEqual([]);
  });

  it('tells once: an endpoint already disabled is neither disabled again nor announced again', async () => {
    const h = monitor([]);
    await h.health.gone(endpoint, AT);
    await h.health.gone(endpoint, '2026-03-01T10:01:00.000Z');
    expect(h.notices).toHaveLength(1);
    expect(h.logged).toEqual(['webhook.endpoint_disabled']);
  });

  it('disables after 5 dead deliveries in a row, quoting the deliveries its one read of the log found', async () => {
    // The index already shows the newest dead one, dlv_1; seven dead in all, newest first.
    const h = monitor([1, 2, 3, 4, 5, 6, 7].map(busy));
    await h.health.deliveryDied({ ...endpoint, failingSince: '2026-03-01T09:00:00.000Z' }, 'dlv_1', AT);

    expect(await h.endpoints.get('mer_a', 'ep_1')).toMatchObject({ status: 'disabled', disabledReason: '7 consecutive deliveries failed every attempt' });
    // One read of the log, of 5 × 3 + 10 deliveries: the notice is written from it, not from a second read.
    expect(h.reads).toEqual([25]);
    expect(h.notices[0]?.lastErrors).toHaveLength(5);
    expect(h.notices[0]?.lastErrors?.[0]).toBe('2026-03-01T09:51:00.000Z HTTP 503: busy');
  });

  it('counts the streak back only to the newest success', async () => {
    const deliveries = [busy(1), busy(2), busy(3), deliveryEndingWith({ at: AT, attempt: 1, status: 200, latencyMs: 3 }, 4, 'succeeded'), busy(5), busy(6)];
    const h = monitor(deliveries);
    await h.health.deliveryDied({ ...endpoint, failingSince: '2026-03-01T09:00:00.000Z' }, 'dlv_1', AT);
    expect(await h.endpoints.get('mer_a', 'ep_1')).toMatchObject({ status: 'enabled' });
    expect(h.notices).toEqual([]);
  });

  it('starts a failing streak at the first failed attempt and ends it at the next success', async () => {
    const h = monitor([]);
    await h.health.attemptFailed(endpoint, AT);
    const failing = (await h.endpoints.get('mer_a', 'ep_1'))!;
    expect(failing.failingSince).toBe(AT);
    await h.health.attemptSucceeded(failing, '2026-03-01T11:00:00.000Z');
    expect((await h.endpoints.get('mer_a', 'ep_1'))?.failingSince).toBeUndefined();
  });
});

describe('describeFailedAttempt', () => {
  it('cuts a long error message of the receiver to one readable line', () => {
    const line = describeFailedAttempt({ at: 't', status: 500, errorMessage: 'x'.repeat(500) });
    expect(line).toBe(`t HTTP 500: ${'x'.repeat(120)}`);
  });
});
