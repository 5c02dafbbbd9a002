import type { RetrySchedule } from '../shared/retry-schedule';
import {
  CompensatedError,
  PermanentError,
  type Processor,
  type ProcessorLogger,
  type ProcessorServices,
} from './processor';
import { backoffDelaySeconds } from '../shared/backoff';
import type { RequestEventPublisher, RequestQueue, RequestStore } from './ports';
import { failedByExhaustion, shouldReopen, type RedriveLog, type RedriveReopener } from './redrive';
import type { HeraldRequest, HistoryEntry, RequestError } from './request';
import { ATTEMPTS_EXHAUSTED } from './request-lifecycle';

export interface ProcessDependencies {
  readonly store: RequestStore & RedriveReopener;
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

/**
 * Results above this size are refused with a permanent error. A large result is stored in an item
 * of its own (docs/data-model.md), which DynamoDB caps at 400 KB.
 */
export const MAX_RESULT_BYTES = 256 * 1024;
/** Extra lease beyond the processor's timeout, for the writes around the work. */
export const LEASE_MARGIN_MS = 10_000;
/** Stop the work this long before the worker would be cut off, so the failure can still be recorded. */
const ABORT_MARGIN_MS = 3_000;

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

  let claim = await deps.store.claim(message.requestId, terms, Math.max(message.receiveCount - 1, 0), now());
  if (claim.outcome === 'lost' && claim.current?.status === 'failed') {
    const reopened = await reopenIfRedriven(deps, claim.current, now());
    // Reopened here, or by a concurrent copy of the message: either way the request is open again, so claim it.
    if (reopened !== 'not-redriven') claim = await deps.store.claim(message.requestId, terms, reopened?.attempts ?? 0, now());
  }
  if (claim.outcome === 'lost' && claim.current && outOfAttempts(claim.current, terms.maxAttempts)) {
    // Every attempt started and none finished (the workers died or timed out): end it here, whatever message found it.
    const generation = await deps.redrives.generation(deps.queueName);
    const exhausted = await deps.store.exhaust(claim.current, terms.maxAttempts, generation, now());
    if (exhausted) {
      deps.logger.warn('Attempts exhausted by abandoned attempts; the request failed', { requestId: exhausted.id, attempts: exhausted.attempts });
      return announceThenDeadLetter(deps, message, exhausted);
    }
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
    const finished = await deps.store.finishAttempt(claimed, 'succeeded', { result: attempt.result, steps }, now());
    if (!finished) return superseded();
    await deps.events.requestFinished(finished);
    return { kind: 'succeeded', request: finished };
  }

  const error = attempt.error;
  if (!error.retryable) {
    const finished = await deps.store.finishAttempt(claimed, 'failed', { error, reason: error.message, steps }, now());
    if (!finished) return superseded();
    await deps.events.requestFinished(finished);
    return { kind: 'failed', request: finished };
  }
  // The item's count is the truth; the receive count only says a fresh message is at SQS's own limit.
  if (claimed.attempts >= deps.maxReceiveCount || message.receiveCount >= deps.maxReceiveCount) {
    const reason = `${ATTEMPTS_EXHAUSTED} after ${claimed.attempts} attempts: ${error.message}`;
    const redriveGeneration = await deps.redrives.generation(deps.queueName);
    const finished = await deps.store.finishAttempt(claimed, 'failed', { error, reason, steps, redriveGeneration }, now());
    if (!finished) return superseded();
    return announceThenDeadLetter(deps, message, finished);
  }
  const delaySeconds = backoffDelaySeconds(deps.retry, message.receiveCount, deps.random, deps.retryScale);
  const nextAttemptAt = new Date(now().getTime() + delaySeconds * 1000).toISOString();
  const reason = `retrying in ${delaySeconds}s: ${error.message}`;
  const waiting = await deps.store.finishAttempt(claimed, 'accepted', { error, reason, nextAttemptAt, steps }, now());
  if (!waiting) return superseded();
  await deps.queue.delayRedelivery(message.receiptHandle, delaySeconds);
  return { kind: 'retry', delaySeconds, error };
}

/** Still open, with every allowed attempt started: no claim can take it any more. */
function outOfAttempts(current: HeraldRequest, maxAttempts: number): boolean {
  return (current.status === 'processing' || current.status === 'accepted') && current.attempts >= maxAttempts;
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
 * A failed request whose message comes back after an operator's redrive starts a new round.
 * The redrive log is read only on this rare path (a message for a request already failed).
 * Undefined when the reopen lost its condition: someone (a concurrent copy) changed it first.
 */
async function reopenIfRedriven(deps: ProcessDependencies, failed: HeraldRequest, at: Date): Promise<HeraldRequest | undefined | 'not-redriven'> {
  if (!failedByExhaustion(failed)) return 'not-redriven';
  const generation = await deps.redrives.generation(deps.queueName);
  if (!shouldReopen(failed, generation)) return 'not-redriven';
  const reopened = await deps.store.reopenForRedrive(failed, generation, at);
  if (reopened) deps.logger.info('Request reopened by a redrive', { requestId: failed.id, generation });
  return reopened;
}

function superseded(): ProcessOutcome {
  return { kind: 'skipped', reason: 'attempt superseded: the lease was taken over by a newer attempt' };
}

type Attempt = ({ ok: true; result: unknown } | { ok: false; error: RequestError }) & { steps: HistoryEntry[] };

async function runProcessor(
  deps: ProcessDependencies,
  processor: Processor<any, unknown> | undefined,
  request: HeraldRequest,
  now: () => Date,
): Promise<Attempt> {
  const steps: HistoryEntry[] = [];
  if (!processor) {
    return { ok: false, steps, error: { code: 'unknown_type', message: `No processor is registered for type ${request.type}`, retryable: false } };
  }
  if (request.payload === undefined) {
    // Its stored payload expired: only a request kept open far past its retention gets here.
    return { ok: false, steps, error: { code: 'payload_unavailable', message: 'The payload of this request is no longer stored', retryable: false } };
  }
  const payload = processor.schema.safeParse(request.payload);
  if (!payload.success) {
    return { ok: false, steps, error: { code: 'invalid_payload', message: `The payload no longer matches type ${request.type}`, retryable: false } };
  }
  const budgetMs = Math.max(Math.min(processor.timeoutMs, deps.remainingTimeMs() - ABORT_MARGIN_MS), 0);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`timed out after ${budgetMs} ms`));
      reject(new TimeoutError(budgetMs));
    }, budgetMs);
  });
  const tags = { requestId: request.id, attempt: request.attempts };
  const logger: ProcessorLogger = {
    info: (message, extra) => deps.logger.info(message, { ...tags, ...extra }),
    warn: (message, extra) => deps.logger.warn(message, { ...tags, ...extra }),
    error: (message, extra) => deps.logger.error(message, { ...tags, ...extra }),
  };
  try {
    const result = await Promise.race([
      processor.run(payload.data, {
        requestId: request.id,
        merchantId: request.merchantId,
        attempt: request.attempts,
        signal: controller.signal,
        logger,
        recordStep: (step, detail) => {
          // Steps reported after a timeout belong to an attempt that is already over.
          if (controller.signal.aborted) return;
          steps.push({ from: 'processing', to: 'processing', at: now().toISOString(), attempt: request.attempts, step, ...(detail ? { reason: detail } : {}) });
        },
        services: deps.services,
      }),
      timedOut,
    ]);
    const tooLarge = resultTooLarge(result ?? null);
    if (tooLarge) return { ok: false, steps, error: tooLarge };
    return { ok: true, steps, result: result ?? null };
  } catch (thrown) {
    return { ok: false, steps, error: asRequestError(thrown) };
  } finally {
    clearTimeout(timer);
  }
}

function resultTooLarge(result: unknown): RequestError | undefined {
  const size = Buffer.byteLength(JSON.stringify(result), 'utf8');
  if (size > MAX_RESULT_BYTES) {
    return { code: 'result_too_large', message: `The result is ${size} bytes; the limit is ${MAX_RESULT_BYTES} bytes (256 KiB)`, retryable: false };
  }
  return undefined;
}

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';

  constructor(ms: number) {
    super(`The processor did not finish within ${ms} ms`);
  }
}

/** Anything but a PermanentError counts as transient: unknown trouble deserves another try. */
function asRequestError(thrown: unknown): RequestError {
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  if (error instanceof CompensatedError) return { code: error.code, message: error.message, retryable: false, compensated: true };
  if (error instanceof PermanentError) return { code: error.code, message: error.message, retryable: false };
  if (error instanceof TimeoutError) return { code: 'timeout', message: error.message, retryable: true };
  const { code } = error as { code?: unknown };
  return { code: typeof code === 'string' ? code : 'error', message: error.message, retryable: true };
}
