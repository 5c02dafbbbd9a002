import { randomUUID } from 'node:crypto';
import { attemptNumberOf, deliverWebhook, type DeliverDependencies, type DeliverOutcome, type ReceivedDelivery } from './deliver-webhook';
import {
  claimOf,
  goingMark,
  orderDecision,
  ORDER_RECHECK_BEHIND_OPEN_SECONDS,
  ORDER_RECHECK_SECONDS,
  PREDECESSOR_PENDING,
  type DeliveryOrderLedger,
} from './delivery-order';
import { wakeReady } from './order-wake';
import { appendAttempt, type Delivery, type DeliveryAttempt } from './delivery';
import { writeOutcome } from './delivery-steps';
import { type DeliveryMessage } from './delivery-message';

export interface OrderedDeliverDependencies extends DeliverDependencies {
  readonly order: DeliveryOrderLedger;
}

/**
 * What became of one message: `deliverWebhook`'s outcomes, or `behind`: a delivery of the same key
 * to the same endpoint is ahead of it, so it waits to be woken (or to look again after
 * `ORDER_RECHECK_SECONDS`), and this message is acknowledged.
 */
export type OrderedDeliverOutcome = DeliverOutcome | { readonly kind: 'behind'; readonly ahead: number };

/**
 * Delivers one message in its key's order. A message without an ordering ticket goes straight to
 * `deliverWebhook` and costs nothing more. With one, the ledger is read first: while a request of
 * the same key accepted earlier is unfinished, or its delivery to this endpoint pending, the
 * delivery waits (no attempt spent, the wait noted once in the attempt log) until the one ahead
 * of it ends and wakes it; once it may go it is delivered as any other, and when it ends
 * (delivered, dead, dropped) its number stops holding the ones behind it, and the next is woken.
 */
export async function deliverInOrder(deps: OrderedDeliverDependencies, received: ReceivedDelivery): Promise<OrderedDeliverOutcome> {
  const { message } = received;
  const ticket = message.ordering;
  if (!ticket) return deliverWebhook(deps, received);

  const nowMs = (deps.now ?? (() => new Date()))().getTime();
  const waitingSinceMs = message.orderWaitSince ? Date.parse(message.orderWaitSince) : nowMs;
  const standing = await deps.order.standing(message.merchantId, ticket.key, message.endpointId);
  const decision = orderDecision(ticket.seq, standing, waitingSinceMs, nowMs);
  if (decision.kind === 'wait') {
    const waited = await waitBehind(deps, received, decision, waitingSinceMs, nowMs);
    if (waited !== 'clear') return waited;
  } else if (decision.kind === 'release') {
    deps.log('Ordered delivery waited past its bound; the deliveries ahead of it no longer hold its key', {
      deliveryId: message.deliveryId,
      seq: ticket.seq,
      releasedOpen: decision.open,
      releasedPending: decision.pending.map((delivery) => delivery.seq),
    });
    await deps.order.settle(message.merchantId, ticket.key, message.endpointId, decision.pending);
    await deps.order.withdraw(message.merchantId, ticket.key, decision.open);
  }

  if (!(await takesTurn(deps, message))) return { kind: 'dropped', reason: `another message of ${message.deliveryId} took its turn` };
  const outcome = await deliverWebhook(deps, received);
  if (await hasEnded(deps, message, outcome)) {
    await deps.order.settle(message.merchantId, ticket.key, message.endpointId, [{ seq: ticket.seq, deliveryId: message.deliveryId }]);
    await wakeReady(deps, message.merchantId, ticket.key);
  }
  return outcome;
}

/**
 * Whether this message is the one to deliver: a delivery that waited may have been woken by the
 * one ahead of it and also looked again itself, and only the message that claims it posts.
 */
async function takesTurn(deps: OrderedDeliverDependencies, message: DeliveryMessage): Promise<boolean> {
  const delivery = await deps.deliveries.get(message.deliveryId);
  // No record and no token: the fan-out's first message of a delivery that never waited.
  const claim = claimOf(delivery?.orderWait, message.round, message.orderToken);
  if (claim.kind !== 'claim') return claim.kind === 'proceed';
  return deps.order.claim(message.deliveryId, message.round, claim.expected, goingMark(message.round, message.orderToken));
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

/**
 * Records the wait (pending, due at the re-check, so the sweeper does not take it for lost; the
 * wait written to the attempt log once per wait, not at every look), marks the delivery waiting,
 * then reads the ledger again: the one ahead may have ended between the two reads, before it
 * could see this one waiting, and then nobody would wake it. Still behind: a re-check message goes
 * out as the fallback of the wake (sooner behind an unfinished request, which a cancel can end
 * without a wake). Clear: the caller delivers now.
 */
async function waitBehind(
  deps: OrderedDeliverDependencies,
  received: ReceivedDelivery,
  held: { readonly ahead: number; readonly heldByOpen: boolean },
  waitingSinceMs: number,
  nowMs: number,
): Promise<OrderedDeliverOutcome | 'clear'> {
  const { message } = received;
  const ticket = message.ordering!;
  const delivery = await deps.deliveries.get(message.deliveryId);
  // A message whose delivery moved on (finished, dead, a newer round) holds nothing: the plain path drops or redrives it.
  if (delivery ? delivery.round !== message.round || delivery.state !== 'pending' : message.round !== 1) return deliverWebhook(deps, received);
  if (delivery?.orderWait?.startsWith(`going:${message.round}:`)) return 'clear';

  const attemptNumber = attemptNumberOf(received);
  const at = new Date(nowMs).toISOString();
  const recheckSeconds = held.heldByOpen ? ORDER_RECHECK_BEHIND_OPEN_SECONDS : ORDER_RECHECK_SECONDS;
  const nextAttemptAt = new Date(nowMs + recheckSeconds * 1000).toISOString();
  const attempts = alreadyWaiting(delivery) ? undefined : appendAttempt(delivery?.attempts ?? [], waitingAttempt(at, attemptNumber, held.ahead));
  const recorded = await writeOutcome(deps, { message, delivery, firstAttemptAt: at }, { kind: 'reschedule', ...(attempts ? { attempts } : {}), nextAttemptAt }, at);
  if (!recorded) return { kind: 'dropped', reason: `round ${message.round} of ${message.deliveryId} moved on while it waited for its key` };
  await deps.order.markWaiting(message.deliveryId, message.round);

  const again = orderDecision(ticket.seq, await deps.order.standing(message.merchantId, ticket.key, message.endpointId), waitingSinceMs, nowMs);
  if (again.kind === 'go') return 'clear';
  const { notBefore: _rateLimitDue, ...rest } = message;
  await deps.queue.send(
    [{ ...rest, attemptsBefore: attemptNumber - 1, orderWaitSince: new Date(waitingSinceMs).toISOString(), orderToken: randomUUID() }],
    { delaySeconds: recheckSeconds },
  );
  return { kind: 'behind', ahead: held.ahead };
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
