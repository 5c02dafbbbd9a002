import { deliverWebhook, type DeliverDependencies, type PostResult } from '../../../lambdas/core/deliver-webhook';
import { generateSigningSecret, type Delivery, type DeliveryMessage, type WebhookEndpoint } from '../../../lambdas/core/webhooks';
import { webhookRetrySchedule } from '../../../lib/topology';
import {
  InMemoryDeliveryQueue,
  InMemoryDeliveryStore,
  InMemoryWebhookEndpointStore,
  RecordingMerchantNotifier,
  ScriptedWebhookTransport,
} from '../../support/in-memory-webhook-ports';

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

/** The use case over in-memory ports: its decisions, without storage or network. */
function harness(endpoint: WebhookEndpoint, result: PostResult, stored: Partial<Delivery> = {}) {
  const endpoints = new InMemoryWebhookEndpointStore();
  endpoints.seed(endpoint);
  const deliveries = new InMemoryDeliveryStore();
  deliveries.seed({
    id: message.deliveryId,
    merchantId: message.merchantId,
    endpointId: message.endpointId,
    subjectId: message.subjectId,
    eventType: message.eventType,
    eventTimestamp: message.eventTimestamp,
    state: 'pending',
    round: 1,
    attempts: [],
    createdAt: '2026-03-10T11:59:59Z',
    updatedAt: '2026-03-10T11:59:59Z',
    ...stored,
  });
  const queue = new InMemoryDeliveryQueue();
  const notifier = new RecordingMerchantNotifier();
  const deps: DeliverDependencies = {
    endpoints,
    deliveries,
    queue,
    notifier,
    transport: new ScriptedWebhookTransport(result),
    loadRequest: async () => undefined,
    userAgent: 'test',
    schedule: webhookRetrySchedule,
    maxAttempts: 8,
    retryScale: 1,
    deadStreakLimit: 5,
    failingDaysLimit: 5,
    log: () => undefined,
    random: () => 0.5,
    now: () => NOW,
  };
  return {
    deps,
    notifier,
    delays: () => queue.delays.map((delay) => delay.seconds),
    delivery: () => deliveries.get(message.deliveryId),
    endpoint: () => endpoints.get(endpoint.merchantId, endpoint.id),
  };
}

const endpoint = (extra: Partial<WebhookEndpoint> = {}): WebhookEndpoint => ({
  id: 'ep_1',
  merchantId: 'mer_1',
  url: 'https://hooks.example.com/x',
  status: 'enabled',
  secret: { secret: generateSigningSecret(), createdAt: '2026-01-01T00:00:00Z' },
  version: 1,
  createdAt: '2026-01-01T00:00:00Z',
  updatedAt: '2026-01-01T00:00:00Z',
  ...extra,
});

const received = (receiveCount: number) => ({ message, receiveCount, receiptHandle: 'rh' });

describe('deliverWebhook', () => {
  it('schedules the next attempt on the same message after a failure', async () => {
    const h = harness(endpoint(), { status: 500, latencyMs: 3 });
    expect(await deliverWebhook(h.deps, received(2))).toMatchObject({ kind: 'retry', delaySeconds: 300 });
    expect(h.delays()).toEqual([300]);
    expect(await h.delivery()).toMatchObject({ state: 'pending', attempts: [{ attempt: 2, status: 500 }], nextAttemptAt: '2026-03-10T12:05:00.000Z' });
  });

  it('disables an endpoint whose attempts have all failed for five days, and tells the merchant', async () => {
    const h = harness(endpoint({ failingSince: '2026-03-05T11:00:00Z' }), { error: 'timeout', latencyMs: 10_000 });
    await deliverWebhook(h.deps, received(3));
    expect(await h.endpoint()).toMatchObject({ status: 'disabled', disabledReason: expect.stringMatching(/every attempt has failed since 2026-03-05T11:00:00Z/) });
    expect(h.notifier.notices).toEqual([expect.objectContaining({ merchantId: 'mer_1', endpointId: 'ep_1', url: 'https://hooks.example.com/x' })]);
  });

  it('keeps an endpoint that has been failing for less than five days', async () => {
    const h = harness(endpoint({ failingSince: '2026-03-06T13:00:00Z' }), { status: 502, latencyMs: 5 });
    await deliverWebhook(h.deps, received(3));
    expect(await h.endpoint()).toMatchObject({ status: 'enabled' });
    expect(h.notifier.notices).toEqual([]);
  });

  it('stops retrying a message whose round is over', async () => {
    const h = harness(endpoint(), { status: 500, latencyMs: 3 }, { round: 2 });
    expect(await deliverWebhook(h.deps, received(2))).toMatchObject({ kind: 'dropped' });
    expect(h.delays()).toEqual([]);
    expect(await h.delivery()).toMatchObject({ state: 'pending', round: 2, attempts: [] });
  });

  it('lets the last failed attempt go to the DLQ at once', async () => {
    const h = harness(endpoint(), { error: 'connection_refused', latencyMs: 1 });
    expect(await deliverWebhook(h.deps, received(8))).toMatchObject({ kind: 'dead' });
    expect(await h.delivery()).toMatchObject({ state: 'dead', reason: 'no success after 8 attempts' });
    expect(h.delays()).toEqual([0]);
  });

  it('disables an endpoint that answers 410 Gone at once, and tells the merchant once', async () => {
    const h = harness(endpoint(), { status: 410, latencyMs: 2 });
    expect(await deliverWebhook(h.deps, received(1))).toMatchObject({ kind: 'gone' });
    expect(await deliverWebhook(h.deps, received(2))).toMatchObject({ kind: 'dropped' });
    expect(await h.endpoint()).toMatchObject({ status: 'disabled' });
    expect(h.notifier.notices).toHaveLength(1);
  });
});
