import { signWith } from './webhook-signatures';
import type { RetrySchedule } from './retry-schedule';
import { backoffDelaySeconds } from './backoff';
import { countsAsFailure, type EndpointCircuits } from './circuit-breaker';
import type { MerchantNotifier } from './ports';
import type { HeraldRequest } from './request';
import type { RedriveLog } from './redrive';
import { deliveryMessageOf } from './fan-out-webhooks';
import type { DeliveryQueue, DeliveryRateLimiter, DeliveryStore, WebhookEndpointStore } from './webhook-ports';
import {
  activeSecrets,
  appendAttempt,
  ERROR_MESSAGE_CHARS,
  excerptOf,
  MAX_DELIVERY_ROUNDS,
  newDeliveryOf,
  type AttemptRecord,
  type Delivery,
  eventBodyFor,
  requestEvent,
  testEventBody,
  TEST_EVENT_TYPE,
  type AttemptErrorCode,
  type DeliveryAttempt,
  type DeliveryMessage,
  type RequestEventType,
  type RequestUrlOf,
  type WebhookEndpoint,
} from './webhooks';

/** What one POST came to: an HTTP status, or an error code when no response arrived. */
export interface PostResult {
  readonly status?: number;
  readonly error?: AttemptErrorCode;
  readonly errorMessage?: string;
  readonly latencyMs: number;
  readonly responseBody?: string;
  readonly retryAfter?: string;
}

/** Sends one signed POST to a URL, re-checking the URL first (SSRF); never throws for the receiver's faults. */
export interface WebhookTransport {
  post(url: string, headers: Record<string, string>, body: string): Promise<PostResult>;
}

/**
 * Standard Webhooks headers for one attempt: `webhook-id` (the delivery id, the same on every
 * attempt so receivers can dedupe), the attempt's timestamp, and one signature per active secret
 * (`v1,` for a `whsec_` secret, `v1a,` for a `whsk_` key), space-separated, so a receiver holding
 * either secret or public key verifies during a rotation.
 */
export function signatureHeaders(secrets: readonly string[], id: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => signWith(secret, id, at, body)).join(' '),
  };
}

export interface AttemptDependencies {
  readonly transport: WebhookTransport;
  readonly userAgent: string;
  readonly now?: () => Date;
}

/** Signs and posts one attempt and says what it came to, as recorded on the delivery. */
export async function attemptDelivery(
  deps: AttemptDependencies,
  endpoint: WebhookEndpoint,
  delivery: { readonly id: string; readonly traceId?: string },
  body: string,
  attempt: number,
): Promise<{ readonly attempt: DeliveryAttempt; readonly result: PostResult }> {
  const at = (deps.now ?? (() => new Date()))();
  const headers = {
    'content-type': 'application/json',
    'user-agent': deps.userAgent,
    ...(delivery.traceId ? { 'x-request-id': delivery.traceId } : {}),
    ...signatureHeaders(activeSecrets(endpoint, at), delivery.id, at, body),
  };
  const result = await deps.transport.post(endpoint.url, headers, body);
  return {
    result,
    attempt: {
      at: at.toISOString(),
      attempt,
      ...(result.status !== undefined ? { status: result.status } : {}),
      ...(result.error ? { error: result.error } : {}),
      ...(result.errorMessage ? { errorMessage: result.errorMessage.slice(0, ERROR_MESSAGE_CHARS) } : {}),
      latencyMs: result.latencyMs,
      ...(result.responseBody ? { responseBody: excerptOf(result.responseBody) } : {}),
    },
  };
}

export const isSuccess = (result: PostResult) => result.status !== undefined && result.status >= 200 && result.status < 300;

export interface DeliverDependencies extends AttemptDependencies {
  readonly endpoints: WebhookEndpointStore;
  readonly deliveries: DeliveryStore;
  readonly queue: DeliveryQueue;
  readonly notifier: MerchantNotifier;
  readonly loadRequest: (id: string) => Promise<HeraldRequest | undefined>;
  /** Where thin events tell receivers to fetch the request. */
  readonly requestUrlOf?: RequestUrlOf;
  readonly schedule: RetrySchedule;
  /** The queue's maxReceiveCount: the attempt on this receive is the last one. */
  readonly maxAttempts: number;
  readonly retryScale: number;
  readonly deadStreakLimit: number;
  readonly failingDaysLimit: number;
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

  const existing = delivery !== undefined;
  const endpoint = await deps.endpoints.getCached(message.merchantId, message.endpointId);
  if (!endpoint) return drop(deps, message, existing, 'the endpoint was deleted');
  if (endpoint.status === 'disabled') return drop(deps, message, existing, `the endpoint is disabled (${endpoint.disabledReason ?? 'no reason given'})`);
  const body = message.payload ?? (await rebuildBody(deps, endpoint, message));
  if (body === undefined) return drop(deps, message, existing, 'the request no longer exists');

  const gate = deps.circuits?.decide(endpoint.id, now().getTime());
  if (gate?.kind === 'skip') return skip(deps, { message, existing, firstAttemptAt: now().toISOString() }, delivery, attemptNumber, gate);

  let waitedMs: number | undefined;
  if (endpoint.rateLimitPerSecond !== undefined && deps.rateLimiter) {
    const paced = await waitForSlot(deps, endpoint.id, endpoint.rateLimitPerSecond, message, attemptNumber);
    if ('kind' in paced) return paced;
    waitedMs = paced.waitedMs;
  }

  const sent = await attemptDelivery(deps, endpoint, { id: message.deliveryId, traceId: message.traceId }, body, attemptNumber);
  const { result } = sent;
  const attempt = waitedMs ? { ...sent.attempt, waitedMs } : sent.attempt;
  deps.circuits?.record(endpoint.id, countsAsFailure(result), now().getTime());
  const attempts = appendAttempt(delivery?.attempts ?? [], attempt);
  const at = now().toISOString();
  const outcome = { message, existing, firstAttemptAt: attempt.at };

  if (isSuccess(result)) {
    await record(deps, outcome, { attempts, state: 'succeeded' }, at);
    if (endpoint.failingSince) await deps.endpoints.markSucceeded(endpoint.merchantId, endpoint.id, at);
    return { kind: 'delivered', attempt };
  }
  if (result.status === 410) {
    await record(deps, outcome, { attempts, state: 'dead', reason: 'the endpoint answered 410 Gone and was disabled' }, at);
    await disableEndpoint(deps, endpoint, 'the endpoint answered 410 Gone', at);
    return { kind: 'gone', attempt };
  }
  if (attemptNumber >= deps.maxAttempts) {
    const redriveGeneration = await deps.redrives.generation(deps.queueName);
    const reason = `no success after ${attemptNumber} attempts`;
    if (!(await record(deps, outcome, { attempts, state: 'dead', reason, redriveGeneration }, at))) return superseded(message);
    // Visible again at once, so SQS moves it to the DLQ on the next receive.
    await deps.queue.delayRedelivery(received.receiptHandle, 0);
    await checkFailingEndpoint(deps, endpoint, at);
    await checkDeadStreak(deps, endpoint, message.deliveryId, at);
    return { kind: 'dead', attempt };
  }
  const spentSeconds = Math.ceil((now().getTime() - receivedAt.getTime()) / 1000);
  const delaySeconds = Math.min(
    retryDelaySeconds(deps, attemptNumber, result),
    Math.max(VISIBILITY_LIMIT_SECONDS - VISIBILITY_MARGIN_SECONDS - spentSeconds, 0),
  );
  const nextAttemptAt = new Date(now().getTime() + delaySeconds * 1000).toISOString();
  // A message whose round is over (the delivery was sent again, or finished) must not keep retrying.
  if (!(await record(deps, outcome, { attempts, state: 'pending', nextAttemptAt }, at))) return superseded(message);
  await deps.queue.delayRedelivery(received.receiptHandle, delaySeconds);
  await checkFailingEndpoint(deps, endpoint, at);
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
async function skip(
  deps: DeliverDependencies,
  target: OutcomeTarget,
  delivery: Delivery | undefined,
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
  const attempts = appendAttempt(delivery?.attempts ?? [], attempt);
  if (!(await record(deps, target, { attempts, state: 'pending', nextAttemptAt }, at))) return superseded(target.message);
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
  if (generation <= (dead.deadAtRedrive ?? 0)) {
    if (message.attemptsBefore && received.receiveCount < deps.maxAttempts) {
      await deps.queue.delayRedelivery(received.receiptHandle, 0);
      return { kind: 'toDeadLetters' };
    }
    return { kind: 'dropped', reason: 'the delivery is dead and no redrive began since' };
  }
  const at = (deps.now ?? (() => new Date()))().toISOString();
  const next = await deps.deliveries.resend(dead.id, at, { round: dead.round, state: 'dead' });
  if (!next) return { kind: 'dropped', reason: `the delivery was not sent again: it changed meanwhile or had its ${MAX_DELIVERY_ROUNDS} rounds` };
  await deps.queue.send([deliveryMessageOf(next)]);
  deps.log('Redriven delivery sent again as a new round', { deliveryId: dead.id, round: next.round, generation });
  return { kind: 'dropped', reason: `redriven: round ${next.round} sent on a new message` };
}

/**
 * The wait before the next attempt: the schedule's jittered delay, or the receiver's Retry-After
 * on a 429 or 503, kept within [delay, 2 × delay] so that a receiver can slow Herald down but
 * neither hurry it nor park a delivery for days. The caller clamps it further to what is left of
 * SQS's 12-hour visibility limit since the message was received.
 */
export function retryDelaySeconds(
  deps: Pick<DeliverDependencies, 'schedule' | 'retryScale' | 'random'>,
  failedAttempt: number,
  result: PostResult,
): number {
  const delay = backoffDelaySeconds(deps.schedule, failedAttempt, deps.random, deps.retryScale);
  if ((result.status === 429 || result.status === 503) && result.retryAfter) {
    const asked = retryAfterSeconds(result.retryAfter);
    if (asked !== undefined) return Math.min(Math.max(asked, delay), 2 * delay, VISIBILITY_LIMIT_SECONDS);
  }
  return delay;
}

/** `Retry-After` in seconds, from either of its forms (delta-seconds or an HTTP date). */
export function retryAfterSeconds(value: string, now = Date.now()): number | undefined {
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(Math.ceil((date - now) / 1000), 0);
}

/** The body of a message that does not carry it (too large, or a later round): in the endpoint's payload mode now. */
async function rebuildBody(deps: DeliverDependencies, endpoint: WebhookEndpoint, message: DeliveryMessage): Promise<string | undefined> {
  if (message.eventType === TEST_EVENT_TYPE) return testEventBody(message.endpointId, message.subjectId, message.eventTimestamp);
  const request = await deps.loadRequest(message.subjectId);
  if (!request) return undefined;
  return eventBodyFor(endpoint, requestEvent(request, message.eventType as RequestEventType, message.eventTimestamp), deps.requestUrlOf);
}

async function drop(deps: DeliverDependencies, message: DeliveryMessage, existing: boolean, reason: string): Promise<DeliverOutcome> {
  const at = (deps.now ?? (() => new Date()))().toISOString();
  await record(deps, { message, existing, firstAttemptAt: at }, { state: 'dropped', reason }, at);
  deps.log('Delivery dropped', { deliveryId: message.deliveryId, reason });
  return { kind: 'dropped', reason };
}

/** Where an outcome is written: over the record the worker read, or as the record's creation when it read none. */
interface OutcomeTarget {
  readonly message: DeliveryMessage;
  readonly existing: boolean;
  /** When the attempt began (or the drop was decided): a created record's `createdAt`. */
  readonly firstAttemptAt: string;
}

/**
 * Writes an outcome on the condition that the record is still as the worker read it: pending in
 * the message's round, or, when there was none, still absent. So of two copies of a message that
 * both found no record, only the first outcome is kept, and the other copy stops instead of
 * running a second series of retries beside it.
 */
async function record(deps: DeliverDependencies, target: OutcomeTarget, entry: AttemptRecord, at: string): Promise<boolean> {
  const { message } = target;
  const recorded = target.existing
    ? await deps.deliveries.record(message.deliveryId, message.round, entry, at)
    : await deps.deliveries.recordFirst(newDeliveryOf(message, target.firstAttemptAt), entry, at);
  // Another copy of the message, or a newer round, got there first; the receiver dedupes on webhook-id.
  if (!recorded) deps.log('Delivery had moved on; attempt not recorded', { deliveryId: message.deliveryId, round: message.round });
  return recorded;
}

/**
 * A copy of round 1's message that another copy is ahead of: a repeated fan-out sends round 1
 * again, and finding the delivery pending in round 1 with an attempt at least as far along as this
 * receive means the first copy is retrying it. Only round 1 has such copies (every later round is
 * started by one conditional write and one message), and its log holds only its own attempts.
 */
function isCopyBehind(delivery: Delivery, attemptNumber: number): boolean {
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
async function waitForSlot(
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

function superseded(message: DeliveryMessage): DeliverOutcome {
  return { kind: 'dropped', reason: `round ${message.round} of ${message.deliveryId} is over` };
}

/** Disables an endpoint and tells its merchant, once: a second caller finds it disabled already. */
export async function disableEndpoint(
  deps: Pick<DeliverDependencies, 'endpoints' | 'notifier' | 'log'>,
  endpoint: WebhookEndpoint,
  reason: string,
  at: string,
): Promise<void> {
  const disabled = await deps.endpoints.disable(endpoint.merchantId, endpoint.id, reason, at);
  if (!disabled) return;
  deps.log('Webhook endpoint disabled', { endpointId: endpoint.id, merchantId: endpoint.merchantId, reason });
  try {
    await deps.notifier.endpointDisabled({ merchantId: endpoint.merchantId, endpointId: endpoint.id, url: endpoint.url, reason, disabledAt: at });
  } catch (error) {
    deps.log('Could not send the endpoint-disabled notice', { endpointId: endpoint.id, error: (error as Error).message });
  }
}

async function checkFailingEndpoint(deps: DeliverDependencies, endpoint: WebhookEndpoint, at: string): Promise<void> {
  const since = endpoint.failingSince ?? (await deps.endpoints.markFailing(endpoint.merchantId, endpoint.id, at))?.failingSince;
  if (!since) return;
  const days = (Date.parse(at) - Date.parse(since)) / 86_400_000;
  if (days >= deps.failingDaysLimit) {
    await disableEndpoint(deps, endpoint, `every attempt has failed since ${since} (${deps.failingDaysLimit} days)`, at);
  }
}

/** Counts dead deliveries back from the newest finished one; a success ends the streak. */
async function checkDeadStreak(deps: DeliverDependencies, endpoint: WebhookEndpoint, deadId: string, at: string): Promise<void> {
  const limit = deps.deadStreakLimit;
  if (limit <= 0) return;
  const recent = await deps.deliveries.listForEndpoint(endpoint.id, { limit: limit * 3 + 10 });
  // The index may not show the write that just made this one dead yet.
  let streak = recent.some((delivery) => delivery.id === deadId) ? 0 : 1;
  for (const delivery of recent) {
    const state = delivery.id === deadId ? 'dead' : delivery.state;
    if (state === 'succeeded') break;
    if (state === 'dead') streak++;
  }
  if (streak >= limit) await disableEndpoint(deps, endpoint, `${streak} consecutive deliveries failed every attempt`, at);
}
