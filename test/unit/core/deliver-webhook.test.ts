import { deliverWebhook, type DeliverDependencies, type PostResult } from '../../../lambdas/core/deliver-webhook';
import type { EndpointDisabledNotice } from '../../../lambdas/core/ports';
import type { AttemptRecord } from '../../../lambdas/core/webhook-ports';
import { generateSigningSecret, type DeliveryMessage, type WebhookEndpoint } from '../../../lambdas/core/webhooks';
import { webhookRetrySchedule } from '../../../lib/topology';

const NOW = new Date('2026-03-10T12:00:00Z');

/** In-memory ports: the use case's decisions, without storage or network. */
function harness(endpoint: WebhookEndpoint, result: PostResult, recordOutcome = true) {
  const records: AttemptRecord[] = [];
  const disabled: string[] = [];
  const notices: EndpointDisabledNotice[] = [];
  const delays: number[] = [];
  let current = endpoint;
  const deps: DeliverDependencies = {
    endpoints: {
      getCached: async () => current,
      markFailing: async (_m: string, _id: string, at: string) => (current = { ...current, failingSince: current.failingSince ?? at }),
      markSucceeded: async () => undefined,
      disable: async (_m: string, _id: string, reason: string) => {
        if (current.status === 'disabled') return undefined;
        disabled.push(reason);
        return (current = { ...current, status: 'disabled', disabledReason: reason });
      },
    } as unknown as DeliverDependencies['endpoints'],
    deliveries: {
      record: async (_id: string, _round: number, record: AttemptRecord) => (records.push(record), recordOutcome),
      listForEndpoint: async () => [],
    } as unknown as DeliverDependencies['deliveries'],
    queue: { send: async () => undefined, delayRedelivery: async (_h: string, s: number) => void delays.push(s) },
    notifier: { endpointDisabled: async (notice) => void notices.push(notice) },
    transport: { post: async () => result },
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
  return { deps, records, disabled, notices, delays };
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

const received = (receiveCount: number) => ({ message, receiveCount, receiptHandle: 'rh' });

describe('deliverWebhook', () => {
  it('schedules the next attempt on the same message after a failure', async () => {
    const h = harness(endpoint(), { status: 500, latencyMs: 3 });
    expect(await deliverWebhook(h.deps, received(2))).toMatchObject({ kind: 'retry', delaySeconds: 300 });
    expect(h.delays).toEqual([300]);
    expect(h.records[0]).toMatchObject({ state: 'pending', attempt: { attempt: 2, status: 500 }, nextAttemptAt: '2026-03-10T12:05:00.000Z' });
  });

  it('disables an endpoint whose attempts have all failed for five days, and tells the merchant', async () => {
    const h = harness(endpoint({ failingSince: '2026-03-05T11:00:00Z' }), { error: 'timeout', latencyMs: 10_000 });
    await deliverWebhook(h.deps, received(3));
    expect(h.disabled).toEqual([expect.stringMatching(/every attempt has failed since 2026-03-05T11:00:00Z/)]);
    expect(h.notices).toEqual([expect.objectContaining({ merchantId: 'mer_1', endpointId: 'ep_1', url: 'https://hooks.example.com/x' })]);
  });

  it('keeps an endpoint that has been failing for less than five days', async () => {
    const h = harness(endpoint({ failingSince: '2026-03-06T13:00:00Z' }), { status: 502, latencyMs: 5 });
    await deliverWebhook(h.deps, received(3));
    expect(h.disabled).toEqual([]);
  });

  it('stops retrying a message whose round is over', async () => {
    const h = harness(endpoint(), { status: 500, latencyMs: 3 }, false);
    expect(await deliverWebhook(h.deps, received(2))).toMatchObject({ kind: 'dropped' });
    expect(h.delays).toEqual([]);
  });

  it('lets the last failed attempt go to the DLQ at once', async () => {
    const h = harness(endpoint(), { error: 'connection_refused', latencyMs: 1 });
    expect(await deliverWebhook(h.deps, received(8))).toMatchObject({ kind: 'dead' });
    expect(h.records[0]).toMatchObject({ state: 'dead', reason: 'no success after 8 attempts' });
    expect(h.delays).toEqual([0]);
  });
});
