import fc from 'fast-check';
import * as z from 'zod';
import { RetryableError, PermanentError, type Processor } from '../../../../lambdas/core/requests/processor';
import { processRequest, type ProcessDependencies } from '../../../../lambdas/core/requests/process-request';
import { cancelRequest, type CancelDependencies } from '../../../../lambdas/core/requests/cancel-request';
import { claimRequest } from '../../../../lambdas/core/requests/claim-request';
import { HISTORY_LIMIT, type HeraldRequest } from '../../../../lambdas/core/requests/request';
import { requestRetrySchedule } from '../../../../lambdas/settings/retry';
import { InMemoryRedriveLog, InMemoryRequestQueue, InMemoryRequestStore, RecordingEventPublisher } from '../../../support/core/requests/in-memory-ports';
import { noServices, registryOf } from '../../../support/test-processors';

/**
 * Property tests of the request lifecycle: random interleavings of worker deliveries (first and
 * duplicate copies, with any receive count), workers that die holding the lease, time passing
 * (leases expiring, the sweeper's fresh messages), cancels and operator redrives, run through the
 * real use case over the in-memory ports, which decide every move with core's transition table.
 */

const MAX_ATTEMPTS = 4;
const START = new Date('2026-05-01T00:00:00.000Z');
// The moves the lifecycle documents, written out rather than read from the table under test.
const ALLOWED = new Set([
  'accepted->processing',
  'processing->processing',
  'processing->succeeded',
  'processing->failed',
  'processing->accepted',
  'accepted->cancelled',
  'failed->accepted',
  'accepted->failed',
]);

type Step =
  | { readonly kind: 'deliver'; readonly receiveCount: number; readonly outcome: 'ok' | 'transient' | 'permanent' }
  | { readonly kind: 'die' }
  | { readonly kind: 'wait'; readonly minutes: number }
  | { readonly kind: 'cancel'; readonly owner: boolean }
  | { readonly kind: 'redrive' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('deliver' as const), receiveCount: fc.integer({ min: 1, max: MAX_ATTEMPTS + 2 }), outcome: fc.constantFrom('ok' as const, 'transient' as const, 'permanent' as const) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'die' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wait' as const), minutes: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), owner: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'redrive' as const }) },
);

function world() {
  let now = START;
  const store = new InMemoryRequestStore({ now: () => now });
  const queue = new InMemoryRequestQueue();
  const events = new RecordingEventPublisher();
  const redrives = new InMemoryRedriveLog();
  let next: 'ok' | 'transient' | 'permanent' = 'ok';
  /** Every run of the work, by the round and attempt it ran under: an effect keyed so must never repeat. */
  const runs: string[] = [];
  const succeededRuns: string[] = [];
  const scripted: Processor<Record<string, never>, { done: true }> = {
    type: 'test.scripted',
    timeoutMs: 1_000,
    schema: z.strictObject({}),
    async run(_payload, context) {
      const request = (await store.get(context.requestId))!;
      const key = `${request.redriveGeneration ?? 0}:${context.attempt}`;
      runs.push(key);
      if (next === 'transient') throw new RetryableError('busy', 'busy');
      if (next === 'permanent') throw new PermanentError('refused', 'refused');
      succeededRuns.push(key);
      return { done: true };
    },
  };
  const deps: ProcessDependencies = {
    store,
    queue,
    events,
    redrives,
    queueName: 'requests',
    processorFor: registryOf(scripted).processorFor,
    services: noServices,
    retry: requestRetrySchedule,
    maxReceiveCount: MAX_ATTEMPTS,
    retryScale: 1,
    remainingTimeMs: () => 60_000,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    random: () => 0.5,
    now: () => now,
  };
  const at = START.toISOString();
  const request: HeraldRequest = {
    id: 'req_p',
    merchantId: 'mer_p',
    type: 'test.scripted',
    payload: {},
    status: 'accepted',
    version: 1,
    attempts: 0,
    idempotencyKey: 'k',
    webhookEvents: true,
    history: [{ from: null, to: 'accepted', at, attempt: 0 }],
    createdAt: at,
    updatedAt: at,
  };
  store.seed(request);

  return {
    store,
    events,
    runs,
    succeededRuns,
    async apply(s: Step): Promise<void> {
      switch (s.kind) {
        case 'deliver':
          next = s.outcome;
          await processRequest(deps, { requestId: 'req_p', type: 'test.scripted', receiveCount: s.receiveCount, receiptHandle: 'rh' });
          return;
        case 'die': {
          // A worker claims and is never heard from again: its lease runs out after a minute.
          const current = (await store.get('req_p'))!;
          await claimRequest(store, 'req_p', { leaseMs: 60_000, maxAttempts: MAX_ATTEMPTS }, current.attempts, now);
          return;
        }
        case 'wait':
          now = new Date(now.getTime() + s.minutes * 60_000);
          return;
        case 'cancel':
          await cancelRequest(noHoldings(store), s.owner ? 'mer_p' : 'mer_other', 'req_p', now).catch(() => undefined);
          return;
        case 'redrive':
          await redrives.begin('requests');
          return;
      }
    },
  };
}

function check(request: HeraldRequest, writes: number): void {
  const moves = request.history.filter((row) => row.step === undefined);
  // Every row after the first is a move the table allows, and the rows chain into each other.
  expect(request.history[0]).toMatchObject({ from: null, to: 'accepted' });
  for (const row of moves.slice(1)) expect(ALLOWED.has(`${row.from}->${row.to}`)).toBe(true);
  expect(moves.at(-1)!.to).toBe(request.status);
  if (request.history.length < HISTORY_LIMIT) {
    for (let i = 1; i < moves.length; i++) expect(moves[i]!.from).toBe(moves[i - 1]!.to);
    // Nothing lost: one row per write (the version counts the writes).
    expect(moves.length).toBe(writes);
  }
  expect(request.history.length).toBeLessThanOrEqual(HISTORY_LIMIT);
  expect(request.attempts).toBeLessThanOrEqual(MAX_ATTEMPTS);
  if (request.status === 'cancelled') expect(moves.some((row) => row.to === 'processing')).toBe(false);
}

describe('the request lifecycle under any interleaving', () => {
  it('stays inside the transition table, keeps its history and runs no attempt twice', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
        const w = world();
        for (const s of steps) {
          await w.apply(s);
          const request = (await w.store.get('req_p'))!;
          check(request, request.version);
        }
        expect(new Set(w.runs).size).toBe(w.runs.length);
        expect(w.succeededRuns.length).toBeLessThanOrEqual(1);
        const final = (await w.store.get('req_p'))!;
        if (w.succeededRuns.length === 1) expect(final.status).toBe('succeeded');
        // Every request told to the listeners was terminal when told.
        for (const told of w.events.finished) expect(['succeeded', 'failed']).toContain(told.status);
      }),
      { numRuns: 300 },
    );
  });

  it('never lets a request run more attempts in a round than the cap, however many fresh messages arrive', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.constant<Step>({ kind: 'die' }), fc.constant<Step>({ kind: 'wait', minutes: 2 }), fc.record({ kind: fc.constant('deliver' as const), receiveCount: fc.constant(1), outcome: fc.constant('transient' as const) })), { maxLength: 80 }), async (steps) => {
        const w = world();
        for (const s of steps) await w.apply(s);
        const request = (await w.store.get('req_p'))!;
        expect(request.attempts).toBeLessThanOrEqual(MAX_ATTEMPTS);
        expect(w.runs.length).toBeLessThanOrEqual(MAX_ATTEMPTS);
      }),
      { numRuns: 200 },
    );
  });
});

/** A cancel with nothing to give back: these requests hold no quota slot and no ordering key. */
function noHoldings(store: InMemoryRequestStore): CancelDependencies {
  return { store, reader: store, quotas: { releaseInFlight: async () => undefined }, order: { withdraw: async () => undefined } };
}
