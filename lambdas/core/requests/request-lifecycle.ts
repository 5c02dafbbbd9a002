import {
  appendHistory,
  HISTORY_LIMIT,
  isTerminal,
  type HeraldRequest,
  type HistoryEntry,
  type RequestError,
  type RequestStatus,
} from './request';

/**
 * The request lifecycle as data: which event may move a request from which status to which, the
 * reason each move writes into history, and the condition the write must hold. Stores render a
 * `Transition` into one conditional write and decide nothing themselves, so every rule about
 * when a request may change lives here and is tested without a database.
 */

export type LifecycleEventKind = 'claim' | 'succeed' | 'fail' | 'retry-wait' | 'cancel' | 'reopen' | 'exhaust';

export type LifecycleEvent =
  /**
   * A worker takes the request for one attempt under a lease (also takes over an expired lease),
   * while fewer than `maxAttempts` attempts have started: the cap is counted on the item, so a
   * fresh message (the sweeper's, a redelivery's) can never buy a request more attempts.
   */
  | { readonly kind: 'claim'; readonly leaseMs: number; readonly maxAttempts: number }
  | { readonly kind: 'succeed'; readonly result?: unknown; readonly steps?: readonly HistoryEntry[] }
  | {
      readonly kind: 'fail';
      readonly error: RequestError;
      readonly reason: string;
      readonly result?: unknown;
      readonly steps?: readonly HistoryEntry[];
      /** The queue's redrive generation when the request failed: only a later redrive reopens it. */
      readonly redriveGeneration?: number;
    }
  /**
   * Every allowed attempt started and none finished (the workers died or timed out, leaving their
   * leases to expire): the request ends `failed` with the reason `attempts-exhausted`.
   */
  | { readonly kind: 'exhaust'; readonly maxAttempts: number; readonly redriveGeneration?: number }
  /** A transient failure: back to `accepted` until `nextAttemptAt`. */
  | {
      readonly kind: 'retry-wait';
      readonly error?: RequestError;
      readonly reason?: string;
      readonly nextAttemptAt?: string;
      readonly steps?: readonly HistoryEntry[];
    }
  | { readonly kind: 'cancel'; readonly merchantId: string }
  /** An operator redrive gives a request whose attempts ran out a new round. */
  | { readonly kind: 'reopen'; readonly generation: number };

export interface TransitionRule {
  readonly event: LifecycleEventKind;
  readonly from: RequestStatus;
  readonly to: RequestStatus;
  /** The history row's reason when the rule fixes it; otherwise the event supplies one (or none). */
  readonly reason?: string;
}

export const LEASE_EXPIRED_REASON = 'lease expired; the previous attempt was abandoned';
export const CANCELLED_REASON = 'cancelled by the merchant';
export const REDRIVEN_REASON = 'redriven';
/** The reason, and the error code, of a request whose attempts ran out. */
export const ATTEMPTS_EXHAUSTED = 'attempts-exhausted';
/**
 * Longest history reason and error message kept, in characters: both come from processors and
 * receivers, and an unbounded string in every row would let one request outgrow its item.
 */
export const MAX_REASON_CHARS = 500;

/** Every move a request can make. Anything not listed is refused. */
export const TRANSITIONS: readonly TransitionRule[] = [
  { event: 'claim', from: 'accepted', to: 'processing' },
  // The sweeper's case: the worker holding the lease died or timed out, so the next claim takes over.
  { event: 'claim', from: 'processing', to: 'processing', reason: LEASE_EXPIRED_REASON },
  { event: 'succeed', from: 'processing', to: 'succeeded' },
  { event: 'fail', from: 'processing', to: 'failed' },
  { event: 'retry-wait', from: 'processing', to: 'accepted' },
  { event: 'cancel', from: 'accepted', to: 'cancelled', reason: CANCELLED_REASON },
  { event: 'reopen', from: 'failed', to: 'accepted', reason: REDRIVEN_REASON },
  // The cap was reached by attempts that never finished: their leases ran out (or expire now).
  { event: 'exhaust', from: 'processing', to: 'failed', reason: ATTEMPTS_EXHAUSTED },
  { event: 'exhaust', from: 'accepted', to: 'failed', reason: ATTEMPTS_EXHAUSTED },
];

/**
 * What a writer knows of the stored request. A claim or a cancel may start from a guess (status
 * and attempts only) to save a read; the precondition makes a wrong guess fail harmlessly, and the
 * store retries with the request the failed condition returned.
 */
export type KnownRequest = Pick<HeraldRequest, 'id' | 'status' | 'attempts'> &
  Partial<Pick<HeraldRequest, 'version' | 'merchantId' | 'leaseUntil' | 'history' | 'redriveGeneration'>>;

/** The condition a transition's write must hold: the stored request is still the one the decision saw. */
export interface Precondition {
  readonly status: RequestStatus;
  readonly attempts: number;
  /** Present whenever the writer read the item; absent on a first guess. */
  readonly version?: number;
  readonly merchantId?: string;
  /** When set, the write holds only while `attempts` is below it. */
  readonly attemptsBelow?: number;
  /**
   * When set, the write holds only while the stored history has at most this many rows: an
   * append on a guess never saw the list, so this is what keeps it within `HISTORY_LIMIT`. A
   * longer history fails the condition, and the retry, having read it, rewrites it trimmed.
   */
  readonly historyAtMost?: number;
  /** When set, the write holds only if no redrive ever reopened the request (its earlier rounds ran attempts). */
  readonly neverRedriven?: boolean;
}

/** Request fields a transition writes; `version` is bumped by one on every write besides these. */
export type RequestChanges = Partial<
  Pick<
    HeraldRequest,
    'status' | 'attempts' | 'leaseUntil' | 'nextAttemptAt' | 'enqueuedAt' | 'redriveGeneration' | 'failedAtRedrive' | 'result' | 'error' | 'updatedAt'
  >
> & {
  /** Epoch seconds after which the request may be deleted: set once it is terminal. */
  readonly expiresAt?: number;
};

export type RemovableField = 'leaseUntil' | 'nextAttemptAt' | 'error' | 'expiresAt';

/**
 * How the history rows reach the item. A writer that read the whole history rewrites it trimmed
 * (`appendHistory`); a writer acting on a guess can only append, since it never saw the list.
 */
export type HistoryWrite = { readonly mode: 'append'; readonly rows: readonly HistoryEntry[] } | { readonly mode: 'replace'; readonly rows: readonly HistoryEntry[] };

export interface Transition {
  readonly outcome: 'transition';
  readonly rule: TransitionRule;
  readonly precondition: Precondition;
  readonly set: RequestChanges & { readonly status: RequestStatus; readonly updatedAt: string };
  readonly remove: readonly RemovableField[];
  readonly history: HistoryWrite;
}

export type RefusalReason = 'terminal' | 'wrong-status' | 'lease-held' | 'not-owner' | 'attempts-exhausted' | 'attempts-left' | 'attempt-started';

export interface Refusal {
  readonly outcome: 'refused';
  readonly reason: RefusalReason;
  readonly event: LifecycleEventKind;
  readonly status: RequestStatus;
  /** Why, in words, for logs and the worker's `skipped` reason. */
  readonly detail: string;
}

export interface LifecyclePolicy {
  /** How long a finished request is kept before its item expires. */
  readonly retentionDays: number;
}

/**
 * Decides what `event` does to `known` at `now`: the new fields, the history rows and the
 * precondition of the write, or a refusal saying why the event does not apply.
 *
 * @example
 * decide({ id, status: 'accepted', attempts: 0 }, { kind: 'claim', leaseMs: 60_000 }, now, policy)
 * // → { outcome: 'transition', set: { status: 'processing', attempts: 1, leaseUntil, … }, precondition: { status: 'accepted', attempts: 0 }, … }
 */
export function decide(known: KnownRequest, event: LifecycleEvent, now: Date, policy: LifecyclePolicy): Transition | Refusal {
  const at = now.toISOString();
  if (event.kind === 'cancel' && known.merchantId !== undefined && known.merchantId !== event.merchantId) {
    return refuse(known, event, 'not-owner', 'request belongs to another merchant');
  }
  const rule = TRANSITIONS.find((candidate) => candidate.event === event.kind && candidate.from === known.status);
  if (!rule) {
    return isTerminal(known.status)
      ? refuse(known, event, 'terminal', `request is already ${known.status}`)
      : refuse(known, event, 'wrong-status', `request is ${known.status}, not ${allowedFrom(event.kind).join(' or ')}`);
  }
  if ((event.kind === 'claim' || event.kind === 'exhaust') && known.status === 'processing' && known.leaseUntil && known.leaseUntil >= at) {
    return refuse(known, event, 'lease-held', `another attempt holds the lease until ${known.leaseUntil}`);
  }
  if (event.kind === 'claim' && known.attempts >= event.maxAttempts) {
    return refuse(known, event, 'attempts-exhausted', `all ${event.maxAttempts} attempts have started (${known.attempts})`);
  }
  if (event.kind === 'exhaust' && known.attempts < event.maxAttempts) {
    return refuse(known, event, 'attempts-left', `only ${known.attempts} of ${event.maxAttempts} attempts have started`);
  }
  if (event.kind === 'cancel' && (known.attempts > 0 || known.redriveGeneration !== undefined)) {
    return refuse(known, event, 'attempt-started', `an attempt has already started (${known.attempts} in this round)`);
  }
  const steps = 'steps' in event ? (event.steps ?? []) : [];
  const changes = changesOf(known, event, at);
  // A claim's row counts the attempt it starts; every other row the attempt that was running.
  const attempt = event.kind === 'claim' ? known.attempts + 1 : known.attempts;
  const reason = rule.reason ?? reasonOf(event);
  const row: HistoryEntry = { from: rule.from, to: rule.to, at, attempt, ...(reason ? { reason: bounded(reason) } : {}) };
  const history = historyWrite(known, [...steps.map(boundedRow), row]);
  const precondition: Precondition = {
    status: known.status,
    attempts: known.attempts,
    ...(known.version !== undefined ? { version: known.version } : {}),
    ...(event.kind === 'cancel' ? { merchantId: event.merchantId, neverRedriven: true } : {}),
    ...(event.kind === 'claim' ? { attemptsBelow: event.maxAttempts } : {}),
    ...(history.mode === 'append' ? { historyAtMost: Math.max(HISTORY_LIMIT - history.rows.length, 0) } : {}),
  };
  return {
    outcome: 'transition',
    rule,
    precondition,
    set: { ...changes.set, status: rule.to, updatedAt: at, ...(isTerminal(rule.to) ? { expiresAt: expiryOf(now, policy) } : {}) },
    remove: changes.remove,
    history,
  };
}

/** Why a claim on `current` would not apply (or that it lost a race), in the worker's words. */
export function describeLoss(current: KnownRequest, now: Date, policy: LifecyclePolicy, maxAttempts = Number.MAX_SAFE_INTEGER): string {
  const decision = decide(current, { kind: 'claim', leaseMs: 0, maxAttempts }, now, policy);
  return decision.outcome === 'refused' ? decision.detail : `request changed concurrently (status ${current.status})`;
}

/** The event `finishAttempt` stands for: an attempt ends in success, failure, or a wait for the retry. */
export function finishEvent(
  to: 'succeeded' | 'failed' | 'accepted',
  outcome: {
    result?: unknown;
    error?: RequestError;
    reason?: string;
    nextAttemptAt?: string;
    steps?: readonly HistoryEntry[];
    redriveGeneration?: number;
  },
): LifecycleEvent {
  const steps = outcome.steps ? { steps: outcome.steps } : {};
  const reason = outcome.reason ? { reason: outcome.reason } : {};
  if (to === 'succeeded') return { kind: 'succeed', ...(outcome.result !== undefined ? { result: outcome.result } : {}), ...steps };
  if (to === 'failed') {
    return {
      kind: 'fail',
      error: outcome.error ?? { code: 'failed', message: outcome.reason ?? 'failed', retryable: false },
      reason: outcome.reason ?? outcome.error?.message ?? 'failed',
      ...(outcome.result !== undefined ? { result: outcome.result } : {}),
      ...(outcome.redriveGeneration !== undefined ? { redriveGeneration: outcome.redriveGeneration } : {}),
      ...steps,
    };
  }
  return {
    kind: 'retry-wait',
    ...(outcome.error ? { error: outcome.error } : {}),
    ...reason,
    ...(outcome.nextAttemptAt ? { nextAttemptAt: outcome.nextAttemptAt } : {}),
    ...steps,
  };
}

function changesOf(
  known: KnownRequest,
  event: LifecycleEvent,
  at: string,
): { set: RequestChanges; remove: RemovableField[] } {
  switch (event.kind) {
    case 'claim':
      return {
        set: { attempts: known.attempts + 1, leaseUntil: new Date(Date.parse(at) + event.leaseMs).toISOString() },
        remove: ['nextAttemptAt'],
      };
    case 'succeed':
      return { set: event.result !== undefined ? { result: event.result } : {}, remove: ['leaseUntil', 'error'] };
    case 'fail':
      return {
        set: {
          error: boundedError(event.error),
          ...(event.result !== undefined ? { result: event.result } : {}),
          ...(event.redriveGeneration !== undefined ? { failedAtRedrive: event.redriveGeneration } : {}),
        },
        remove: ['leaseUntil'],
      };
    case 'exhaust':
      return {
        set: {
          // Retryable: the attempts failed for reasons outside the request, so an operator's redrive may reopen it.
          error: {
            code: ATTEMPTS_EXHAUSTED,
            message: `All ${event.maxAttempts} attempts started and none finished: the worker died or timed out each time`,
            retryable: true,
          },
          ...(event.redriveGeneration !== undefined ? { failedAtRedrive: event.redriveGeneration } : {}),
        },
        remove: ['leaseUntil', 'nextAttemptAt'],
      };
    case 'retry-wait':
      return {
        set: { ...(event.error ? { error: boundedError(event.error) } : {}), ...(event.nextAttemptAt ? { nextAttemptAt: event.nextAttemptAt } : {}) },
        remove: ['leaseUntil'],
      };
    case 'cancel':
      return { set: {}, remove: ['leaseUntil', 'nextAttemptAt'] };
    case 'reopen':
      // The redriven message is on the queue now: `enqueuedAt` keeps the sweeper from taking it for a lost enqueue.
      return {
        set: { attempts: 0, redriveGeneration: event.generation, enqueuedAt: at },
        remove: ['error', 'expiresAt', 'nextAttemptAt', 'leaseUntil'],
      };
  }
}

function reasonOf(event: LifecycleEvent): string | undefined {
  return event.kind === 'fail' || event.kind === 'retry-wait' ? event.reason : undefined;
}

function bounded(text: string): string {
  return text.length <= MAX_REASON_CHARS ? text : `${text.slice(0, MAX_REASON_CHARS - 1)}…`;
}

function boundedRow(row: HistoryEntry): HistoryEntry {
  return row.reason === undefined ? row : { ...row, reason: bounded(row.reason) };
}

function boundedError(error: RequestError): RequestError {
  return { ...error, code: error.code.slice(0, 100), message: bounded(error.message) };
}

function historyWrite(known: KnownRequest, rows: readonly HistoryEntry[]): HistoryWrite {
  // Beyond the limit in one write (a processor recording many steps), even an append is trimmed.
  if (!known.history) return { mode: 'append', rows: rows.length <= HISTORY_LIMIT ? rows : rows.slice(-HISTORY_LIMIT) };
  return { mode: 'replace', rows: rows.reduce<HistoryEntry[]>((history, row) => appendHistory(history, row), [...known.history]) };
}

function expiryOf(now: Date, policy: LifecyclePolicy): number {
  return Math.floor(now.getTime() / 1000) + policy.retentionDays * 86_400;
}

function allowedFrom(event: LifecycleEventKind): RequestStatus[] {
  return TRANSITIONS.filter((rule) => rule.event === event).map((rule) => rule.from);
}

function refuse(known: KnownRequest, event: LifecycleEvent, reason: RefusalReason, detail: string): Refusal {
  return { outcome: 'refused', reason, event: event.kind, status: known.status, detail };
}
