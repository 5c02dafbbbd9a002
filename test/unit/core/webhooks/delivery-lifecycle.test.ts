import { MAX_DELIVERY_ROUNDS, type Delivery, type DeliveryState, type NewDelivery } from '../../../../lambdas/core/webhooks/delivery';
import {
  decideDelivery,
  type DeliveryEvent,
  type DeliveryEventKind,
  type DeliveryOrigin,
} from '../../../../lambdas/core/webhooks/delivery-lifecycle';

const AT = '2026-12-01T10:00:00.000Z';
const DUE = '2026-12-01T10:05:00.000Z';
const attempt = { at: AT, attempt: 1, status: 500, latencyMs: 4 };

const fresh: NewDelivery = {
  id: 'dlv_req_1.ep_1.succeeded',
  merchantId: 'mer_a',
  endpointId: 'ep_1',
  subjectId: 'req_1',
  eventType: 'request.succeeded',
  eventTimestamp: AT,
  createdAt: AT,
};

function stored(state: DeliveryState, extra: Partial<Delivery> = {}): Delivery {
  return {
    ...fresh,
    state,
    round: 1,
    attempts: [attempt],
    ...(state === 'pending' ? { nextAttemptAt: DUE } : {}),
    ...(state === 'dead' || state === 'dropped' ? { reason: 'earlier outcome' } : {}),
    updatedAt: AT,
    ...extra,
  };
}

const events: Record<DeliveryEventKind, DeliveryEvent> = {
  deliver: { kind: 'deliver', round: 1, at: AT, first: fresh, attempts: [attempt] },
  reschedule: { kind: 'reschedule', round: 1, at: AT, first: fresh, attempts: [attempt], nextAttemptAt: DUE },
  die: { kind: 'die', round: 1, at: AT, first: fresh, attempts: [attempt], reason: 'no success after 8 attempts', redriveGeneration: 2 },
  drop: { kind: 'drop', round: 1, at: AT, first: fresh, reason: 'the endpoint was deleted' },
  redrive: { kind: 'redrive', at: AT, generation: 3 },
  sweep: { kind: 'sweep', at: AT },
  resend: { kind: 'resend', at: AT },
  recover: { kind: 'recover', at: AT },
};

const origins: DeliveryOrigin[] = ['absent', 'pending', 'succeeded', 'dead', 'dropped'];

/**
 * Every move a delivery may make, written out by hand from the delivery rules (docs/webhooks.md):
 * an attempt's outcome is written over no record (round 1's first) or a pending one; a redrive
 * sends again only a dead delivery; the sweeper only a pending one; the merchant's retry any
 * stored delivery, its recover only a dead or dropped one.
 */
const ALLOWED: readonly (readonly [DeliveryEventKind, DeliveryOrigin, DeliveryState])[] = [
  ['deliver', 'absent', 'succeeded'],
  ['deliver', 'pending', 'succeeded'],
  ['reschedule', 'absent', 'pending'],
  ['reschedule', 'pending', 'pending'],
  ['die', 'absent', 'dead'],
  ['die', 'pending', 'dead'],
  ['drop', 'absent', 'dropped'],
  ['drop', 'pending', 'dropped'],
  ['redrive', 'dead', 'pending'],
  ['sweep', 'pending', 'pending'],
  ['resend', 'pending', 'pending'],
  ['resend', 'succeeded', 'pending'],
  ['resend', 'dead', 'pending'],
  ['resend', 'dropped', 'pending'],
  ['recover', 'dead', 'pending'],
  ['recover', 'dropped', 'pending'],
];

/** Everything else, also by hand: 40 pairs of 8 events over 5 origins, less the 16 allowed. */
const REFUSED: readonly (readonly [DeliveryEventKind, DeliveryOrigin])[] = [
  ['deliver', 'succeeded'],
  ['deliver', 'dead'],
  ['deliver', 'dropped'],
  ['reschedule', 'succeeded'],
  ['reschedule', 'dead'],
  ['reschedule', 'dropped'],
  ['die', 'succeeded'],
  ['die', 'dead'],
  ['die', 'dropped'],
  ['drop', 'succeeded'],
  ['drop', 'dead'],
  ['drop', 'dropped'],
  ['redrive', 'absent'],
  ['redrive', 'pending'],
  ['redrive', 'succeeded'],
  ['redrive', 'dropped'],
  ['sweep', 'absent'],
  ['sweep', 'succeeded'],
  ['sweep', 'dead'],
  ['sweep', 'dropped'],
  ['resend', 'absent'],
  ['recover', 'absent'],
  ['recover', 'pending'],
  ['recover', 'succeeded'],
];

const decide = (origin: DeliveryOrigin, kind: DeliveryEventKind) => decideDelivery(origin === 'absent' ? undefined : stored(origin), events[kind]);

describe('the delivery transition table', () => {
  it('lists every pair of event and origin exactly once between allowed and refused', () => {
    const pairs = [...ALLOWED.map(([event, from]) => `${event}/${from}`), ...REFUSED.map(([event, from]) => `${event}/${from}`)];
    expect(new Set(pairs).size).toBe(40);
    expect(pairs).toHaveLength(40);
    expect(origins.length * Object.keys(events).length).toBe(40);
  });

  it.each(ALLOWED)('allows %s from %s, to %s', (event, from, to) => {
    const decision = decide(from, event);
    expect(decision).toMatchObject({ outcome: 'transition', transition: { rule: { event, from, to }, next: { state: to } } });
  });

  it.each(REFUSED)('refuses %s from %s', (event, from) => {
    expect(decide(from, event)).toMatchObject({ outcome: 'refused' });
  });
});

describe('decideDelivery', () => {
  it('creates round 1 from the first outcome, on the condition that no record exists', () => {
    const decision = decideDelivery(undefined, events.reschedule);
    expect(decision).toEqual({
      outcome: 'transition',
      transition: expect.objectContaining({
        expected: { absent: true },
        next: { ...fresh, state: 'pending', round: 1, attempts: [attempt], nextAttemptAt: DUE, updatedAt: AT },
      }),
    });
  });

  it('refuses an outcome without a record in any round but the first', () => {
    expect(decideDelivery(undefined, { ...events.deliver, round: 2 } as DeliveryEvent)).toMatchObject({ outcome: 'refused', code: 'absent' });
  });

  it('refuses an outcome of a round that is over', () => {
    expect(decideDelivery(stored('pending', { round: 2 }), events.deliver)).toMatchObject({ outcome: 'refused', code: 'round-over' });
  });

  it('writes an outcome on the condition that the delivery is still pending in its round', () => {
    const decision = decideDelivery(stored('pending'), events.die);
    expect(decision).toMatchObject({ outcome: 'transition', transition: { expected: { round: 1, state: 'pending' } } });
    if (decision.outcome !== 'transition') throw new Error('refused');
    expect(decision.transition.next).toMatchObject({ state: 'dead', reason: 'no success after 8 attempts', deadAtRedrive: 2 });
    expect(decision.transition.next.nextAttemptAt).toBeUndefined();
  });

  it('starts a new round due at once, without the old reason', () => {
    const decision = decideDelivery(stored('dead', { round: 4, deadAtRedrive: 2 }), events.redrive);
    if (decision.outcome !== 'transition') throw new Error('refused');
    expect(decision.transition.expected).toEqual({ round: 4, state: 'dead' });
    expect(decision.transition.next).toMatchObject({ state: 'pending', round: 5, nextAttemptAt: AT, attempts: [attempt] });
    expect(decision.transition.next.reason).toBeUndefined();
  });

  it('lets the sweeper start a round only if the due time it saw is still there', () => {
    const decision = decideDelivery(stored('pending'), events.sweep);
    expect(decision).toMatchObject({ transition: { expected: { round: 1, state: 'pending', nextAttemptAt: DUE } } });
  });

  it('redrives a dead delivery only after a redrive newer than the one it died under', () => {
    expect(decideDelivery(stored('dead', { deadAtRedrive: 3 }), events.redrive)).toMatchObject({ outcome: 'refused', code: 'not-redriven' });
    expect(decideDelivery(stored('dead', { deadAtRedrive: 2 }), events.redrive)).toMatchObject({ outcome: 'transition' });
  });

  it(`starts no round past the ${MAX_DELIVERY_ROUNDS}th, and allows the ${MAX_DELIVERY_ROUNDS}th`, () => {
    expect(MAX_DELIVERY_ROUNDS).toBe(100);
    expect(decideDelivery(stored('dead', { round: 99 }), events.resend)).toMatchObject({ outcome: 'transition', transition: { next: { round: 100 } } });
    for (const kind of ['resend', 'recover', 'sweep', 'redrive'] as const) {
      const state = kind === 'sweep' ? 'pending' : 'dead';
      expect(decideDelivery(stored(state, { round: 100 }), events[kind])).toMatchObject({ outcome: 'refused', code: 'rounds-exhausted' });
    }
  });
});
