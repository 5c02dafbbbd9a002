import { acceptCallback, type CallbackIntake } from '../webhooks/callbacks';
import type { Processor } from './processor';
import {
  IdempotencyKeyReusedError,
  MissingIdempotencyKeyError,
  ServiceUnavailableError,
  UnknownRequestTypeError,
  ValidationError,
} from '../shared/errors';
import { fingerprint } from '../shared/fingerprint';
import type { RequestIntake, RequestQueue } from './ports';
import { isTerminal, type HeraldRequest } from './request';
import { requestIdFor } from './request-id';
import { fieldErrorsOf, isValidIdempotencyKey, MAX_START_DELAY_SECONDS, submissionSchema, validate } from './submission';
import { validateNotifyTargets, type SmsCountries } from '../notifications/notify-targets';
import { IN_FLIGHT_RETRY_AFTER_SECONDS, QuotaExceededError, smsDay, type MerchantQuotaLimits, type MerchantQuotas } from '../merchants/merchant-quotas';

export interface SubmitDependencies {
  readonly store: RequestIntake;
  readonly queue: RequestQueue;
  readonly processorFor: (type: string) => Processor<any, unknown> | undefined;
  readonly knownTypes: () => string[];
  /** The deployment's key for deriving request ids from idempotency keys (see `requestIdFor`). */
  readonly requestIdKey: string;
  /** Countries `notify.sms` may be in (the operator's `smsAllowedCountries`). */
  readonly smsCountries: SmsCountries;
  /** Per-merchant quotas; absent where none apply (the local runtime unless configured). */
  readonly quotas?: { readonly store: MerchantQuotas; readonly limits: MerchantQuotaLimits };
  /** What accepts a `callbackUrl`; absent, a submission that names one is refused. */
  readonly callbacks?: CallbackIntake;
  /** The link to the request's public status page (its status token under the public base URL). */
  readonly statusUrlOf: (requestId: string) => Promise<string>;
  readonly now?: () => Date;
}

export interface SubmitInput {
  readonly merchantId: string;
  /** `Idempotency-Key`, or `X-Request-ID` when that is absent. */
  readonly idempotencyKey: string | undefined;
  readonly body: unknown;
  readonly traceId?: string;
}

export interface Accepted {
  readonly id: string;
  readonly body: Record<string, unknown>;
  /** Where anyone holding the link can follow the request without an API key; a replay gets the same one. */
  readonly statusUrl: string;
  readonly expectedSeconds?: number;
  readonly replayed: boolean;
}

/** Seconds a client is asked to wait before retrying after the queue refused a message. */
const ENQUEUE_RETRY_AFTER_SECONDS = 2;

/**
 * Accepts a request exactly once per (merchant, idempotency key): validates it, stores it in one
 * conditional write under the id the key derives, enqueues it, and answers `{ id, status:
 * 'accepted' }`, the body a replay gets verbatim for as long as the request is kept. A replay
 * with a different body is refused; a replay of a request whose enqueue failed enqueues it now.
 * Nothing is stored for a request that fails validation.
 */
export async function submitRequest(deps: SubmitDependencies, input: SubmitInput): Promise<Accepted> {
  const key = input.idempotencyKey;
  if (key === undefined || key === '') {
    throw new MissingIdempotencyKeyError('Send an Idempotency-Key header (or X-Request-ID) so that retries cannot create duplicates');
  }
  if (!isValidIdempotencyKey(key)) {
    throw new MissingIdempotencyKeyError('The idempotency key must be 1 to 255 printable ASCII characters');
  }
  const submission = validate(submissionSchema, input.body, 'request body');
  const processor = deps.processorFor(submission.type);
  if (!processor) throw new UnknownRequestTypeError(submission.type, deps.knownTypes());
  const payload = processor.schema.safeParse(submission.payload);
  if (!payload.success) {
    const errors = fieldErrorsOf(payload.error).map((e) => ({ ...e, path: '/payload' + (e.path === '/' ? '' : e.path) }));
    throw new ValidationError(`The payload is invalid for type ${submission.type}: ${errors.map((e) => e.path).join(', ')}`, errors);
  }
  const notify = submission.notify ? validateNotifyTargets(submission.notify, deps.smsCountries) : undefined;
  const callback = await acceptCallback(deps.callbacks, input.merchantId, submission);

  const now = (deps.now ?? (() => new Date()))();
  const at = now.toISOString();
  const startDelaySeconds = startDelayOf(submission.notBefore, now);
  const id = requestIdFor(deps.requestIdKey, input.merchantId, key);
  const response = { id, status: 'accepted' };
  let request: HeraldRequest = {
    id,
    merchantId: input.merchantId,
    type: submission.type,
    payload: submission.payload,
    status: 'accepted',
    version: 1,
    attempts: 0,
    idempotencyKey: key,
    ...(input.traceId ? { traceId: input.traceId } : {}),
    ...(notify ? { notify } : {}),
    webhookEvents: submission.webhookEvents ?? true,
    ...(callback ? { callback } : {}),
    ...(submission.orderingKey !== undefined ? { orderingKey: submission.orderingKey } : {}),
    // Recorded optimistically so the happy path costs one write; cleared if SendMessage fails.
    // A delayed message counts as sent when it becomes visible, so the sweeper does not take a
    // request waiting for its start for one whose message was lost.
    enqueuedAt: startDelaySeconds ? new Date(now.getTime() + startDelaySeconds * 1000).toISOString() : at,
    history: [{ from: null, to: 'accepted', at, attempt: 0 }],
    createdAt: at,
    updatedAt: at,
  };

  const bodyFingerprint = fingerprint(input.body);
  const quotas = await takeQuotas(deps, request, now);
  if (quotas.holdsSlot) request = { ...request, holdsQuotaSlot: true };
  let created: Awaited<ReturnType<RequestIntake['create']>>;
  try {
    created = await deps.store.create(request, bodyFingerprint);
  } catch (error) {
    await quotas.releaseAll();
    throw error;
  }
  if (created.outcome === 'exists') {
    const existing = created.request;
    // The id derives from the key, so a replay's in-flight slot is the original's own entry:
    // given back only once the original has finished. Its SMS was counted again, so that goes back.
    await (isTerminal(existing.status) ? quotas.releaseAll() : quotas.releaseSms());
    if (created.fingerprint !== bodyFingerprint) throw new IdempotencyKeyReusedError(key);
    if (!existing.enqueuedAt && existing.status === 'accepted') await enqueue(deps, existing, input.traceId, true, startDelaySeconds);
    const statusUrl = await deps.statusUrlOf(existing.id);
    return { id: existing.id, body: { id: existing.id, status: 'accepted' }, statusUrl, expectedSeconds: processor.expectedSeconds, replayed: true };
  }
  await enqueue(deps, request, input.traceId, false, startDelaySeconds);
  return { id, body: response, statusUrl: await deps.statusUrlOf(id), expectedSeconds: processor.expectedSeconds, replayed: false };
}

/** How to give back what `takeQuotas` counted: the in-flight slot and the SMS together, or the SMS alone. */
interface TakenQuotas {
  /** The request took an in-flight slot, which its end gives back. */
  readonly holdsSlot: boolean;
  releaseAll(): Promise<void>;
  releaseSms(): Promise<void>;
}

const NOTHING_TAKEN: TakenQuotas = { holdsSlot: false, releaseAll: async () => undefined, releaseSms: async () => undefined };

/**
 * Counts the request against its merchant's quotas before anything is stored, so a refusal
 * leaves nothing behind; returns how to give the counts back if the request is not stored after all.
 */
async function takeQuotas(deps: SubmitDependencies, request: HeraldRequest, now: Date): Promise<TakenQuotas> {
  if (!deps.quotas) return NOTHING_TAKEN;
  const { store, limits } = deps.quotas;
  const { merchantId, id } = request;
  const holdsSlot = limits.requestsInFlight !== undefined;
  if (holdsSlot && !(await store.admitInFlight(merchantId, id, limits.requestsInFlight))) {
    throw new QuotaExceededError('requests-in-flight', limits.requestsInFlight, IN_FLIGHT_RETRY_AFTER_SECONDS);
  }
  const releaseSlot = holdsSlot ? () => store.releaseInFlight(merchantId, id).catch(() => undefined) : async () => undefined;
  if (!request.notify?.sms || limits.smsPerDay === undefined) return { holdsSlot, releaseAll: releaseSlot, releaseSms: async () => undefined };
  const { day, secondsLeft } = smsDay(now);
  if (!(await store.reserveSms(merchantId, day, limits.smsPerDay, now))) {
    await releaseSlot();
    throw new QuotaExceededError('sms-per-day', limits.smsPerDay, secondsLeft);
  }
  const releaseSms = () => store.returnSms(merchantId, day).catch(() => undefined);
  return {
    holdsSlot,
    releaseAll: async () => {
      await releaseSlot();
      await releaseSms();
    },
    releaseSms,
  };
}

/**
 * Seconds until `notBefore`, whole and rounded up; 0 for a time already past. A time beyond
 * `MAX_START_DELAY_SECONDS` is refused rather than started early.
 */
function startDelayOf(notBefore: string | undefined, now: Date): number {
  if (notBefore === undefined) return 0;
  const seconds = Math.ceil((Date.parse(notBefore) - now.getTime()) / 1000);
  if (seconds > MAX_START_DELAY_SECONDS) {
    const message = `notBefore may lie at most ${MAX_START_DELAY_SECONDS} seconds (15 minutes) ahead; it is ${seconds} seconds ahead`;
    throw new ValidationError(`The request body is invalid: ${message}`, [{ path: '/notBefore', message }]);
  }
  return Math.max(0, seconds);
}

async function enqueue(deps: SubmitDependencies, request: HeraldRequest, traceId: string | undefined, markAfter: boolean, delaySeconds = 0) {
  try {
    await deps.queue.enqueue({ requestId: request.id, merchantId: request.merchantId, type: request.type }, traceId ?? request.traceId, delaySeconds);
  } catch (cause) {
    // The request is stored: the client's retry with the same key, or the sweeper, enqueues it later.
    if (!markAfter) await deps.store.markNotEnqueued(request.id).catch(() => undefined);
    throw new ServiceUnavailableError(
      'The request was stored but could not be queued yet; retry with the same Idempotency-Key',
      ENQUEUE_RETRY_AFTER_SECONDS,
      { cause },
    );
  }
  if (markAfter) await deps.store.markEnqueued(request.id, new Date().toISOString());
}
