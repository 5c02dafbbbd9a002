import { deliverInOrder, type OrderedDeliverDependencies } from '../../../../lambdas/core/webhooks/deliver-in-order';
import { ORDER_RECHECK_BEHIND_OPEN_SECONDS, ORDER_RECHECK_SECONDS, ORDER_WAIT_BOUND_SECONDS } from '../../../../lambdas/core/webhooks/delivery-order';
import { deliveryIdOf } from '../../../../lambdas/core/webhooks/delivery';
import { type DeliveryMessage } from '../../../../lambdas/core/webhooks/delivery-message';
import { storedRequest } from '../../../support/request-fixtures';
import { InMemoryDeliveryOrderLedger } from '../../../support/core/webhooks/in-memory-delivery-order';
import {
  InMemoryDeliveryQueue,
  InMemoryDeliveryStore,
  InMemoryWebhookEndpointStore,
  ScriptedWebhookTransport,
} from '../../../support/core/webhooks/in-memory-ports';
import { deliverDependencies, deliveryMessage, webhookEndpoint } from '../../../support/core/webhooks/fixtures';

const NOW = new Date('2026-06-01T12:00:00Z');
const KEY = 'customer-42';

function messageOf(seq: number, extra: Partial<DeliveryMessage> = {}): DeliveryMessage {
  return deliveryMessage({
    deliveryId: deliveryIdOf(`req_${seq}`, 'ep_1', 'request.succeeded'),
    subjectId: `req_${seq}`,
    eventTimestamp: '2026-06-01T11:59:00Z',
    payload: `{"n":${seq}}`,
    ordering: { key: KEY, seq },
    ...extra,
  });
}

function harness(...answers: { status: number; latencyMs: number }[]) {
  const endpoints = new InMemoryWebhookEndpointStore();
  endpoints.seed(webhookEndpoint());
  const deliveries = new InMemoryDeliveryStore();
  const order = new InMemoryDeliveryOrderLedger(deliveries);
  const queue = new InMemoryDeliveryQueue();
  const transport = new ScriptedWebhookTransport(...answers);
  let now = NOW;
  const deps: OrderedDeliverDependencies = {
    ...deliverDependencies(
      { endpoints, deliveries, transport },
      {
        queue,
        // A wake carries no body: the worker rebuilds it from the request.
        loadRequest: async (id) => storedRequest(id, { merchantId: 'mer_1', status: 'succeeded', result: { ok: true } }),
        now: () => now,
      },
    ),
    order,
  };
  /** Accepts requests 1..n of the key and hands each over to ep_1, as submits and fan-outs do. */
  const handOver = async (...seqs: number[]) => {
    for (const seq of seqs) await order.handOver('mer_1', { key: KEY, seq }, [{ endpointId: 'ep_1', deliveryId: messageOf(seq).deliveryId }]);
  };
  const deliver = (message: DeliveryMessage, receiveCount = 1) => deliverInOrder(deps, { message, receiveCount, receiptHandle: `rh-${message.deliveryId}` });
  return { deps, deliveries, order, queue, transport, handOver, deliver, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe('deliverInOrder', () => {
  it('delivers a message without an ordering key without touching the ledger', async () => {
    const h = harness({ status: 204, latencyMs: 5 });
    const { ordering: _none, ...plain } = messageOf(1);
    expect(await h.deliver(plain)).toMatchObject({ kind: 'delivered' });
    expect(h.order.calls).toEqual({});
  });

  it('holds a delivery behind the pending one ahead of it: no POST, no attempt spent, the wait in the log', async () => {
    const h = harness({ status: 204, latencyMs: 5 });
    h.order.accept('mer_1', KEY, 1, 2);
    await h.handOver(1, 2);

    expect(await h.deliver(messageOf(2))).toEqual({ kind: 'behind', ahead: 1 });
    expect(h.transport.posts).toHaveLength(0);
    const waiting = await h.deliveries.get(messageOf(2).deliveryId);
    expect(waiting).toMatchObject({ state: 'pending', orderWait: 'waiting' });
    expect(waiting!.attempts).toEqual([expect.objectContaining({ attempt: 1, error: 'predecessor_pending', latencyMs: 0 })]);
    // Its fallback re-check: the same attempt again, after SQS's longest delay.
    expect(h.queue.sent).toEqual([expect.objectContaining({ deliveryId: messageOf(2).deliveryId, attemptsBefore: 0, orderToken: expect.any(String) })]);
    expect(h.queue.sentDelays).toEqual([ORDER_RECHECK_SECONDS]);
  });

  it('holds a delivery while an earlier request of its key is unfinished, whatever the endpoint', async () => {
    const h = harness({ status: 204, latencyMs: 5 });
    h.order.accept('mer_1', KEY, 1, 2);
    await h.handOver(2);
    expect(await h.deliver(messageOf(2))).toEqual({ kind: 'behind', ahead: 1 });
    // A cancel of the request ahead wakes nobody, so the re-check comes within a minute.
    expect(h.queue.sentDelays).toEqual([ORDER_RECHECK_BEHIND_OPEN_SECONDS]);
  });

  it('keeps other keys apart: a delivery of another key goes at once', async () => {
    const h = harness({ status: 204, latencyMs: 5 });
    h.order.accept('mer_1', KEY, 1, 2);
    await h.handOver(1, 2);
    h.order.accept('mer_1', 'other', 1);
    await h.order.handOver('mer_1', { key: 'other', seq: 1 }, [{ endpointId: 'ep_1', deliveryId: 'dlv_req_o.ep_1.succeeded' }]);
    expect(await h.deliver(messageOf(1, { deliveryId: 'dlv_req_o.ep_1.succeeded', subjectId: 'req_o', ordering: { key: 'other', seq: 1 } }))).toMatchObject({ kind: 'delivered' });
  });

  it('keeps endpoints apart: the key\u2019s next delivery to another endpoint goes while the first endpoint\u2019s is pending', async () => {
    const h = harness({ status: 204, latencyMs: 5 });
    await h.deps.endpoints.create({ ...(await h.deps.endpoints.get('mer_1', 'ep_1'))!, id: 'ep_2' }, 20);
    const toSecond = (seq: number) => messageOf(seq, { endpointId: 'ep_2', deliveryId: deliveryIdOf(`req_${seq}`, 'ep_2', 'request.succeeded') });
    h.order.accept('mer_1', KEY, 1, 2);
    // Request 1's event goes to ep_1 only (ep_2 filters it out); request 2's to both.
    await h.order.handOver('mer_1', { key: KEY, seq: 1 }, [{ endpointId: 'ep_1', deliveryId: messageOf(1).deliveryId }]);
    await h.order.handOver('mer_1', { key: KEY, seq: 2 }, [
      { endpointId: 'ep_1', deliveryId: messageOf(2).deliveryId },
      { endpointId: 'ep_2', deliveryId: toSecond(2).deliveryId },
    ]);
    expect(await h.deliver(messageOf(2))).toMatchObject({ kind: 'behind' });
    expect(await h.deliver(toSecond(2))).toMatchObject({ kind: 'delivered' });
  });

  it('wakes the next delivery when the one ahead ends, and of the wake and its re-check only one posts', async () => {
    const h = harness({ status: 204, latencyMs: 5 });
    h.order.accept('mer_1', KEY, 1, 2);
    await h.handOver(1, 2);
    await h.deliver(messageOf(2));
    const recheck = h.queue.sent[0]!;

    // A retry of the first does not wake anyone; its success does.
    expect(await h.deliver(messageOf(1))).toMatchObject({ kind: 'delivered' });
    const wake = h.queue.sent[1]!;
    expect(wake).toMatchObject({ deliveryId: messageOf(2).deliveryId, attemptsBefore: 0, orderToken: expect.any(String) });
    expect(wake.orderToken).not.toBe(recheck.orderToken);

    expect(await h.deliver(wake)).toMatchObject({ kind: 'delivered' });
    expect(await h.deliver(recheck)).toMatchObject({ kind: 'dropped' });
    expect(h.transport.posts.map((post) => post.headers['webhook-id'])).toEqual([messageOf(1).deliveryId, messageOf(2).deliveryId]);
  });

  it('keeps the next one waiting through the retries of the one ahead, until it is dead', async () => {
    const h = harness({ status: 500, latencyMs: 5 });
    h.order.accept('mer_1', KEY, 1, 2);
    await h.handOver(1, 2);
    const deps = { ...h.deps, maxAttempts: 2 };
    expect(await deliverInOrder(deps, { message: messageOf(1), receiveCount: 1, receiptHandle: 'rh' })).toMatchObject({ kind: 'retry' });
    expect(await deliverInOrder(deps, { message: messageOf(2), receiveCount: 1, receiptHandle: 'rh2' })).toMatchObject({ kind: 'behind' });
    expect(await deliverInOrder(deps, { message: messageOf(1), receiveCount: 2, receiptHandle: 'rh' })).toMatchObject({ kind: 'dead' });
    // The dead one no longer holds the key: the next is woken.
    expect(h.queue.sent.at(-1)).toMatchObject({ deliveryId: messageOf(2).deliveryId, orderToken: expect.any(String) });
  });

  it('lets a delivery go once it has waited 36 hours, releasing what was ahead of it', async () => {
    const h = harness({ status: 204, latencyMs: 5 });
    h.order.accept('mer_1', KEY, 1, 2, 3);
    await h.handOver(2, 3);
    const since = new Date(NOW.getTime() - ORDER_WAIT_BOUND_SECONDS * 1000).toISOString();
    expect(await h.deliver(messageOf(3, { orderWaitSince: since }))).toMatchObject({ kind: 'delivered' });
    expect(await h.order.standing('mer_1', KEY, 'ep_1')).toEqual({ open: [], pending: [] });
  });
});
