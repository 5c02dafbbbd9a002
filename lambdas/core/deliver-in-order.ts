import { attemptNumberOf, deliverWebhook, type DeliverDependencies, type DeliverOutcome, type ReceivedDelivery } from './deliver-webhook';
import { orderDecision, recheckDelaySeconds, type DeliveryOrderLedger } from './delivery-order';
import { appendAttempt, newDeliveryOf, type Delivery, type DeliveryAttempt, type DeliveryMessage } from './webhooks';

export interface OrderedDeliverDependencies extends DeliverDependencies {
  readonly order: DeliveryOrderLedger;
}

/**
 * What became of one message: `deliverWebhook`'s outcomes, or `behind`: a delivery of the same key
 * to the same endpoint is ahead of it, so it went back on a new message due after `delaySeconds`,
 * and this one is acknowledged.
 */
export type OrderedDeliverOutcome = DeliverOutcome | { readonly kind: 'behind'; readonly ahead: number; readonly delaySeconds: number };

/**
 * Delivers one message in its key's order. A message without an ordering ticket goes straight to
 * `deliverWebhook` and costs nothing more. With one, the ledger is read first: while a request of
 * the same key accepted earlier is unfinished, or its delivery to this endpoint pending, the
 * delivery waits on a new, delayed message (no attempt spent, the wait noted once in the attempt
 * log); once it may go it is delivered as any other, and when it ends (delivered, dead, dropped)
 * its number stops holding the ones behind it.
 */
export async function deliverInOrder(deps: OrderedDeliverDependencies, received: ReceivedDelivery): Promise<OrderedDeliverOutcome> {
  const { message } = received;
  const ticket = message.ordering;
  if (!ticket) return deliverWebhook(deps, received);

  const nowMs = (deps.now ?? (() => new Date()))().getTime();
  const waitingSinceMs = message.orderWaitSince ? Date.parse(message.orderWaitSince) : nowMs;
  const standing = await deps.order.standing(message.merchantId, ticket.key, message.endpointId);
  const decision = orderDecision(ticket.seq, standing, waitingSinceMs, nowMs);
  if (decision.kind === 'wait') return waitBehind(deps, received, decision.ahead, waitingSinceMs, nowMs);
  if (decision.kind === 'release') {
    deps.log('Ordered delivery waited past its bound; the deliveries ahead of it no longer hold its key', {
      deliveryId: message.deliveryId,
      seq: ticket.seq,
      releasedOpen: decision.open,
      releasedPending: decision.pending,
    });
    await deps.order.settle(message.merchantId, ticket.key, message.endpointId, decision.pending);
    await deps.order.withdraw(message.merchantId, ticket.key, decision.open);
  }

  const outcome = await deliverWebhook(deps, received);
  if (await hasEnded(deps, message, outcome)) await deps.order.settle(message.merchantId, ticket.key, message.endpointId, [ticket.seq]);
  return outcome;
}

/**
 * Whether the delivery no longer holds the ones behind it. A dropped message may be a stale copy
 * of a delivery that is still pending on another message, so its record decides; no record at all
 * means its request is gone and nothing will ever deliver it.
 */
async function hasEnded(deps: OrderedDeliverDependencies, message: DeliveryMessage, outcome: DeliverOutcome): Promise<boolean> {
  switch (outcome.kind) {
    case 'delivered':
    case 'dead':
    case 'gone':
      return true;
    case 'dropped': {
      const delivery = await deps.deliveries.get(message.deliveryId);
      return delivery === undefined || delivery.state !== 'pending';
    }
    default:
      return false;
  }
}

/** The attempt-log error of a wait for a predecessor: no POST was made. */
export const PREDECESSOR_PENDING = 'predecessor_pending';

/**
 * Puts the delivery back on a new message due after the re-check delay, carrying the attempts made
 * so far and when the wait began (the bound counts from then). The record shows the delivery
 * pending and due at the re-check, so the sweeper does not take it for lost; the wait is written to
 * the attempt log once per wait, not at every look.
 */
async function waitBehind(
  deps: OrderedDeliverDependencies,
  received: ReceivedDelivery,
  ahead: number,
  waitingSinceMs: number,
  nowMs: number,
): Promise<OrderedDeliverOutcome> {
  const { message } = received;
  const delivery = await deps.deliveries.get(message.deliveryId);
  // A message whose delivery moved on (finished, dead, a newer round) holds nothing: the plain path drops or redrives it.
  if (delivery ? delivery.round !== message.round || delivery.state !== 'pending' : message.round !== 1) return deliverWebhook(deps, received);

  const attemptNumber = attemptNumberOf(received);
  const delaySeconds = recheckDelaySeconds(nowMs - waitingSinceMs);
  const at = new Date(nowMs).toISOString();
  const nextAttemptAt = new Date(nowMs + delaySeconds * 1000).toISOString();
  const attempts = alreadyWaiting(delivery) ? undefined : appendAttempt(delivery?.attempts ?? [], waitingAttempt(at, attemptNumber, ahead));
  const recorded = delivery
    ? await deps.deliveries.record(message.deliveryId, message.round, { ...(attempts ? { attempts } : {}), state: 'pending', nextAttemptAt }, at)
    : await deps.deliveries.recordFirst(newDeliveryOf(message, at), { attempts: attempts ?? [], state: 'pending', nextAttemptAt }, at);
  if (!recorded) return { kind: 'dropped', reason: `round ${message.round} of ${message.deliveryId} moved on while it waited for its key` };

  const { notBefore: _rateLimitDue, ...rest } = message;
  await deps.queue.send([{ ...rest, attemptsBefore: attemptNumber - 1, orderWaitSince: new Date(waitingSinceMs).toISOString() }], { delaySeconds });
  return { kind: 'behind', ahead, delaySeconds };
}

function alreadyWaiting(delivery: Delivery | undefined): boolean {
  return delivery?.attempts.at(-1)?.error === PREDECESSOR_PENDING;
}

function waitingAttempt(at: string, attempt: number, ahead: number): DeliveryAttempt {
  return {
    at,
    attempt,
    error: PREDECESSOR_PENDING,
    errorMessage: `not sent yet: the delivery of request number ${ahead} of the same ordering key to this endpoint has not ended`,
    latencyMs: 0,
  };
}
