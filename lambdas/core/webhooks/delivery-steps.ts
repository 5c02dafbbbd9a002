import { TEST_EVENT_TYPE, type RequestEventType, type WebhookEndpoint } from './endpoint';
import { newDeliveryOf, type Delivery } from './delivery';
import { decideDelivery, type DeliveryEvent } from './delivery-lifecycle';
import { eventBodyFor, requestEvent, testEventBody } from './request-event';
import { type DeliveryMessage } from './delivery-message';
import { type DeliverDependencies, type DeliverOutcome, RATE_WAIT_IN_WORKER_MS, skip } from './deliver-webhook';

/** The body of a message that does not carry it (too large, or a later round): in the endpoint's payload mode now. */
export async function rebuildBody(deps: DeliverDependencies, endpoint: WebhookEndpoint, message: DeliveryMessage): Promise<string | undefined> {
  if (message.eventType === TEST_EVENT_TYPE) return testEventBody(message.endpointId, message.subjectId, message.eventTimestamp);
  const request = await deps.loadRequest(message.subjectId);
  // A request of another merchant is never rendered to this merchant's endpoint, whatever the message says.
  if (!request || request.merchantId !== message.merchantId) return undefined;
  return eventBodyFor(endpoint, requestEvent(request, message.eventType as RequestEventType, message.eventTimestamp), deps.requestUrlOf);
}

export async function drop(deps: DeliverDependencies, message: DeliveryMessage, delivery: Delivery | undefined, reason: string): Promise<DeliverOutcome> {
  const at = (deps.now ?? (() => new Date()))().toISOString();
  await record(deps, { message, delivery, firstAttemptAt: at }, { kind: 'drop', reason }, at);
  deps.log('Delivery dropped', { deliveryId: message.deliveryId, reason });
  return { kind: 'dropped', reason };
}

/** Where an outcome is written: over the record the worker read, or as the record's creation when it read none. */
export interface OutcomeTarget {
  readonly message: DeliveryMessage;
  /** The record as the worker read it; undefined when there was none. */
  readonly delivery: Delivery | undefined;
  /** When the attempt began (or the drop was decided): a created record's `createdAt`. */
  readonly firstAttemptAt: string;
}

type OutcomeEvent = Extract<DeliveryEvent, { readonly round: number }>;
/** An attempt's outcome as the worker states it; the round, the time and the record to create come from the target. */
export type Outcome = OutcomeEvent extends infer E ? (E extends OutcomeEvent ? Omit<E, 'round' | 'at' | 'first'> : never) : never;

/**
 * Writes an outcome on the condition that the record is still as the worker read it: pending in
 * the message's round, or, when there was none, still absent. So of two copies of a message that
 * both found no record, only the first outcome is kept, and the other copy stops instead of
 * running a second series of retries beside it. False when the outcome was not written.
 */
export async function writeOutcome(deps: Pick<DeliverDependencies, 'deliveries'>, target: OutcomeTarget, outcome: Outcome, at: string): Promise<boolean> {
  const { message } = target;
  const event = { ...outcome, round: message.round, at, first: newDeliveryOf(message, target.firstAttemptAt) } as OutcomeEvent;
  const decision = decideDelivery(target.delivery, event);
  return decision.outcome === 'transition' && (await deps.deliveries.apply(decision.transition)) !== undefined;
}

/** `writeOutcome`, noting in the log an outcome that came too late. */
export async function record(deps: DeliverDependencies, target: OutcomeTarget, outcome: Outcome, at: string): Promise<boolean> {
  const recorded = await writeOutcome(deps, target, outcome, at);
  // Another copy of the message, or a newer round, got there first; the receiver dedupes on webhook-id.
  if (!recorded) deps.log('Delivery had moved on; attempt not recorded', { deliveryId: target.message.deliveryId, round: target.message.round });
  return recorded;
}

/**
 * A copy of round 1's message that another copy is ahead of: a repeated fan-out sends round 1
 * again, and finding the delivery pending in round 1 with an attempt at least as far along as this
 * receive means the first copy is retrying it. Only round 1 has such copies (every later round is
 * started by one conditional write and one message), and its log holds only its own attempts.
 */
export function isCopyBehind(delivery: Delivery, attemptNumber: number): boolean {
  if (delivery.round !== 1) return false;
  // A skip or a wait for the key's order records the attempt it did not make; the message it sent makes that attempt.
  const latest = delivery.attempts.findLast((attempt) => attempt.error !== 'circuit_open' && attempt.error !== 'predecessor_pending');
  return latest !== undefined && latest.attempt >= attemptNumber;
}

/**
 * Takes the endpoint's next slot and waits for it in place, or, when no slot comes within
 * `RATE_WAIT_IN_WORKER_MS`, sends the message again delayed until one may, carrying the attempts
 * made so far and when the wait began, and lets this one go. Either way the wait is no attempt:
 * nothing is posted, recorded or counted until the slot, and the attempt then notes how long it waited.
 */
export async function waitForSlot(
  deps: DeliverDependencies,
  endpointId: string,
  perSecond: number,
  message: DeliveryMessage,
  attemptNumber: number,
): Promise<{ readonly waitedMs: number } | DeliverOutcome> {
  const now = () => (deps.now ?? (() => new Date()))().getTime();
  const started = now();
  const waitingSince = message.waitingSince ? Date.parse(message.waitingSince) : started;
  const reservation = await deps.rateLimiter!.reserve(endpointId, perSecond, started, RATE_WAIT_IN_WORKER_MS);
  if (reservation.kind === 'later') {
    const until = new Date(reservation.retryAt).toISOString();
    await deps.queue.send([{ ...message, attemptsBefore: attemptNumber - 1, waitingSince: new Date(waitingSince).toISOString(), notBefore: until }]);
    return { kind: 'waiting', until };
  }
  // From the clock now, not from before the reservation: the write itself may have taken a while.
  const wait = reservation.at - now();
  if (wait > 0) await (deps.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(wait);
  return { waitedMs: Math.max(now() - waitingSince, 0) };
}

export function superseded(message: DeliveryMessage): DeliverOutcome {
  return { kind: 'dropped', reason: `round ${message.round} of ${message.deliveryId} is over` };
}
