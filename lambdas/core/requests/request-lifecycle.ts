import { HISTORY_LIMIT, isTerminal, type HeraldRequest, type HistoryEntry, type RequestStatus } from './request';
import { bounded, boundedRow, changesOf, expiryOf, historyWrite, reasonOf } from './lifecycle-changes';
import {
  ATTEMPTS_EXHAUSTED,
  CANCELLED_REASON,
  LEASE_EXPIRED_REASON,
  REDRIVEN_REASON,
  type HistoryWrite,
  type KnownRequest,
  type LifecycleEvent,
  type LifecycleEventKind,
  type LifecyclePolicy,
  type Precondition,
  type Refusal,
  type RefusalReason,
  type Transition,
  type TransitionRule,
} from './lifecycle-events';

/**
 * The request lifecycle as data: which event may move a request from which status to which, the
 * reason each move writes into history, and the condition the write must hold. Use cases build
 * the events and call `decide`; stores render a `Transition` into one conditional write and
 * decide nothing themselves, so every rule about when a request may change lives here and is
 * tested without a database.
 */

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
  { event: 'release-lease', from: 'processing', to: 'processing', silent: true },
];

/**
 * Decides what `event` does to `known` at `now`: the new fields, the history rows and the
 * precondition of the write, or a refusal saying why the event does not apply.
 *
 * @example
 * decide({ id, status: 'accepted', attempts: 0 }, { kind: 'claim', leaseMs: 60_000, maxAttempts: 5 }, now, policy)
 * // → { outcome: 'transition', set: { status: 'processing', attempts: 1, leaseUntil, … }, precondition: { status: 'accepted', attempts: 0, … }, … }
 */
export function decide(known: KnownRequest, event: LifecycleEvent, now: Date, policy: LifecyclePolicy): Transition | Refusal {
  const at = now.toISOString();
  if (event.kind === 'cancel' && known.merchantId !== undefined && known.merchantId !== event.merchantId) {
    return refuse(known, event, 'not-owner', 'request belongs to another merchant');
  }
  const rule = ruleFor(event.kind, known.status);
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
  if (event.kind === 'cancel' && attemptStarted(known)) {
    return refuse(known, event, 'attempt-started', `an attempt has already started (${known.attempts} in this round)`);
  }
  const changes = changesOf(known, event, at);
  const history = rule.silent ? { mode: 'append' as const, rows: [] } : historyOf(known, event, rule, at);
  const precondition: Precondition = {
    status: known.status,
    attempts: known.attempts,
    ...(known.version !== undefined ? { version: known.version } : {}),
    ...(event.kind === 'cancel' ? { merchantId: event.merchantId, neverRedriven: true } : {}),
    ...(event.kind === 'claim' ? { attemptsBelow: event.maxAttempts } : {}),
    ...(history.mode === 'append' && history.rows.length > 0 ? { historyAtMost: Math.max(HISTORY_LIMIT - history.rows.length, 0) } : {}),
  };
  return {
    outcome: 'transition',
    rule,
    precondition,
    set: {
      ...changes.set,
      status: rule.to,
      ...(rule.silent ? {} : { updatedAt: at }),
      ...(isTerminal(rule.to) ? { expiresAt: expiryOf(now, policy) } : {}),
    },
    remove: changes.remove,
    history,
  };
}

/**
 * Whether a cancel would apply to the request now: its links offer the action only then. Only a
 * request no attempt has started on can be cancelled: an attempt may have had effects (a saga's
 * debit) that a cancel would strand, so once one starts the request runs to its end.
 */
export function mayCancel(request: Pick<HeraldRequest, 'status' | 'attempts' | 'redriveGeneration'>): boolean {
  return ruleFor('cancel', request.status) !== undefined && !attemptStarted(request);
}

/** Why a claim on `current` would not apply (or that it lost a race), in the worker's words. */
export function describeLoss(current: KnownRequest, now: Date, policy: LifecyclePolicy, maxAttempts = Number.MAX_SAFE_INTEGER): string {
  const decision = decide(current, { kind: 'claim', leaseMs: 0, maxAttempts }, now, policy);
  return decision.outcome === 'refused' ? decision.detail : `request changed concurrently (status ${current.status})`;
}

/** An attempt ran in this round, or in an earlier one a redrive closed. */
function attemptStarted(request: Pick<KnownRequest, 'attempts' | 'redriveGeneration'>): boolean {
  return request.attempts > 0 || request.redriveGeneration !== undefined;
}

function historyOf(known: KnownRequest, event: LifecycleEvent, rule: TransitionRule, at: string): HistoryWrite {
  const steps = 'steps' in event ? (event.steps ?? []) : [];
  // A claim's row counts the attempt it starts; every other row the attempt that was running.
  const attempt = event.kind === 'claim' ? known.attempts + 1 : known.attempts;
  const reason = rule.reason ?? reasonOf(event);
  const row: HistoryEntry = { from: rule.from, to: rule.to, at, attempt, ...(reason ? { reason: bounded(reason) } : {}) };
  return historyWrite(known, [...steps.map(boundedRow), row]);
}

function ruleFor(event: LifecycleEventKind, from: RequestStatus): TransitionRule | undefined {
  return TRANSITIONS.find((candidate) => candidate.event === event && candidate.from === from);
}

function allowedFrom(event: LifecycleEventKind): RequestStatus[] {
  return TRANSITIONS.filter((rule) => rule.event === event).map((rule) => rule.from);
}

function refuse(known: KnownRequest, event: LifecycleEvent, reason: RefusalReason, detail: string): Refusal {
  return { outcome: 'refused', reason, event: event.kind, status: known.status, detail };
}
