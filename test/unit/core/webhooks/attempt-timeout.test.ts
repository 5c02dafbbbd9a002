import { deliverWebhook, type DeliverDependencies } from '../../../../lambdas/core/webhooks/deliver-webhook';
import { type PostResult, type WebhookTransport } from '../../../../lambdas/core/webhooks/webhook-attempt';
import { generateSigningSecret } from '../../../../lambdas/core/webhooks/endpoint';
import { type DeliveryMessage } from '../../../../lambdas/core/webhooks/delivery-message';
import { webhookRetrySchedule } from '../../../../lambdas/settings/retry';
import { InMemoryDeliveryQueue, InMemoryDeliveryStore, InMemoryWebhookEndpointStore, RecordingMerchantNotifier, endpointHealthOver } from '../../../support/core/webhooks/in-memory-ports';
import { InMemoryRedriveLog } from '../../../support/core/requests/in-memory-ports';

const NOW = new Date('2026-03-10T12:00:00Z');

const message: DeliveryMessage = {
  deliveryId: 'dlv_req_1.ep_1.succeeded',
  merchantId: 'mer_1',
  endpointId: 'ep_1',
  subjectId: 'req_1',
  eventType: 'request.succeeded',
  eventTimestamp: '2026-03-10T11:59:59Z',
  round: 1,
  payload: '{"type":"request.succeeded"}',
};

/** A receiver that never answers in time, and keeps the budget each POST was given. */
class HangingTransport implements WebhookTransport {
  readonly budgets: (number | undefined)[] = [];

  async post(_url: string, _headers: Record<string, string>, _body: string, options?: { readonly timeoutMs?: number }): Promise<PostResult> {
    this.budgets.push(options?.timeoutMs);
    return { error: 'timeout', errorMessage: 'no answer', latencyMs: options?.timeoutMs ?? 10_000 };
  }
}

function harness(firstAttemptTimeoutMs: number | undefined) {
  const endpoints = new InMemoryWebhookEndpointStore();
  endpoints.seed({
    id: 'ep_1',
    merchantId: 'mer_1',
    url: 'https://hooks.example.com/x',
    status: 'enabled',
    secret: { secret: generateSigningSecret(), createdAt: '2026-01-01T00:00:00Z' },
    version: 1,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
  });
  const transport = new HangingTransport();
  const deliveries = new InMemoryDeliveryStore();
  const deps: DeliverDependencies = {
    endpoints,
    deliveries,
    queue: new InMemoryDeliveryQueue(),
    health: endpointHealthOver({ endpoints, deliveries, deadStreakLimit: 5, failingDaysLimit: 5 }),
    transport,
    loadRequest: async () => undefined,
    userAgent: 'test',
    schedule: webhookRetrySchedule,
    maxAttempts: 8,
    retryScale: 1,
    log: () => undefined,
    random: () => 0.5,
    now: () => NOW,
    redrives: new InMemoryRedriveLog(),
    queueName: 'deliveries',
    ...(firstAttemptTimeoutMs === undefined ? {} : { firstAttemptTimeoutMs }),
  };
  return { deps, transport };
}

describe('the first attempt budget of a delivery', () => {
  it('gives the first attempt the short budget and every retry the transport\'s full timeout', async () => {
    const { deps, transport } = harness(3_000);
    expect(await deliverWebhook(deps, { message, receiveCount: 1, receiptHandle: 'rh' })).toMatchObject({ kind: 'retry', attempt: { attempt: 1, error: 'timeout' } });
    expect(await deliverWebhook(deps, { message, receiveCount: 2, receiptHandle: 'rh' })).toMatchObject({ kind: 'retry', attempt: { attempt: 2, error: 'timeout' } });
    expect(await deliverWebhook(deps, { message, receiveCount: 3, receiptHandle: 'rh' })).toMatchObject({ kind: 'retry', attempt: { attempt: 3 } });
    expect(transport.budgets).toEqual([3_000, undefined, undefined]);
  });

  it('leaves every attempt the full timeout where no first attempt budget is set', async () => {
    const { deps, transport } = harness(undefined);
    await deliverWebhook(deps, { message, receiveCount: 1, receiptHandle: 'rh' });
    expect(transport.budgets).toEqual([undefined]);
  });

  it('counts the attempts a circuit skip carried over, so a delivery skipped before its first POST still gets the short budget once', async () => {
    const { deps, transport } = harness(3_000);
    await deliverWebhook(deps, { message: { ...message, attemptsBefore: 0 }, receiveCount: 1, receiptHandle: 'rh' });
    await deliverWebhook(deps, { message: { ...message, attemptsBefore: 1 }, receiveCount: 1, receiptHandle: 'rh' });
    expect(transport.budgets).toEqual([3_000, undefined]);
  });
});
