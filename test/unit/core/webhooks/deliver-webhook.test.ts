import { deliverWebhook, VISIBILITY_LIMIT_SECONDS } from '../../../../lambdas/core/webhooks/deliver-webhook';
import { type PostResult } from '../../../../lambdas/core/webhooks/webhook-attempt';
import { sweepPendingDeliveries } from '../../../../lambdas/core/webhooks/sweep-pending-deliveries';
import { ATTEMPT_LOG_LIMIT, MAX_DELIVERY_ROUNDS, RESPONSE_EXCERPT_BYTES, type Delivery } from '../../../../lambdas/core/webhooks/delivery';
import type { WebhookEndpoint } from '../../../../lambdas/core/webhooks/endpoint';
import {
  InMemoryDeliveryQueue,
  InMemoryDeliveryStore,
  InMemoryWebhookEndpointStore,
  RecordingMerchantNotifier,
  ScriptedWebhookTransport,
} from '../../../support/core/webhooks/in-memory-ports';
import { InMemoryRedriveLog } from '../../../support/core/requests/in-memory-ports';
import { deliverDependencies, deliveryMessage, pendingDelivery, webhookEndpoint } from '../../../support/core/webhooks/fixtures';

const NOW = new Date('2026-03-10T12:00:00Z');

const message = deliveryMessage();

/**
 * The use case over in-memory ports: its decisions, without storage or network. `stored` is the
 * record the message finds, or `'no record'` for round 1 before its first outcome, as the fan-out leaves it.
 */
function harness(endpoint: WebhookEndpoint, result: PostResult, stored: Partial<Delivery> | 'no record' = {}) {
  const endpoints = new InMemoryWebhookEndpointStore();
  endpoints.seed(endpoint);
  const deliveries = new InMemoryDeliveryStore();
  if (stored !== 'no record') deliveries.seed(pendingDelivery(message, stored));
  const queue = new InMemoryDeliveryQueue();
  const notifier = new RecordingMerchantNotifier();
  const redrives = new InMemoryRedriveLog();
  const transport = new ScriptedWebhookTransport(result);
  const deps = deliverDependencies({ endpoints, deliveries, transport, notifier }, { queue, redrives, now: () => NOW });
  return {
    deps,
    deliveries,
    notifier,
    redrives,
    transport,
    queue,
    delays: () => queue.delays.map((delay) => delay.seconds),
    delivery: () => deliveries.get(message.deliveryId),
    endpoint: () => endpoints.get(endpoint.merchantId, endpoint.id),
  };
}

const received = (receiveCount: number) => ({ message, receiveCount, receiptHandle: 'rh' });

describe('deliverWebhook', () => {
  it('schedules the next attempt on the same message after a failure', async () => {
    const h = harness(webhookEndpoint(), { status: 500, latencyMs: 3 });
    expect(await deliverWebhook(h.deps, received(2))).toMatchObject({ kind: 'retry', delaySeconds: 300 });
    expect(h.delays()).toEqual([300]);
    expect(await h.delivery()).toMatchObject({ state: 'pending', attempts: [{ attempt: 2, status: 500 }], nextAttemptAt: '2026-03-10T12:05:00.000Z' });
  });

  it('disables an endpoint whose attempts have all failed for five days, and tells the merchant', async () => {
    const h = harness(webhookEndpoint({ failingSince: '2026-03-05T11:00:00Z' }), { error: 'timeout', latencyMs: 10_000 });
    await deliverWebhook(h.deps, received(3));
    expect(await h.endpoint()).toMatchObject({ status: 'disabled', disabledReason: expect.stringMatching(/every attempt has failed since 2026-03-05T11:00:00Z/) });
    expect(h.notifier.notices).toEqual([expect.objectContaining({ merchantId: 'mer_1', endpointId: 'ep_1', url: 'https://hooks.example.com/x' })]);
  });

  it('keeps an endpoint that has been failing for less than five days', async () => {
    const h = harness(webhookEndpoint({ failingSince: '2026-03-06T13:00:00Z' }), { status: 502, latencyMs: 5 });
    await deliverWebhook(h.deps, received(3));
    expect(await h.endpoint()).toMatchObject({ status: 'enabled' });
    expect(h.notifier.notices).toEqual([]);
  });

  it('stops retrying a message whose round is over', async () => {
    const h = harness(webhookEndpoint(), { status: 500, latencyMs: 3 }, { round: 2 });
    expect(await deliverWebhook(h.deps, received(2))).toMatchObject({ kind: 'dropped' });
    expect(h.delays()).toEqual([]);
    expect(await h.delivery()).toMatchObject({ state: 'pending', round: 2, attempts: [] });
  });

  it('lets the last failed attempt go to the DLQ at once', async () => {
    const h = harness(webhookEndpoint(), { error: 'connection_refused', latencyMs: 1 });
    expect(await deliverWebhook(h.deps, received(8))).toMatchObject({ kind: 'dead' });
    expect(await h.delivery()).toMatchObject({ state: 'dead', reason: 'no success after 8 attempts' });
    expect(h.delays()).toEqual([0]);
  });

  it('disables an endpoint that answers 410 Gone at once, and tells the merchant once', async () => {
    const h = harness(webhookEndpoint(), { status: 410, latencyMs: 2 });
    expect(await deliverWebhook(h.deps, received(1))).toMatchObject({ kind: 'gone' });
    expect(await deliverWebhook(h.deps, received(2))).toMatchObject({ kind: 'dropped' });
    expect(await h.endpoint()).toMatchObject({ status: 'disabled' });
    expect(h.notifier.notices).toHaveLength(1);
  });
});

describe('a delivery without a record: round 1 as the fan-out sent it', () => {
  it('creates the record with the first attempt\'s outcome, in one write', async () => {
    const h = harness(webhookEndpoint(), { status: 204, latencyMs: 3 }, 'no record');
    expect(await deliverWebhook(h.deps, received(1))).toMatchObject({ kind: 'delivered' });
    expect(h.transport.posts).toHaveLength(1);
    expect(await h.delivery()).toEqual({
      id: message.deliveryId,
      merchantId: message.merchantId,
      endpointId: message.endpointId,
      subjectId: message.subjectId,
      eventType: message.eventType,
      eventTimestamp: message.eventTimestamp,
      state: 'succeeded',
      round: 1,
      attempts: [expect.objectContaining({ attempt: 1, status: 204 })],
      createdAt: NOW.toISOString(),
      updatedAt: NOW.toISOString(),
    });
  });

  it('creates it pending, due at its retry, when the first attempt fails', async () => {
    const h = harness(webhookEndpoint(), { status: 500, latencyMs: 3 }, 'no record');
    expect(await deliverWebhook(h.deps, received(1))).toMatchObject({ kind: 'retry', delaySeconds: 5 });
    expect(h.delays()).toEqual([5]);
    expect(await h.delivery()).toMatchObject({ state: 'pending', round: 1, attempts: [{ attempt: 1, status: 500 }], nextAttemptAt: '2026-03-10T12:00:05.000Z' });
  });

  it('creates it dropped, with the reason, when the endpoint was disabled before the first attempt', async () => {
    const h = harness(webhookEndpoint({ status: 'disabled', disabledReason: 'paused' }), { status: 204, latencyMs: 3 }, 'no record');
    expect(await deliverWebhook(h.deps, received(1))).toMatchObject({ kind: 'dropped' });
    expect(h.transport.posts).toEqual([]);
    expect(await h.delivery()).toMatchObject({ state: 'dropped', round: 1, attempts: [], reason: expect.stringContaining('paused') });
  });

  it('posts nothing for a later round whose record is gone', async () => {
    const h = harness(webhookEndpoint(), { status: 204, latencyMs: 3 }, 'no record');
    expect(await deliverWebhook(h.deps, { ...received(1), message: { ...message, round: 2 } })).toMatchObject({ kind: 'dropped', reason: expect.stringMatching(/no longer exists/) });
    expect(h.transport.posts).toEqual([]);
    expect(await h.delivery()).toBeUndefined();
  });

  it('lets a repeated fan-out\'s copy of round 1 post nothing once the first copy has attempted it, whatever became of that attempt', async () => {
    const h = harness(webhookEndpoint(), { status: 500, latencyMs: 3 }, 'no record');
    await deliverWebhook(h.deps, received(1));
    const afterFirst = await h.delivery();

    expect(await deliverWebhook(h.deps, received(1))).toMatchObject({ kind: 'dropped', reason: expect.stringMatching(/another message/) });
    expect(h.transport.posts).toHaveLength(1);
    expect(h.delays()).toEqual([5]);
    expect(await h.delivery()).toEqual(afterFirst);
    // The first copy goes on with its schedule.
    expect(await deliverWebhook(h.deps, received(2))).toMatchObject({ kind: 'retry' });
    expect(h.transport.posts).toHaveLength(2);
  });

  it('keeps only the first outcome when two copies both found no record, and the other copy stops', async () => {
    const h = harness(webhookEndpoint(), { status: 500, latencyMs: 3 }, 'no record');
    await deliverWebhook(h.deps, received(1));
    const afterFirst = await h.delivery();
    // The second copy read before the first one's write landed.
    const staleRead = Object.assign(Object.create(h.deliveries) as InMemoryDeliveryStore, { get: async () => undefined });

    expect(await deliverWebhook({ ...h.deps, deliveries: staleRead }, received(1))).toMatchObject({ kind: 'dropped', reason: expect.stringMatching(/is over/) });
    // It posted (under the same webhook-id, which receivers dedupe on) but schedules no retries of its own.
    expect(h.transport.posts).toHaveLength(2);
    expect(h.delays()).toEqual([5]);
    expect(await h.delivery()).toEqual(afterFirst);
  });
});

describe('bounds on a delivery', () => {
  it('clamps Retry-After: 86400 so the visibility never passes 12 hours from the receipt, less the time spent', async () => {
    const h = harness(webhookEndpoint(), { status: 429, retryAfter: '86400', latencyMs: 3 });
    // The sixth attempt's scheduled delay is about ten hours: twice that would be honoured without the clamp.
    const receivedAt = new Date(NOW.getTime() - 3_600_000);

    const outcome = await deliverWebhook(h.deps, { ...received(6), receivedAt });

    expect(outcome).toMatchObject({ kind: 'retry' });
    const [delay] = h.delays();
    expect(delay).toBeLessThanOrEqual(VISIBILITY_LIMIT_SECONDS - 3_600);
    expect(delay).toBeGreaterThan(VISIBILITY_LIMIT_SECONDS - 3_600 - 120);
    expect(Date.parse((await h.delivery())!.nextAttemptAt!)).toBe(NOW.getTime() + delay! * 1000);
  });

  it('keeps the last 20 attempts, each with at most 1 KB of the response body', async () => {
    // Twenty attempts take three rounds: a round has at most eight.
    const old = Array.from({ length: ATTEMPT_LOG_LIMIT }, (_, i) => ({ at: NOW.toISOString(), attempt: (i % 8) + 1, status: 500, latencyMs: 1 }));
    const h = harness(webhookEndpoint(), { status: 500, latencyMs: 3, responseBody: 'é'.repeat(2048) }, { attempts: old, round: 3 });

    await deliverWebhook(h.deps, { ...received(2), message: { ...message, round: 3 } });

    const { attempts } = (await h.delivery())!;
    expect(attempts).toHaveLength(ATTEMPT_LOG_LIMIT);
    expect(attempts[0]).toEqual(old[1]);
    expect(Buffer.byteLength(attempts.at(-1)!.responseBody!, 'utf8')).toBeLessThanOrEqual(RESPONSE_EXCERPT_BYTES);
    expect(attempts.at(-1)!.responseBody).toMatch(/^é+$/);
  });

  it('posts nothing for a message whose delivery is already over, and leaves the record alone', async () => {
    const h = harness(webhookEndpoint(), { status: 204, latencyMs: 3 }, { state: 'succeeded' });
    expect(await deliverWebhook(h.deps, received(1))).toMatchObject({ kind: 'dropped' });
    expect(h.transport.posts).toEqual([]);
  });

  it('posts nothing for a stray copy of a dead delivery when no redrive began since it died', async () => {
    const h = harness(webhookEndpoint(), { status: 204, latencyMs: 3 }, { state: 'dead', deadAtRedrive: 0 });
    expect(await deliverWebhook(h.deps, received(1))).toMatchObject({ kind: 'dropped', reason: expect.stringMatching(/no redrive/) });
    expect(h.transport.posts).toEqual([]);
    expect(h.queue.sent).toEqual([]);
  });

  it('turns a redriven message of a dead delivery into a recorded new round on a new message, posting nothing itself', async () => {
    const h = harness(webhookEndpoint(), { status: 204, latencyMs: 3 }, { state: 'dead', deadAtRedrive: 0 });
    await h.redrives.begin('deliveries');

    expect(await deliverWebhook(h.deps, received(1))).toMatchObject({ kind: 'dropped', reason: expect.stringMatching(/redriven: round 2/) });

    expect(h.transport.posts).toEqual([]);
    expect(await h.delivery()).toMatchObject({ state: 'pending', round: 2 });
    expect(h.queue.sent).toEqual([expect.objectContaining({ deliveryId: message.deliveryId, round: 2 })]);
    // The new message posts and is recorded in its round.
    expect(await deliverWebhook(h.deps, { message: { ...h.queue.sent[0]!, payload: message.payload }, receiveCount: 1, receiptHandle: 'rh2' })).toMatchObject({ kind: 'delivered' });
    expect(await h.delivery()).toMatchObject({ state: 'succeeded', round: 2 });
  });

  it('records the redrive generation when a delivery goes dead, so an earlier redrive never sends it again', async () => {
    const h = harness(webhookEndpoint(), { status: 500, latencyMs: 3 });
    await h.redrives.begin('deliveries');
    await deliverWebhook(h.deps, received(8));
    expect(await h.delivery()).toMatchObject({ state: 'dead', deadAtRedrive: 1 });
    expect(await deliverWebhook(h.deps, received(9))).toMatchObject({ kind: 'dropped', reason: expect.stringMatching(/no redrive/) });
  });

  it('refuses a round past the bound', async () => {
    const h = harness(webhookEndpoint(), { status: 204, latencyMs: 3 }, { state: 'dead', round: MAX_DELIVERY_ROUNDS, deadAtRedrive: 0 });
    await h.redrives.begin('deliveries');
    const outcome = await deliverWebhook(h.deps, { ...received(1), message: { ...message, round: MAX_DELIVERY_ROUNDS } });
    expect(outcome).toMatchObject({ kind: 'dropped', reason: expect.stringMatching(/rounds/) });
    expect(await h.delivery()).toMatchObject({ state: 'dead', round: MAX_DELIVERY_ROUNDS });
  });
});

describe('the delivery sweeper at the round bound', () => {
  it('ends an overdue delivery that has had every round dead, instead of sending it again', async () => {
    const store = new InMemoryDeliveryStore();
    const queue = new InMemoryDeliveryQueue();
    store.seed(
      pendingDelivery(message, {
        round: MAX_DELIVERY_ROUNDS,
        nextAttemptAt: '2026-03-10T10:00:00.000Z',
        createdAt: '2026-03-10T09:00:00.000Z',
        updatedAt: '2026-03-10T10:00:00.000Z',
      }),
    );

    const report = await sweepPendingDeliveries({ deliveries: store, queue, log: () => undefined, now: () => NOW }, { graceSeconds: 60, limit: 10 });

    expect(report.resent).toEqual([]);
    expect(queue.sent).toEqual([]);
    expect(await store.get(message.deliveryId)).toMatchObject({ state: 'dead', reason: expect.stringMatching(/^rounds-exhausted/) });
  });
});

describe('deliverWebhook at a rate-limited endpoint', () => {
  /** A limiter that answers as scripted and records what it was asked. */
  const limiter = (answer: { kind: 'slot'; at: number } | { kind: 'later'; retryAt: number }) => {
    const asked: { endpointId: string; perSecond: number }[] = [];
    return { asked, reserve: async (endpointId: string, perSecond: number) => (asked.push({ endpointId, perSecond }), answer) };
  };

  it('sends the message again delayed when no slot comes soon, posting and recording nothing and spending no attempt', async () => {
    const h = harness(webhookEndpoint({ rateLimitPerSecond: 2 }), { status: 204, latencyMs: 1 }, 'no record');
    const rate = limiter({ kind: 'later', retryAt: NOW.getTime() + 60_000 });
    const outcome = await deliverWebhook({ ...h.deps, rateLimiter: rate }, received(3));
    expect(outcome).toEqual({ kind: 'waiting', until: '2026-03-10T12:01:00.000Z' });
    expect(rate.asked).toEqual([{ endpointId: 'ep_1', perSecond: 2 }]);
    expect(h.transport.posts).toHaveLength(0);
    expect(await h.delivery()).toBeUndefined();
    expect(h.queue.sent).toEqual([{ ...message, attemptsBefore: 2, waitingSince: NOW.toISOString(), notBefore: '2026-03-10T12:01:00.000Z' }]);
  });

  it('numbers the attempt of a delayed message after the attempts before the wait, and logs how long it waited', async () => {
    const h = harness(webhookEndpoint({ rateLimitPerSecond: 2 }), { status: 500, latencyMs: 1 }, 'no record');
    const waited = { ...message, attemptsBefore: 2, waitingSince: '2026-03-10T11:59:00.000Z' };
    const outcome = await deliverWebhook({ ...h.deps, rateLimiter: limiter({ kind: 'slot', at: NOW.getTime() }) }, { message: waited, receiveCount: 1, receiptHandle: 'rh' });
    expect(outcome).toMatchObject({ kind: 'retry', attempt: { attempt: 3, waitedMs: 60_000 } });
    expect(await h.delivery()).toMatchObject({ attempts: [{ attempt: 3, status: 500, waitedMs: 60_000 }] });
  });

  it('never asks the limiter about an endpoint without a rate', async () => {
    const h = harness(webhookEndpoint(), { status: 204, latencyMs: 1 }, 'no record');
    const rate = limiter({ kind: 'later', retryAt: 0 });
    expect(await deliverWebhook({ ...h.deps, rateLimiter: rate }, received(1))).toMatchObject({ kind: 'delivered' });
    expect(rate.asked).toEqual([]);
  });
});
