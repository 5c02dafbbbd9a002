import { HISTORY_LIMIT, REQUEST_STATUSES, type HeraldRequest, type RequestStatus } from '../../../../lambdas/core/requests/request';
import { decide, describeLoss, mayCancel, TRANSITIONS } from '../../../../lambdas/core/requests/request-lifecycle';
import {
  ATTEMPTS_EXHAUSTED,
  MAX_REASON_CHARS,
  CANCELLED_REASON,
  LEASE_EXPIRED_REASON,
  REDRIVEN_REASON,
  type LifecycleEvent,
  type LifecycleEventKind,
  type Refusal,
  type Transition,
} from '../../../../lambdas/core/requests/lifecycle-events';

const now = new Date('2026-11-30T12:00:00.000Z');
const at = now.toISOString();
const policy = { retentionDays: 30 };
const error = { code: 'upstream', message: 'upstream timed out', retryable: true };

function request(status: RequestStatus, overrides: Partial<HeraldRequest> = {}): HeraldRequest {
  return {
    id: 'req_1',
    merchantId: 'mer_a',
    type: 'echo',
    payload: {},
    status,
    version: 4,
    attempts: 2,
    idempotencyKey: 'k',
    webhookEvents: true,
    history: [{ from: null, to: 'accepted', at: '2026-11-30T11:00:00.000Z', attempt: 0 }],
    createdAt: '2026-11-30T11:00:00.000Z',
    updatedAt: '2026-11-30T11:30:00.000Z',
    ...(status === 'processing' ? { leaseUntil: '2026-11-30T11:59:00.000Z' } : {}),
    ...overrides,
  };
}

const events: Record<LifecycleEventKind, LifecycleEvent> = {
  claim: { kind: 'claim', leaseMs: 60_000, maxAttempts: 5 },
  succeed: { kind: 'succeed', result: { ok: true } },
  fail: { kind: 'fail', error: { ...error, retryable: false }, reason: 'refused by the processor' },
  'retry-wait': { kind: 'retry-wait', error, reason: 'upstream timed out', nextAttemptAt: '2026-11-30T12:05:00.000Z' },
  cancel: { kind: 'cancel', merchantId: 'mer_a' },
  reopen: { kind: 'reopen', generation: 3 },
  exhaust: { kind: 'exhaust', maxAttempts: 5, redriveGeneration: 2 },
  'release-lease': { kind: 'release-lease' },
};

/** The request each event applies to in the table test: a cancel needs no attempt started, an exhaustion all of them. */
const shapeFor: Partial<Record<LifecycleEventKind, Partial<HeraldRequest>>> = {
  cancel: { attempts: 0 },
  exhaust: { attempts: 5 },
};

function transition(known: Parameters<typeof decide>[0], event: LifecycleEvent): Transition {
  const decision = decide(known, event, now, policy);
  if (decision.outcome !== 'transition') throw new Error(`expected a transition, got: ${decision.detail}`);
  return decision;
}

function refusal(known: Parameters<typeof decide>[0], event: LifecycleEvent): Refusal {
  const decision = decide(known, event, now, policy);
  if (decision.outcome !== 'refused') throw new Error(`expected a refusal, got ${decision.rule.from} → ${decision.rule.to}`);
  return decision;
}

/**
 * The lifecycle as the docs state it (docs/architecture.md, the request state machine), written
 * out here rather than read from `TRANSITIONS`: a rule added to or dropped from the table must make
 * these tests fail.
 */
const STATUSES: readonly RequestStatus[] = ['accepted', 'processing', 'succeeded', 'failed', 'cancelled'];
const ALLOWED: ReadonlyArray<readonly [LifecycleEventKind, RequestStatus, RequestStatus]> = [
  ['claim', 'accepted', 'processing'],
  ['claim', 'processing', 'processing'],
  ['succeed', 'processing', 'succeeded'],
  ['fail', 'processing', 'failed'],
  ['retry-wait', 'processing', 'accepted'],
  ['cancel', 'accepted', 'cancelled'],
  ['reopen', 'failed', 'accepted'],
  ['exhaust', 'processing', 'failed'],
  ['exhaust', 'accepted', 'failed'],
  ['release-lease', 'processing', 'processing'],
];

/** Every other (event, status) pair, written out: each is refused. */
const REFUSED: ReadonlyArray<readonly [LifecycleEventKind, RequestStatus]> = [
  ['claim', 'succeeded'], ['claim', 'failed'], ['claim', 'cancelled'],
  ['succeed', 'accepted'], ['succeed', 'succeeded'], ['succeed', 'failed'], ['succeed', 'cancelled'],
  ['fail', 'accepted'], ['fail', 'succeeded'], ['fail', 'failed'], ['fail', 'cancelled'],
  ['retry-wait', 'accepted'], ['retry-wait', 'succeeded'], ['retry-wait', 'failed'], ['retry-wait', 'cancelled'],
  ['cancel', 'processing'], ['cancel', 'succeeded'], ['cancel', 'failed'], ['cancel', 'cancelled'],
  ['reopen', 'accepted'], ['reopen', 'processing'], ['reopen', 'succeeded'], ['reopen', 'cancelled'],
  ['exhaust', 'succeeded'], ['exhaust', 'failed'], ['exhaust', 'cancelled'],
  ['release-lease', 'accepted'], ['release-lease', 'succeeded'], ['release-lease', 'failed'], ['release-lease', 'cancelled'],
];

describe('the transition table', () => {
  it('holds exactly the moves the lifecycle documents', () => {
    const table = TRANSITIONS.map((rule) => `${rule.event}: ${rule.from} -> ${rule.to}`).sort();
    expect(table).toEqual(ALLOWED.map(([kind, from, to]) => `${kind}: ${from} -> ${to}`).sort());
    expect([...REQUEST_STATUSES].sort()).toEqual([...STATUSES].sort());
  });

  it.each(ALLOWED)('moves a request on %s from %s to %s, conditional on what it saw', (kind, from, to) => {
    const known = request(from, shapeFor[kind]);
    const result = transition(known, events[kind]);
    expect(result.set.status).toBe(to);
    // A released lease changes how the request is held, not where it stands: no new last change, no row.
    expect(result.set.updatedAt).toBe(kind === 'release-lease' ? undefined : at);
    expect(result.precondition).toEqual({
      status: from,
      attempts: known.attempts,
      version: known.version,
      ...(kind === 'cancel' ? { merchantId: 'mer_a', neverRedriven: true } : {}),
      ...(kind === 'claim' ? { attemptsBelow: 5 } : {}),
    });
    if (kind === 'release-lease') expect(result.history).toEqual({ mode: 'append', rows: [] });
    else expect(result.history.rows.at(-1)).toMatchObject({ from, to, at });
  });

  it.each(REFUSED)('refuses %s on a %s request, saying why', (kind, from) => {
    const result = refusal(request(from, shapeFor[kind]), events[kind]);
    expect(result.reason).toBe(['succeeded', 'failed', 'cancelled'].includes(from) ? 'terminal' : 'wrong-status');
    expect(result.detail).toContain(from);
  });

  it('covers every (event, status) pair exactly once, allowed or refused', () => {
    const pairs = [...ALLOWED.map(([kind, from]) => `${kind}/${from}`), ...REFUSED.map(([kind, from]) => `${kind}/${from}`)];
    expect(new Set(pairs).size).toBe(40);
    expect(pairs).toHaveLength(40);
  });
});

describe('claim', () => {
  it('starts the next attempt under a lease and clears the retry time', () => {
    const result = transition(request('accepted', { nextAttemptAt: '2026-11-30T11:59:00.000Z' }), events.claim);
    expect(result.set).toMatchObject({ attempts: 3, leaseUntil: '2026-11-30T12:01:00.000Z' });
    expect(result.remove).toContain('nextAttemptAt');
    expect(result.history.rows.at(-1)).toEqual({ from: 'accepted', to: 'processing', at, attempt: 3 });
  });

  it('appends one row on a guess, conditioned on status, attempts, the cap and a history with room for the row', () => {
    const result = transition({ id: 'req_1', status: 'accepted', attempts: 0 }, events.claim);
    expect(result.precondition).toEqual({ status: 'accepted', attempts: 0, attemptsBelow: 5, historyAtMost: HISTORY_LIMIT - 1 });
    expect(result.history).toEqual({ mode: 'append', rows: [{ from: 'accepted', to: 'processing', at, attempt: 1 }] });
  });

  it('refuses once every allowed attempt has started, however the message that asks is counted', () => {
    const result = refusal(request('accepted', { attempts: 5 }), events.claim);
    expect(result.reason).toBe('attempts-exhausted');
    expect(refusal(request('processing', { attempts: 5, leaseUntil: '2026-11-30T11:00:00.000Z' }), events.claim).reason).toBe('attempts-exhausted');
  });

  it('takes over a processing request whose lease ran out, saying so in history', () => {
    const result = transition(request('processing', { leaseUntil: '2026-11-30T11:00:00.000Z' }), events.claim);
    expect(result.history.rows.at(-1)).toMatchObject({ from: 'processing', to: 'processing', reason: LEASE_EXPIRED_REASON });
  });

  it('refuses a processing request while another attempt holds its lease', () => {
    const result = refusal(request('processing', { leaseUntil: '2026-11-30T12:00:30.000Z' }), events.claim);
    expect(result.reason).toBe('lease-held');
    expect(result.detail).toBe('another attempt holds the lease until 2026-11-30T12:00:30.000Z');
  });

  it('describes a lost claim by the state that beat it', () => {
    expect(describeLoss(request('succeeded'), now, policy)).toBe('request is already succeeded');
    expect(describeLoss(request('accepted'), now, policy)).toBe('request changed concurrently (status accepted)');
  });
});

describe('finishing an attempt', () => {
  it('ends in success with the result, clearing lease and error, and sets the expiry', () => {
    const result = transition(request('processing'), events.succeed);
    expect(result.set).toMatchObject({ status: 'succeeded', result: { ok: true }, expiresAt: Math.floor(now.getTime() / 1000) + 30 * 86_400 });
    expect(result.remove).toEqual(expect.arrayContaining(['leaseUntil', 'error']));
  });

  it('ends in failure with the error and the reason in history', () => {
    const result = transition(request('processing'), events.fail);
    expect(result.set).toMatchObject({ status: 'failed', error: { code: 'upstream', retryable: false } });
    expect(result.history.rows.at(-1)).toMatchObject({ reason: 'refused by the processor', attempt: 2 });
  });

  it('waits for a retry back in accepted, with no expiry', () => {
    const result = transition(request('processing'), events['retry-wait']);
    expect(result.set).toMatchObject({ status: 'accepted', nextAttemptAt: '2026-11-30T12:05:00.000Z', error });
    expect(result.set.expiresAt).toBeUndefined();
  });

  it('writes the processor steps before the transition row, keeping the history read', () => {
    const step = { from: 'processing' as const, to: 'processing' as const, at, attempt: 2, step: 'debit' };
    const result = transition(request('processing'), { kind: 'succeed', steps: [step] });
    expect(result.history.mode).toBe('replace');
    expect(result.history.rows.slice(-2)).toEqual([step, { from: 'processing', to: 'succeeded', at, attempt: 2 }]);
    expect(result.history.rows[0]).toMatchObject({ to: 'accepted' });
  });

});

describe('cancel', () => {
  it('cancels an accepted request of its owner, checking the owner in the write', () => {
    const result = transition(request('accepted', { attempts: 0 }), events.cancel);
    expect(result.precondition.merchantId).toBe('mer_a');
    expect(result.history.rows.at(-1)).toMatchObject({ reason: CANCELLED_REASON, attempt: 0 });
    expect(result.remove).toEqual(expect.arrayContaining(['leaseUntil', 'nextAttemptAt']));
  });

  it('refuses an accepted request waiting for a retry: its first attempt may have had effects', () => {
    const result = refusal(request('accepted', { attempts: 1, nextAttemptAt: '2026-11-30T12:05:00.000Z' }), events.cancel);
    expect(result.reason).toBe('attempt-started');
  });

  it('refuses a request a redrive reopened, though its new round has not started', () => {
    expect(refusal(request('accepted', { attempts: 0, redriveGeneration: 1 }), events.cancel).reason).toBe('attempt-started');
  });

  it('offers the cancel action exactly when a cancel would apply', () => {
    expect(mayCancel({ status: 'accepted', attempts: 0 })).toBe(true);
    expect(mayCancel({ status: 'accepted', attempts: 1 })).toBe(false);
    expect(mayCancel({ status: 'accepted', attempts: 0, redriveGeneration: 1 })).toBe(false);
    expect(mayCancel({ status: 'processing', attempts: 0 })).toBe(false);
    expect(mayCancel({ status: 'cancelled', attempts: 0 })).toBe(false);
  });

  it('refuses another merchant as if the request did not exist', () => {
    expect(refusal(request('accepted'), { kind: 'cancel', merchantId: 'mer_b' }).reason).toBe('not-owner');
  });
});

describe('exhaustion', () => {
  it('ends a processing request whose last lease ran out failed, attempts-exhausted, recording the redrive generation', () => {
    const result = transition(request('processing', { attempts: 5, leaseUntil: '2026-11-30T11:00:00.000Z' }), events.exhaust);
    expect(result.set).toMatchObject({ status: 'failed', failedAtRedrive: 2, error: { code: ATTEMPTS_EXHAUSTED, retryable: true } });
    expect(result.history.rows.at(-1)).toMatchObject({ from: 'processing', to: 'failed', reason: ATTEMPTS_EXHAUSTED, attempt: 5 });
  });

  it('refuses while the last attempt still holds its lease, or while attempts are left', () => {
    expect(refusal(request('processing', { attempts: 5, leaseUntil: '2026-11-30T12:00:30.000Z' }), events.exhaust).reason).toBe('lease-held');
    expect(refusal(request('accepted', { attempts: 4 }), events.exhaust).reason).toBe('attempts-left');
  });
});

describe('bounded rows', () => {
  it('cuts a reason or an error message longer than the limit', () => {
    const long = 'x'.repeat(10_000);
    const result = transition(request('processing'), { kind: 'fail', error: { code: 'e', message: long, retryable: false }, reason: long });
    expect(result.history.rows.at(-1)!.reason!.length).toBe(MAX_REASON_CHARS);
    expect((result.set.error as { message: string }).message.length).toBe(MAX_REASON_CHARS);
  });

  it('keeps a read history within the limit however many steps an attempt recorded', () => {
    const steps = Array.from({ length: 200 }, (_, i) => ({ from: 'processing' as const, to: 'processing' as const, at, attempt: 2, step: `s${i}` }));
    const result = transition(request('processing'), { kind: 'succeed', steps });
    expect(result.history.rows).toHaveLength(HISTORY_LIMIT);
    expect(result.history.rows[0]).toMatchObject({ to: 'accepted' });
    expect(result.history.rows.at(-1)).toMatchObject({ to: 'succeeded' });
  });
});

describe('the history bound (50 rows)', () => {
  const row = (i: number) => ({ from: 'processing' as const, to: 'processing' as const, at, attempt: 1, step: `s${i}` });

  it('keeps exactly 50 rows written by one append on a guess, and trims one over to 50', () => {
    const guess = { id: 'req_1', status: 'processing' as const, attempts: 1 };
    const atLimit = transition(guess, { kind: 'succeed', steps: Array.from({ length: 49 }, (_, i) => row(i)) });
    expect(atLimit.history).toMatchObject({ mode: 'append' });
    expect(atLimit.history.rows).toHaveLength(50);
    expect(atLimit.history.rows[0]).toMatchObject({ step: 's0' });
    const over = transition(guess, { kind: 'succeed', steps: Array.from({ length: 50 }, (_, i) => row(i)) });
    expect(over.history.rows).toHaveLength(50);
    expect(over.history.rows[0]).toMatchObject({ step: 's1' });
  });

  it('lets an append on a guess hold only while the stored history leaves room for its rows', () => {
    const claim = transition({ id: 'req_1', status: 'accepted', attempts: 0 }, events.claim);
    expect(claim.precondition.historyAtMost).toBe(49);
  });

  it('keeps a read history of 49 rows plus one whole, and one of 50 plus one at 50', () => {
    const history = (length: number) => Array.from({ length }, (_, i) => ({ ...row(i), step: undefined, reason: `r${i}` }));
    const full = transition(request('processing', { history: history(49) }), events.succeed);
    expect(full.history.rows).toHaveLength(50);
    expect(full.history.rows.map((r) => r.reason)).toContain('r25');
    const over = transition(request('processing', { history: history(50) }), events.succeed);
    expect(over.history.rows).toHaveLength(50);
    expect(over.history.rows.map((r) => r.reason)).not.toContain('r25');
    expect(over.history.rows.at(-1)).toMatchObject({ to: 'succeeded' });
  });
});

describe('reopen for a redrive', () => {
  it('starts a fresh round, marked enqueued, with the error and expiry cleared', () => {
    const result = transition(request('failed', { error }), events.reopen);
    expect(result.set).toMatchObject({ status: 'accepted', attempts: 0, redriveGeneration: 3, enqueuedAt: at });
    expect(result.remove).toEqual(expect.arrayContaining(['error', 'expiresAt', 'nextAttemptAt', 'leaseUntil']));
    expect(result.history.rows.at(-1)).toMatchObject({ from: 'failed', to: 'accepted', reason: REDRIVEN_REASON, attempt: 2 });
  });
});
