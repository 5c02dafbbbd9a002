import { announceEndpointDisabled, describeFailedAttempt, NOTICE_LATEST_DELIVERIES } from '../../../../lambdas/core/webhooks/endpoint-disabled-notice';
import type { EndpointDisabledNotice } from '../../../../lambdas/core/merchants/ports';
import type { Delivery, DeliveryAttempt } from '../../../../lambdas/core/webhooks/delivery';

const notice: EndpointDisabledNotice = {
  merchantId: 'mer_a',
  endpointId: 'ep_1',
  url: 'https://hooks.example.com/herald',
  reason: '5 consecutive deliveries failed every attempt',
  disabledAt: '2026-03-01T10:00:00.000Z',
};

function deliveryEndingWith(attempt: DeliveryAttempt | undefined, n: number): Delivery {
  return {
    id: `dlv_${n}`,
    merchantId: 'mer_a',
    endpointId: 'ep_1',
    subjectId: `req_${n}`,
    eventType: 'request.failed',
    eventTimestamp: notice.disabledAt,
    state: 'dead',
    round: 1,
    attempts: attempt ? [attempt] : [],
    createdAt: notice.disabledAt,
    updatedAt: notice.disabledAt,
  };
}

function announce(latest: Delivery[]) {
  const told: EndpointDisabledNotice[] = [];
  const logged: string[] = [];
  const asked: number[] = [];
  const run = announceEndpointDisabled(
    {
      deliveries: {
        listForEndpoint: async (_endpointId, { limit }) => {
          asked.push(limit);
          return latest;
        },
      },
      tellOperations: async (sent) => void told.push(sent),
      log: (message) => void logged.push(message),
    },
    notice,
  );
  return { run, told, logged, asked };
}

describe('announceEndpointDisabled', () => {
  it('logs the disabling for alarms and tells operations the last errors of the latest deliveries', async () => {
    const { run, told, logged, asked } = announce([
      deliveryEndingWith({ at: '2026-03-01T09:59:00.000Z', attempt: 8, status: 503, errorMessage: 'busy', latencyMs: 12 }, 1),
      deliveryEndingWith({ at: '2026-03-01T09:58:00.000Z', attempt: 8, error: 'timeout', latencyMs: 10_000 }, 2),
    ]);
    await run;
    expect(logged).toEqual(['webhook.endpoint_disabled']);
    expect(asked).toEqual([NOTICE_LATEST_DELIVERIES]);
    expect(told).toEqual([{ ...notice, lastErrors: ['2026-03-01T09:59:00.000Z HTTP 503: busy', '2026-03-01T09:58:00.000Z timeout'] }]);
  });

  it('quotes no success and no delivery that was never attempted', async () => {
    const { run, told } = announce([
      deliveryEndingWith({ at: '2026-03-01T09:59:00.000Z', attempt: 1, status: 204, latencyMs: 5 }, 1),
      deliveryEndingWith(undefined, 2),
    ]);
    await run;
    expect(told[0]?.lastErrors).toEqual([]);
  });
});

describe('describeFailedAttempt', () => {
  it('cuts a long error message of the receiver to one readable line', () => {
    const line = describeFailedAttempt({ at: 't', status: 500, errorMessage: 'x'.repeat(500) });
    expect(line).toBe(`t HTTP 500: ${'x'.repeat(120)}`);
  });
});
