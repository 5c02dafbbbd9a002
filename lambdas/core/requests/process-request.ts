import type { RetrySchedule } from '../shared/retry-schedule';
import type { Processor, ProcessorLogger, ProcessorServices } from './processor';
import { backoffDelaySeconds } from '../shared/backoff';
import { applyOnce } from './apply-decision';
import { claimRequest } from './claim-request';
import { ATTEMPTS_EXHAUSTED, type LifecycleEvent } from './lifecycle-events';
import type { RequestEventPublisher, RequestQueue, RequestTransitions } from './ports';
import { failedByExhaustion, shouldReopen, type RedriveLog } from './redrive';
import type { HeraldRequest, HistoryEntry, RequestError } from './request';
import { decide } from './request-lifecycle';
import { runProcessor } from './run-processor';

export interface ProcessDependencies {
  readonly store: RequestTransitions;
  readonly queue: RequestQueue;
  readonly events: RequestEventPublisher;
  readonly redrives: RedriveLog;
  /** The queue the message came from, as the redrive log names it. */
  readonly queueName: string;
  readonly processorFor: (type: string) => Processor<any, unknown> | undefined;
  readonly services: ProcessorServices;
  readonly retry: RetrySchedule;
  /** The queue's maxReceiveCount: on this receive the attempt is the last one. */
  readonly maxReceiveCount: number;
  readonly retryScale: number;
  /** Milliseconds before the worker itself would be cut off (Lambda's remaining time). */
  readonly remainingTimeMs: () => number;
  readonly logger: ProcessorLogger;
  readonly random?: () => number;
  readonly now?: () => Date;
}

export interface ReceivedRequest {
  readonly requestId: string;
  /** Carried in the message so the lease can be sized without reading the request first. */
  readonly type: string;
  readonly receiveCount: number;
  readonly receiptHandle: string;
}

/**
 * What became of one received message. `retry` and `exhausted` mean the message must stay on
 * the queue (the caller reports it as a batch item failure); everything else is acknowledged.
 */
export type ProcessOutcome =
  | { readonly kind: 'succeeded'; readonly request: HeraldRequest }
  | { readonly kind: 'failed'; readonly request: HeraldRequest }
  | { readonly kind: 'retry'; readonly delaySeconds: number; readonly error: RequestError }
  | { readonly kind: 'exhausted'; readonly request: HeraldRequest }
  | { readonly kind: 'skipped'; readonly reason: string };

/** Extra lease beyond the processor's timeout, for the writes around the work. */
export const LEASE_MARGIN_MS = 10_000;

/**
 * Runs one request once: claim it under a lease, run its processor, record the outcome.
 * A message for a request someone else holds or already finished is acknowledged without work
 * (at-least-once delivery, exactly-once effect). Transient failures wait out a jittered backoff
 * on the same message; the last allowed attempt, or a permanent failure, ends the request `failed`.
 * The attempt cap is counted on the request and is part of every claim's condition, so attempts
 * that died with their worker count too: once they are all used up, the next message to arrive
 * ends the request `failed` (`attempts-exhausted`), tells its listeners, and goes to the DLQ.
 * A message an operator redrove reopens the request it points to for a new round of attempts.
 */
export async function processRequest(deps: ProcessDependencies, message: ReceivedRequest): Promise<ProcessOutcome> {
  const now = deps.now ?? (() => new Date());
  const processor = deps.processorFor(message.type);
  const terms = { leaseMs: (processor?.timeoutMs ?? 0) + LEASE_MARGIN_MS, maxAttempts: deps.maxReceiveCount };

  let claim = await claimRequest(deps.store, message.requestId, terms, Math.max(message.receiveCount - 1, 0), now());
  if (claim.outcome === 'lost' && claim.current?.status === 'failed') {
    const reopened = await reopenIfRedriven(deps, claim.current, now());
    // Reopened here, or by a concurrent copy of the message: either way the request is open again, so claim it.
    if (reopened !== 'not-redriven') claim = await claimRequest(deps.store, message.requestId, terms, reopened?.attempts ?? 0, now());
  }
  if (claim.outcome === 'lost' && claim.current) {
    // Every attempt started and none finished (the workers died or timed out): end it here, whatever message found it.
    const exhausted = await exhaust(deps, message, claim.current, { maxAttempts: terms.maxAttempts });
    if (exhausted) return exhausted;
  }
  if (claim.outcome === 'lost') {
    // The worker that finished it may have died before telling anyone: finishing the fan-out is idempotent.
    const current = claim.current;
    // A message of a request whose attempts ran out belongs in the DLQ, where an operator's redrive finds it.
    if (current && failedByExhaustion(current)) return announceThenDeadLetter(deps, message, current);
    if (current && (current.status === 'succeeded' || current.status === 'failed')) await deps.events.requestFinished(current);
    return { kind: 'skipped', reason: claim.reason };
  }
  const claimed = claim.request;

  const attempt = await runProcessor(deps, processor, claimed, now);
  const steps = attempt.steps;
  if (attempt.ok) {
    const finished = await finish(deps, claimed, { kind: 'succeed', result: attempt.result, steps });
    if (!finished) return superseded();
    await deps.events.requestFinished(finished);
    return { kind: 'succeeded', request: finished };
  }

  const error = attempt.error;
  if (!error.retryable) {
    const finished = await finish(deps, claimed, { kind: 'fail', error, reason: error.message, steps });
    if (!finished) return superseded();
    await deps.events.requestFinished(finished);
    return { kind: 'failed', request: finished };
  }
  // The item's count is the truth; the receive count only says a fresh message is at SQS's own limit.
  if (claimed.attempts >= deps.maxReceiveCount || message.receiveCount >= deps.maxReceiveCount) {
    return (await exhaust(deps, message, claimed, { error, steps })) ?? superseded();
  }
  const delaySeconds = backoffDelaySeconds(deps.retry, message.receiveCount, deps.random, deps.retryScale);
  const nextAttemptAt = new Date(now().getTime() + delaySeconds * 1000).toISOString();
  const reason = `retrying in ${delaySeconds}s: ${error.message}`;
  const waiting = await finish(deps, claimed, { kind: 'retry-wait', error, reason, nextAttemptAt, steps });
  if (!waiting) return superseded();
  await deps.queue.delayRedelivery(message.receiptHandle, delaySeconds);
  return { kind: 'retry', delaySeconds, error };
}

/**
 * The one way a request's attempts run out, ending it `failed` under the queue's current redrive
 * generation and sending its message to the DLQ: either the last allowed attempt failed
 * transiently (`error`: the request keeps that error), or every allowed attempt started and none
 * finished (`maxAttempts`: the lifecycle's `exhaust`, which it refuses while attempts are left or
 * a lease is held). Undefined when it does not apply or the request changed first; the redrive log
 * is read only once it applies.
 */
async function exhaust(
  deps: ProcessDependencies,
  message: ReceivedRequest,
  request: HeraldRequest,
  cause: { readonly maxAttempts: number } | { readonly error: RequestError; readonly steps: readonly HistoryEntry[] },
): Promise<ProcessOutcome | undefined> {
  const now = (deps.now ?? (() => new Date()))();
  if ('maxAttempts' in cause && decide(request, { kind: 'exhaust', maxAttempts: cause.maxAttempts }, now, deps.store.policy).outcome === 'refused') return undefined;
  const redriveGeneration = await deps.redrives.generation(deps.queueName);
  const event: LifecycleEvent =
    'maxAttempts' in cause
      ? { kind: 'exhaust', maxAttempts: cause.maxAttempts, redriveGeneration }
      : {
          kind: 'fail',
          error: cause.error,
          reason: `${ATTEMPTS_EXHAUSTED} after ${request.attempts} attempts: ${cause.error.message}`,
          steps: cause.steps,
          redriveGeneration,
        };
  const exhausted = 'maxAttempts' in cause ? await applyOnce(deps.store, request, event, now) : await finish(deps, request, event);
  if (!exhausted) return undefined;
  if (event.kind === 'exhaust') {
    deps.logger.warn('Attempts exhausted by abandoned attempts; the request failed', { requestId: exhausted.id, attempts: exhausted.attempts });
  }
  return announceThenDeadLetter(deps, message, exhausted);
}

/**
 * Ends the attempt the worker holds, conditional on the claimed version, so a worker whose lease
 * was taken over cannot overwrite the newer attempt. Undefined when the attempt was superseded.
 * The claim read the payload; the finished request keeps it for whoever is told of its end.
 */
async function finish(deps: ProcessDependencies, claimed: HeraldRequest, event: LifecycleEvent): Promise<HeraldRequest | undefined> {
  const finished = await applyOnce(deps.store, claimed, event, (deps.now ?? (() => new Date()))());
  if (!finished || finished.payload !== undefined || claimed.payload === undefined) return finished;
  return { ...finished, payload: claimed.payload };
}

/**
 * Leaves the message on the queue, visible at once: SQS moves it to the DLQ once its receive
 * count passes maxReceiveCount (a fresh message, e.g. the sweeper's, takes that many quick
 * receives, each a refused claim and nothing more), so an operator can redrive it.
 */
async function toDeadLetter(deps: ProcessDependencies, message: ReceivedRequest, request: HeraldRequest): Promise<ProcessOutcome> {
  await deps.queue.delayRedelivery(message.receiptHandle, 0);
  return { kind: 'exhausted', request };
}

/**
 * The message is made visible before the end is announced: if the announcement fails (a webhook
 * fan-out that could not send), the message is back at once rather than after the queue's
 * visibility timeout, and its next receive, finding the request failed, announces again and
 * carries on to the DLQ.
 */
async function announceThenDeadLetter(deps: ProcessDependencies, message: ReceivedRequest, request: HeraldRequest): Promise<ProcessOutcome> {
  const outcome = await toDeadLetter(deps, message, request);
  await deps.events.requestFinished(request);
  return outcome;
}

/**
 * A failed request whose message comes back after an operator's redrive starts a new round:
 * `failed → accepted`, conditional on the version read, so concurrent copies of the message
 * reopen it once. The redrive log is read only on this rare path (a message for a request
 * already failed). Undefined when the reopen lost its condition: someone (a concurrent copy)
 * changed it first.
 */
async function reopenIfRedriven(deps: ProcessDependencies, failed: HeraldRequest, at: Date): Promise<HeraldRequest | undefined | 'not-redriven'> {
  if (!failedByExhaustion(failed)) return 'not-redriven';
  const generation = await deps.redrives.generation(deps.queueName);
  if (!shouldReopen(failed, generation)) return 'not-redriven';
  const reopened = await applyOnce(deps.store, failed, { kind: 'reopen', generation }, at);
  if (reopened) deps.logger.info('Request reopened by a redrive', { requestId: failed.id, generation });
  return reopened;
}

function superseded(): ProcessOutcome {
  return { kind: 'skipped', reason: 'attempt superseded: the lease was taken over by a newer attempt' };
}
