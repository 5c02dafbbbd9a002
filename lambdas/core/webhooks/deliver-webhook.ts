import { isCallbackTarget, resolveCallbackTarget, type CallbackTargets } from './callbacks';
import type { RetrySchedule } from '../shared/retry-schedule';
import { countsAsFailure, type EndpointCircuits } from './circuit-breaker';
import type { HeraldRequest } from '../requests/request';
import type { RedriveLog } from '../requests/redrive';
import { deliveryMessageOf } from './fan-out-webhooks';
import type { DeliveryQueue, DeliveryRateLimiter, DeliveryStore, EndpointHealth, WebhookEndpointStore } from './ports';
import type { WebhookEndpoint } from './endpoint';
import { appendAttempt, type Delivery, type DeliveryAttempt } from './delivery';
import { decideDelivery } from './delivery-lifecycle';
import { type RequestUrlOf } from './request-event';
import { type DeliveryMessage } from './delivery-message';
import { type OutcomeTarget, drop, isCopyBehind, rebuildBody, record, superseded, waitForSlot } from './delivery-steps';
import { retryDelaySeconds } from './retry-timing';
import { type AttemptDependencies, attemptDelivery, isSuccess } from './webhook-attempt';

export interface DeliverDependencies extends AttemptDependencies {
  readonly endpoints: WebhookEndpointStore;
  readonly deliveries: DeliveryStore;
  readonly queue: DeliveryQueue;
  /** Told of every outcome at a stored endpoint: failing streaks, disabling and the merchant's notice follow from there. */
  readonly health: EndpointHealth;
  readonly loadRequest: (id: string) => Promise<HeraldRequest | undefined>;
  /** Where thin events tell receivers to fetch the request. */
  readonly requestUrlOf?: RequestUrlOf;
  readonly schedule: RetrySchedule;
  /** The queue's maxReceiveCount: the attempt on this receive is the last one. */
  readonly maxAttempts: number;
  readonly retryScale: number;
  readonly log: (message: string, extra?: Record<string, unknown>) => void;
  readonly random?: () => number;
  /** Redrives of the deliveries queue: a dead delivery's message is sent again only after a newer one began. */
  readonly redrives: RedriveLog;
  /** The queue the message came from, as the redrive log names it. */
  readonly queueName: string;
  /** Paces endpoints that set `rateLimitPerSecond`; never called for those that do not. */
  readonly rateLimiter?: DeliveryRateLimiter;
  readonly sleep?: (ms: number) => Promise<void>;
  /** This process's per-endpoint circuits; without them every delivery POSTs. */
  readonly circuits?: EndpointCircuits;
  /** Where requests' callbacks are found; without them a callback delivery is dropped. */
  readonly callbacks?: CallbackTargets;
}

/**
 * How long a worker waits in place for a rate-limited endpoint's slot. The deliver function's
 * timeout (30 s) must hold this wait and the attempt's own 10 s; a slot further ahead is waited
 * for on a new, delayed message instead, so no worker idles for long.
 */
export const RATE_WAIT_IN_WORKER_MS = 10_000;

export interface ReceivedDelivery {
  readonly message: DeliveryMessage;
  /** SQS's receive count: the attempt number within this round. */
  readonly receiveCount: number;
  readonly receiptHandle: string;
  /** When the message was received; its visibility may reach 12 hours from then. Defaults to when the work began. */
  readonly receivedAt?: Date;
}

/** SQS's limit on a message's visibility, counted from its receipt. */
export const VISIBILITY_LIMIT_SECONDS = 12 * 3600;
/** Kept clear of the limit for the calls between now and the visibility change. */
const VISIBILITY_MARGIN_SECONDS = 60;

/**
 * What became of one message. `retry` and `dead` leave the message on the queue (the caller
 * reports a batch item failure): `retry` reappears after its backoff, `dead` moves to the DLQ.
 */
export type DeliverOutcome =
  | { readonly kind: 'delivered'; readonly attempt: DeliveryAttempt }
  | { readonly kind: 'retry'; readonly attempt: DeliveryAttempt; readonly delaySeconds: number }
  | { readonly kind: 'dead'; readonly attempt: DeliveryAttempt }
  | { readonly kind: 'gone'; readonly attempt: DeliveryAttempt }
  /** The endpoint's circuit was open: no POST; the delivery goes on a new message after `delaySeconds`, and this one is acknowledged. */
  | { readonly kind: 'skipped'; readonly attempt: DeliveryAttempt; readonly delaySeconds: number }
  /** A dead delivery's own message on its way to the DLQ (see `attemptsBefore`): made visible again until SQS moves it. */
  | { readonly kind: 'toDeadLetters' }
  | { readonly kind: 'dropped'; readonly reason: string }
  | { readonly kind: 'waiting'; readonly until: string };

/**
 * Delivers one message once: prepare (endpoint, body) → call (sign, re-check, POST) → handle
 * success or failure. Failures wait out the schedule's backoff on the same message; the last
 * attempt marks the delivery dead and lets the message go to the DLQ. A 410 disables the endpoint
 * at once; so do N consecutive dead deliveries and failing attempts for days on end.
 */
export async function deliverWebhook(deps: DeliverDependencies, received: ReceivedDelivery): Promise<DeliverOutcome> {
  const now = deps.now ?? (() => new Date());
  const receivedAt = received.receivedAt ?? now();
  const { message } = received;
  // Waiting for a rate limit moves the attempt to a new message; its receive count starts over.
  const attemptNumber = attemptNumberOf(received);
  // The record first: a message whose round is over, or that an operator redrove, must not POST unrecorded.
  const delivery = await deps.deliveries.get(message.deliveryId);
  if (!delivery) {
    // The fan-out writes nothing, so no record means round 1 before its first outcome; every later round was started on a record.
    if (message.round !== 1) return { kind: 'dropped', reason: 'the delivery no longer exists' };
  } else {
    if (delivery.round !== message.round) return superseded(message);
    if (delivery.state === 'dead') return startRedrivenRound(deps, delivery, received);
    if (delivery.state !== 'pending') return { kind: 'dropped', reason: `the delivery is already ${delivery.state}` };
    if (isCopyBehind(delivery, attemptNumber)) return { kind: 'dropped', reason: `round 1 of ${message.deliveryId} is already being attempted by another message` };
  }

  // A callback is no stored endpoint: nothing disables it or trips a circuit shared with other requests.
  const isCallback = isCallbackTarget(message.endpointId);
  let endpoint: WebhookEndpoint | undefined;
  if (isCallback) {
    const target = await resolveCallbackTarget(deps.callbacks, message);
    if ('missing' in target) return drop(deps, message, delivery, `the callback cannot be sent: ${target.missing}`);
    endpoint = target.endpoint;
  } else {
    endpoint = await deps.endpoints.getCached(message.merchantId, message.endpointId);
  }
  if (!endpoint) return drop(deps, message, delivery, 'the endpoint was deleted');
  if (endpoint.status === 'disabled') return drop(deps, message, delivery, `the endpoint is disabled (${endpoint.disabledReason ?? 'no reason given'})`);
  const body = message.payload ?? (await rebuildBody(deps, endpoint, message));
  if (body === undefined) return drop(deps, message, delivery, 'the request no longer exists');

  const gate = isCallback ? undefined : deps.circuits?.decide(endpoint.id, now().getTime());
  if (gate?.kind === 'skip') return skip(deps, { message, delivery, firstAttemptAt: now().toISOString() }, attemptNumber, gate);

  let waitedMs: number | undefined;
  if (endpoint.rateLimitPerSecond !== undefined && deps.rateLimiter) {
    const paced = await waitForSlot(deps, endpoint.id, endpoint.rateLimitPerSecond, message, attemptNumber);
    if ('kind' in paced) return paced;
    waitedMs = paced.waitedMs;
  }

  const sent = await attemptDelivery(deps, endpoint, { id: message.deliveryId, traceId: message.traceId }, body, attemptNumber);
  const { result } = sent;
  const attempt = waitedMs ? { ...sent.attempt, waitedMs } : sent.attempt;
  if (!isCallback) deps.circuits?.record(endpoint.id, countsAsFailure(result), now().getTime());
  const attempts = appendAttempt(delivery?.attempts ?? [], attempt);
  const at = now().toISOString();
  const outcome = { message, delivery, firstAttemptAt: attempt.at };

  if (isSuccess(result)) {
    await record(deps, outcome, { kind: 'deliver', attempts }, at);
    if (!isCallback) await deps.health.attemptSucceeded(endpoint, at);
    return { kind: 'delivered', attempt };
  }
  if (result.status === 410) {
    if (isCallback) {
      await record(deps, outcome, { kind: 'die', attempts, reason: 'the callback URL answered 410 Gone' }, at);
      return { kind: 'gone', attempt };
    }
    await record(deps, outcome, { kind: 'die', attempts, reason: 'the endpoint answered 410 Gone and was disabled' }, at);
    await deps.health.gone(endpoint, at);
    return { kind: 'gone', attempt };
  }
  if (attemptNumber >= deps.maxAttempts) {
    const redriveGeneration = await deps.redrives.generation(deps.queueName);
    const reason = `no success after ${attemptNumber} attempts`;
    if (!(await record(deps, outcome, { kind: 'die', attempts, reason, redriveGeneration }, at))) return superseded(message);
    // Visible again at once, so SQS moves it to the DLQ on the next receive.
    await deps.queue.delayRedelivery(received.receiptHandle, 0);
    if (!isCallback) await deps.health.deliveryDied(endpoint, message.deliveryId, at);
    return { kind: 'dead', attempt };
  }
  const spentSeconds = Math.ceil((now().getTime() - receivedAt.getTime()) / 1000);
  const delaySeconds = Math.min(
    retryDelaySeconds(deps, attemptNumber, result),
    Math.max(VISIBILITY_LIMIT_SECONDS - VISIBILITY_MARGIN_SECONDS - spentSeconds, 0),
  );
  const nextAttemptAt = new Date(now().getTime() + delaySeconds * 1000).toISOString();
  // A message whose round is over (the delivery was sent again, or finished) must not keep retrying.
  if (!(await record(deps, outcome, { kind: 'reschedule', attempts, nextAttemptAt }, at))) return superseded(message);
  await deps.queue.delayRedelivery(received.receiptHandle, delaySeconds);
  if (!isCallback) await deps.health.attemptFailed(endpoint, at);
  return { kind: 'retry', attempt, delaySeconds };
}

/** The attempt this receive makes: the receive count, after the attempts earlier messages of the round made. */
export function attemptNumberOf(received: Pick<ReceivedDelivery, 'message' | 'receiveCount'>): number {
  return (received.message.attemptsBefore ?? 0) + received.receiveCount;
}

/** The most a skipped delivery waits on its new message: SQS's limit on a message's delay. */
export const MAX_SKIP_DELAY_SECONDS = 900;

/**
 * The endpoint's circuit is open: no POST. The skip is written to the attempt log (so the delivery
 * shows why nothing happened) and the delivery goes on a new message due after the circuit's
 * wait, spread by up to a tenth so the waiting deliveries do not all come back at one instant.
 * The new message carries the attempts made so far, so the skip spends none of them.
 */
export async function skip(
  deps: DeliverDependencies,
  target: OutcomeTarget,
  attemptNumber: number,
  gate: { readonly retryAt: number; readonly failures: number },
): Promise<DeliverOutcome> {
  const nowMs = (deps.now ?? (() => new Date()))().getTime();
  const waitSeconds = Math.max(Math.ceil((gate.retryAt - nowMs) / 1000), 1);
  const spread = Math.floor(waitSeconds * 0.1 * (deps.random ?? Math.random)());
  const delaySeconds = Math.min(waitSeconds + spread, MAX_SKIP_DELAY_SECONDS);
  const at = new Date(nowMs).toISOString();
  const attempt: DeliveryAttempt = {
    at,
    attempt: attemptNumber,
    error: 'circuit_open',
    errorMessage: `not sent: the endpoint failed ${gate.failures} times in a row; rescheduled after ${delaySeconds} s`,
    latencyMs: 0,
  };
  const nextAttemptAt = new Date(nowMs + delaySeconds * 1000).toISOString();
  const attempts = appendAttempt(target.delivery?.attempts ?? [], attempt);
  if (!(await record(deps, target, { kind: 'reschedule', attempts, nextAttemptAt }, at))) return superseded(target.message);
  await deps.queue.send([{ ...target.message, attemptsBefore: attemptNumber - 1 }], { delaySeconds });
  return { kind: 'skipped', attempt, delaySeconds };
}

/**
 * A message for a dead delivery in its own round came back from the DLQ (an operator's redrive)
 * or is a stray copy. Only a redrive begun after the delivery died sends it again, and then as a
 * recorded new round on a new message (bounded by `MAX_DELIVERY_ROUNDS`); this one is acknowledged.
 * A message that a skip sent has fewer receives than the DLQ wants when its delivery dies; it is
 * made visible again until SQS moves it, so that every dead delivery's message reaches the DLQ.
 */
async function startRedrivenRound(deps: DeliverDependencies, dead: Delivery, received: ReceivedDelivery): Promise<DeliverOutcome> {
  const { message } = received;
  const generation = await deps.redrives.generation(deps.queueName);
  const at = (deps.now ?? (() => new Date()))().toISOString();
  const decision = decideDelivery(dead, { kind: 'redrive', at, generation });
  if (decision.outcome === 'refused') {
    if (decision.code !== 'not-redriven') return { kind: 'dropped', reason: `the delivery was not sent again: ${decision.detail}` };
    if (message.attemptsBefore && received.receiveCount < deps.maxAttempts) {
      await deps.queue.delayRedelivery(received.receiptHandle, 0);
      return { kind: 'toDeadLetters' };
    }
    return { kind: 'dropped', reason: decision.detail };
  }
  const next = await deps.deliveries.apply(decision.transition);
  if (!next) return { kind: 'dropped', reason: 'the delivery was not sent again: it changed meanwhile' };
  await deps.queue.send([deliveryMessageOf(next)]);
  deps.log('Redriven delivery sent again as a new round', { deliveryId: dead.id, round: next.round, generation });
  return { kind: 'dropped', reason: `redriven: round ${next.round} sent on a new message` };
}
