import { REQUEST_STATUSES, type HeraldRequest, type RequestStatus } from '../../../lambdas/core/request';
import {
  CANCELLED_REASON,
  decide,
  describeLoss,
  finishEvent,
  LEASE_EXPIRED_REASON,
  REDRIVEN_REASON,
  TRANSITIONS,
  type LifecycleEvent,
  type LifecycleEventKind,
  type Refusal,
  type Transition,
} from '../../../lambdas/core/request-lifecycle';

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
  claim: { kind: 'claim', leaseMs: 60_000 },
  succeed: { kind: 'succeed', result: { ok: true } },
  fail: { kind: 'fail', error: { ...error, retryable: false }, reason: 'refused by the processor' },
  'retry-wait': { kind: 'retry-wait', error, reason: 'upstream timed out', nextAttemptAt: '2026-11-30T12:05:00.000Z' },
  cancel: { kind: 'cancel', merchantId: 'mer_a' },
  reopen: { kind: 'reopen', generation: 3 },
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

describe('the transition table', () => {
  const allowed = TRANSITIONS.map((rule) => [rule.event, rule.from, rule.to] as const);

  it.each(allowed)('moves a request on %s from %s to %s, conditional on what it saw', (kind, from, to) => {
    const known = request(from);
    const result = transition(known, events[kind]);
    expect(result.set.status).toBe(to);
    expect(result.set.updatedAt).toBe(at);
    expect(result.precondition).toEqual({
      status: from,
      attempts: known.attempts,
      version: known.version,
      ...(kind === 'cancel' ? { merchantId: 'mer_a' } : {}),
    });
    const row = result.history.rows[result.history.rows.length - 1]!;
    expect(row).toMatchObject({ from, to, at });
  });

  const refused = (Object.keys(events) as LifecycleEventKind[]).flatMap((kind) =>
    REQUEST_STATUSES.filter((from) => !TRANSITIONS.some((rule) => rule.event === kind && rule.from === from)).map(
      (from) => [kind, from] as const,
    ),
  );

  it.each(refused)('refuses %s on a %s request, saying why', (kind, from) => {
    const result = refusal(request(from), events[kind]);
    expect(result.reason).toBe(['succeeded', 'failed', 'cancelled'].includes(from) ? 'terminal' : 'wrong-status');
    expect(result.detail).toContain(from);
  });

  it('lists every refused pair the lifecycle knows (so a new rule shows up here)', () => {
    expect(refused).toHaveLength(6 * REQUEST_STATUSES.length - TRANSITIONS.length);
  });
});

describe('claim', () => {
  it('starts the next attempt under a lease and clears the retry time', () => {
    const result = transition(request('accepted', { nextAttemptAt: '2026-11-30T11:59:00.000Z' }), events.claim);
    expect(result.set).toMatchObject({ attempts: 3, leaseUntil: '2026-11-30T12:01:00.000Z' });
    expect(result.remove).toContain('nextAttemptAt');
    expect(result.history.rows.at(-1)).toEqual({ from: 'accepted', to: 'processing', at, attempt: 3 });
  });

  it('appends one row, conditioned on status and attempts only, when it acts on a guess', () => {
    const result = transition({ id: 'req_1', status: 'accepted', attempts: 0 }, events.claim);
    expect(result.precondition).toEqual({ status: 'accepted', attempts: 0 });
    expect(result.history).toEqual({ mode: 'append', rows: [{ from: 'accepted', to: 'processing', at, attempt: 1 }] });
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

  it('maps the finishing status onto its event', () => {
    expect(finishEvent('succeeded', { result: 1 })).toEqual({ kind: 'succeed', result: 1 });
    expect(finishEvent('failed', { error, reason: 'r' })).toEqual({ kind: 'fail', error, reason: 'r' });
    expect(finishEvent('accepted', { error, reason: 'r', nextAttemptAt: at })).toEqual({ kind: 'retry-wait', error, reason: 'r', nextAttemptAt: at });
  });
});

describe('cancel', () => {
  it('cancels an accepted request of its owner, checking the owner in the write', () => {
    const result = transition(request('accepted'), events.cancel);
    expect(result.precondition.merchantId).toBe('mer_a');
    expect(result.history.rows.at(-1)).toMatchObject({ reason: CANCELLED_REASON, attempt: 2 });
    expect(result.remove).toEqual(expect.arrayContaining(['leaseUntil', 'nextAttemptAt']));
  });

  it('refuses another merchant as if the request did not exist', () => {
    expect(refusal(request('accepted'), { kind: 'cancel', merchantId: 'mer_b' }).reason).toBe('not-owner');
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
