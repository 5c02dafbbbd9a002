import { MAX_DELIVERY_ROUNDS, type Delivery, type DeliveryAttempt, type DeliveryState, type NewDelivery } from './delivery';

/**
 * The delivery lifecycle as data: which event may move a delivery from which stored state to
 * which, and the condition its write must hold. The use cases build an event and call
 * `decideDelivery`; the delivery store renders the decided transition into one conditional write
 * and decides nothing itself.
 *
 * The stored states stay as the table has always held them (docs/data-model.md); the lifecycle's
 * phases map onto them:
 * - pending: no record yet (`absent`), or `pending` before its first outcome in a round;
 * - failed-retrying: `pending` again after a failed attempt, a circuit skip or a wait for the key's order (`reschedule`);
 * - delivered: `succeeded` (`deliver`);
 * - dead: `dead` (`die`): attempts or rounds exhausted, a 410, a failed test event;
 * - dropped: `dropped` (`drop`): nothing to send to (endpoint gone or disabled, request gone);
 * - redriven: `dead` back to `pending` in a new round after an operator's redrive (`redrive`);
 * - recovered: `pending` in a new round when the sweeper finds its message lost (`sweep`);
 *   the merchant's retry (`resend`) and recover (`recover`) start new rounds too.
 */

/** Where a transition starts: a stored state, or no record yet (a round-1 delivery before its first outcome). */
export type DeliveryOrigin = DeliveryState | 'absent';

export type DeliveryEventKind = 'deliver' | 'reschedule' | 'die' | 'drop' | 'redrive' | 'sweep' | 'resend' | 'recover';

/** An attempt's outcome, written over the round the message belongs to. */
interface OutcomeOf<K extends string> {
  readonly kind: K;
  /** The message's round: the outcome counts only while the delivery is pending in it. */
  readonly round: number;
  readonly at: string;
  /** What the message carries, so that round 1's first outcome creates the record. */
  readonly first?: NewDelivery;
}

export type DeliveryEvent =
  | (OutcomeOf<'deliver'> & { readonly attempts: readonly DeliveryAttempt[] })
  /** Absent attempts keep the log as it is (a wait already noted). */
  | (OutcomeOf<'reschedule'> & { readonly attempts?: readonly DeliveryAttempt[]; readonly nextAttemptAt: string })
  | (OutcomeOf<'die'> & { readonly attempts?: readonly DeliveryAttempt[]; readonly reason: string; readonly redriveGeneration?: number })
  | (OutcomeOf<'drop'> & { readonly reason: string })
  /** `generation`: the deliveries queue's redrive generation now; only one begun after the delivery died sends it again. */
  | { readonly kind: 'redrive'; readonly at: string; readonly generation: number }
  | { readonly kind: 'sweep'; readonly at: string }
  | { readonly kind: 'resend'; readonly at: string }
  | { readonly kind: 'recover'; readonly at: string };

export interface DeliveryRule {
  readonly event: DeliveryEventKind;
  readonly from: DeliveryOrigin;
  readonly to: DeliveryState;
  /** The transition starts a new round (a new message follows it). */
  readonly newRound?: true;
}

/** Every move a delivery can make. Anything not listed is refused. */
export const DELIVERY_TRANSITIONS: readonly DeliveryRule[] = [
  { event: 'deliver', from: 'absent', to: 'succeeded' },
  { event: 'deliver', from: 'pending', to: 'succeeded' },
  { event: 'reschedule', from: 'absent', to: 'pending' },
  { event: 'reschedule', from: 'pending', to: 'pending' },
  { event: 'die', from: 'absent', to: 'dead' },
  { event: 'die', from: 'pending', to: 'dead' },
  { event: 'drop', from: 'absent', to: 'dropped' },
  { event: 'drop', from: 'pending', to: 'dropped' },
  { event: 'redrive', from: 'dead', to: 'pending', newRound: true },
  { event: 'sweep', from: 'pending', to: 'pending', newRound: true },
  // The merchant's retry sends a delivery again whatever its state; recover only what failed.
  { event: 'resend', from: 'pending', to: 'pending', newRound: true },
  { event: 'resend', from: 'succeeded', to: 'pending', newRound: true },
  { event: 'resend', from: 'dead', to: 'pending', newRound: true },
  { event: 'resend', from: 'dropped', to: 'pending', newRound: true },
  { event: 'recover', from: 'dead', to: 'pending', newRound: true },
  { event: 'recover', from: 'dropped', to: 'pending', newRound: true },
];

/** The stored record a write must still find: none, or the round (in the state, due at the time) it was decided on. */
export type DeliveryExpectation =
  | { readonly absent: true }
  | {
      readonly absent?: undefined;
      readonly round: number;
      readonly state?: DeliveryState;
      /** The due time it must still have; null: it must have none. */
      readonly nextAttemptAt?: string | null;
    };

/** What the write sets besides the state and the time; an absent field is left as stored. */
export interface DeliveryChanges {
  readonly attempts?: readonly DeliveryAttempt[];
  /** While pending: when it is due. */
  readonly nextAttemptAt?: string;
  /** Set on every outcome that has one, removed by every other write. */
  readonly reason?: string;
  readonly deadAtRedrive?: number;
  /** A new round: this round number, due at once. */
  readonly round?: number;
}

export interface DeliveryTransition {
  readonly id: string;
  readonly rule: DeliveryRule;
  readonly at: string;
  readonly expected: DeliveryExpectation;
  readonly changes: DeliveryChanges;
  /** The record after the write, as the decision saw it. */
  readonly next: Delivery;
}

export type DeliveryRefusalCode = 'absent' | 'round-over' | 'not-allowed' | 'rounds-exhausted' | 'not-redriven';

export type DeliveryDecision =
  | { readonly outcome: 'transition'; readonly transition: DeliveryTransition }
  | { readonly outcome: 'refused'; readonly code: DeliveryRefusalCode; readonly detail: string };

const refuse = (code: DeliveryRefusalCode, detail: string): DeliveryDecision => ({ outcome: 'refused', code, detail });

/** The rule for an event from an origin, or undefined when the table has none. */
export function deliveryRuleFor(event: DeliveryEventKind, from: DeliveryOrigin): DeliveryRule | undefined {
  return DELIVERY_TRANSITIONS.find((rule) => rule.event === event && rule.from === from);
}

/**
 * The next record for `event` over `delivery` (undefined: no record yet), or why not. Outcomes
 * hold only in the message's own round; a round-1 outcome with no record creates it; a new round
 * is refused once the delivery had `MAX_DELIVERY_ROUNDS`.
 */
export function decideDelivery(delivery: Delivery | undefined, event: DeliveryEvent): DeliveryDecision {
  const from: DeliveryOrigin = delivery?.state ?? 'absent';
  const rule = deliveryRuleFor(event.kind, from);
  if (!delivery) {
    if (!isOutcome(event) || event.round !== 1 || !event.first) return refuse('absent', 'the delivery no longer exists');
    if (!rule) return refuse('not-allowed', `a delivery cannot ${event.kind} before it exists`);
    const changes = changesOf(event);
    return transition(rule, event.at, { absent: true }, changes, firstRecordOf(event.first, rule.to, changes, event.at));
  }
  if (isOutcome(event) && delivery.round !== event.round) return refuse('round-over', `round ${event.round} of ${delivery.id} is over`);
  if (!rule) return refuse('not-allowed', `a ${delivery.state} delivery cannot ${event.kind}`);
  if (isOutcome(event)) {
    return transition(rule, event.at, { round: delivery.round, state: 'pending' }, changesOf(event), delivery);
  }
  if (event.kind === 'redrive' && event.generation <= (delivery.deadAtRedrive ?? 0)) return refuse('not-redriven', 'the delivery is dead and no redrive began since');
  if (delivery.round >= MAX_DELIVERY_ROUNDS) return refuse('rounds-exhausted', `the delivery had its ${MAX_DELIVERY_ROUNDS} rounds`);
  const changes = { round: delivery.round + 1, nextAttemptAt: event.at };
  return transition(rule, event.at, expectationOfNewRound(delivery, event.kind), changes, delivery);
}

/**
 * A redrive and a sweep hold only if nothing happened since the caller looked: the same round,
 * state and, for the sweeper, due time. A merchant's retry or recover holds while the round is
 * the one it read (nothing else changes a finished round).
 */
function expectationOfNewRound(delivery: Delivery, kind: DeliveryEventKind): DeliveryExpectation {
  if (kind === 'redrive') return { round: delivery.round, state: 'dead' };
  if (kind === 'sweep') return { round: delivery.round, state: 'pending', nextAttemptAt: delivery.nextAttemptAt ?? null };
  return { round: delivery.round };
}

function transition(rule: DeliveryRule, at: string, expected: DeliveryExpectation, changes: DeliveryChanges, base: Delivery): DeliveryDecision {
  const next = applyDeliveryChanges(base, rule.to, changes, at);
  return { outcome: 'transition', transition: { id: next.id, rule, at, expected, changes, next } };
}

function isOutcome(event: DeliveryEvent): event is Extract<DeliveryEvent, { round: number }> {
  return 'round' in event;
}

function changesOf(event: Extract<DeliveryEvent, { round: number }>): DeliveryChanges {
  switch (event.kind) {
    case 'deliver':
      return { attempts: event.attempts };
    case 'reschedule':
      return { ...(event.attempts ? { attempts: event.attempts } : {}), nextAttemptAt: event.nextAttemptAt };
    case 'die':
      return {
        ...(event.attempts ? { attempts: event.attempts } : {}),
        reason: event.reason,
        ...(event.redriveGeneration !== undefined ? { deadAtRedrive: event.redriveGeneration } : {}),
      };
    case 'drop':
      return { reason: event.reason };
  }
}

/**
 * A stored record after a transition's write: what the store's write leaves, so that a store
 * kept in memory and the decision agree. A finished delivery keeps no due time; a reason lives
 * only as long as the outcome that gave it.
 */
export function applyDeliveryChanges(stored: Delivery, state: DeliveryState, changes: DeliveryChanges, at: string): Delivery {
  const { reason: _reason, nextAttemptAt: due, ...rest } = stored;
  const nextAttemptAt = state === 'pending' ? (changes.nextAttemptAt ?? due) : undefined;
  return {
    ...rest,
    state,
    round: changes.round ?? stored.round,
    attempts: changes.attempts ? [...changes.attempts] : stored.attempts,
    ...(changes.reason ? { reason: changes.reason } : {}),
    ...(changes.deadAtRedrive !== undefined ? { deadAtRedrive: changes.deadAtRedrive } : {}),
    ...(nextAttemptAt ? { nextAttemptAt } : {}),
    updatedAt: at,
  };
}

/** The record a first outcome creates: the new delivery in round 1, due at once when it stays pending without a time. */
function firstRecordOf(delivery: NewDelivery, state: DeliveryState, changes: DeliveryChanges, at: string): Delivery {
  return {
    ...delivery,
    state,
    round: 1,
    attempts: changes.attempts ? [...changes.attempts] : [],
    ...(state === 'pending' ? { nextAttemptAt: changes.nextAttemptAt ?? at } : {}),
    ...(changes.reason ? { reason: changes.reason } : {}),
    ...(changes.deadAtRedrive !== undefined ? { deadAtRedrive: changes.deadAtRedrive } : {}),
    updatedAt: at,
  };
}
