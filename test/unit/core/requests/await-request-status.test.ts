import { awaitRequestStatus, type AwaitRequestDependencies } from '../../../../lambdas/core/requests/await-request-status';
import type { HeraldRequest, RequestStatus } from '../../../../lambdas/core/requests/request';
import { expiredWaitingCalls, waitingCallMember, type WaitingCalls } from '../../../../lambdas/core/requests/waiting-calls';

const AT = '2026-03-01T10:00:00.000Z';

function request(status: RequestStatus, version: number): HeraldRequest {
  return {
    id: 'req_1',
    merchantId: 'mer_a',
    type: 'demo.sleep',
    payload: {},
    status,
    version,
    attempts: status === 'accepted' ? 0 : 1,
    idempotencyKey: 'k-1',
    webhookEvents: false,
    history: [{ from: null, to: 'accepted', at: AT, attempt: 0 }],
    createdAt: AT,
    updatedAt: AT,
  };
}

/**
 * A virtual clock and a request whose stored state follows a script of (time ms, state): reads
 * see the latest state whose time has come, and sleeping only moves the clock.
 */
function world(script: Array<[number, HeraldRequest]>, calls?: WaitingCalls) {
  let now = 0;
  const reads: number[] = [];
  const deps: AwaitRequestDependencies = {
    requests: {
      getWithRecordsForMerchant: async (merchantId, id) => {
        reads.push(now);
        const current = script.filter(([at]) => at <= now).at(-1)?.[1];
        return current && current.merchantId === merchantId && current.id === id ? { request: current, deliveries: [], notifications: [] } : undefined;
      },
    },
    expectedSeconds: () => 1,
    clock: { now: () => now, sleep: async (ms) => void (now += ms) },
    ...(calls ? { waiting: { calls, perMerchant: 2 } } : {}),
  };
  return { deps, reads, now: () => now };
}

const query = { merchantId: 'mer_a', id: 'req_1', callId: 'c1' } as const;

describe('awaitRequestStatus', () => {
  it('returns at the first read after the request changes from the client\'s copy', async () => {
    const { deps, now } = world([[0, request('processing', 2)], [3_000, request('succeeded', 3)]]);
    const copy = (await awaitRequestStatus(deps, { ...query, waitSeconds: 0, until: 'change' })).etag;

    const answer = await awaitRequestStatus(deps, { ...query, ifNoneMatch: copy, waitSeconds: 20, until: 'change' });

    expect(answer).toMatchObject({ notModified: false, waited: true, view: { status: 'succeeded' } });
    // Reads at most 500 ms apart: the change at 3 s is seen by 3.5 s.
    expect(now()).toBeGreaterThanOrEqual(3_000);
    expect(now()).toBeLessThanOrEqual(3_500);
  });

  it('answers not modified after the whole wait when nothing changed, reading at most every 500 ms', async () => {
    const { deps, reads, now } = world([[0, request('processing', 2)]]);
    const copy = (await awaitRequestStatus(deps, { ...query, waitSeconds: 0, until: 'change' })).etag;
    reads.length = 0;

    const answer = await awaitRequestStatus(deps, { ...query, ifNoneMatch: copy, waitSeconds: 20, until: 'change' });

    expect(answer).toMatchObject({ notModified: true, waited: true, etag: copy });
    expect(now()).toBe(20_000);
    expect(reads.length).toBeLessThanOrEqual(1 + 20_000 / 500 + 5);
    const gaps = reads.slice(1).map((at, i) => at - reads[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(500);
  });

  it('waits for a change from the state at arrival when the client holds no copy', async () => {
    const { deps, now } = world([[0, request('processing', 2)], [1_000, request('succeeded', 3)]]);
    const answer = await awaitRequestStatus(deps, { ...query, waitSeconds: 5, until: 'change' });
    expect(answer).toMatchObject({ notModified: false, view: { status: 'succeeded' } });
    expect(now()).toBeGreaterThanOrEqual(1_000);
  });

  it('does not wait for a finished request asked without a copy', async () => {
    const { deps, now } = world([[0, request('succeeded', 3)]]);
    const answer = await awaitRequestStatus(deps, { ...query, waitSeconds: 20, until: 'change' });
    expect(answer).toMatchObject({ notModified: false, view: { status: 'succeeded' } });
    expect(now()).toBe(0);
  });

  it('waits until the end for a submit, skipping intermediate changes', async () => {
    const { deps, now } = world([[0, request('accepted', 1)], [200, request('processing', 2)], [2_000, request('succeeded', 3)]]);
    const answer = await awaitRequestStatus(deps, { ...query, waitSeconds: 5, until: 'terminal' });
    expect(answer).toMatchObject({ notModified: false, view: { status: 'succeeded' } });
    expect(now()).toBeGreaterThanOrEqual(2_000);
  });

  it('gives up its place among the merchant\'s waiting calls however it ends, and answers at once when they are full', async () => {
    const members = new Set<string>();
    const calls: WaitingCalls = {
      enter: async (_merchant, callId, untilMs, limit, nowMs) => {
        for (const expired of expiredWaitingCalls(members, nowMs)) members.delete(expired);
        if (members.size >= limit) return false;
        members.add(waitingCallMember(callId, untilMs));
        return true;
      },
      leave: async (_merchant, callId, untilMs) => void members.delete(waitingCallMember(callId, untilMs)),
    };
    const { deps, now } = world([[0, request('processing', 2)]], calls);
    const copy = (await awaitRequestStatus(deps, { ...query, waitSeconds: 0, until: 'change' })).etag;

    await awaitRequestStatus(deps, { ...query, ifNoneMatch: copy, waitSeconds: 1, until: 'change' });
    expect(members.size).toBe(0);

    // Two calls held by functions that died (their members stay until they expire).
    members.add(waitingCallMember('dead-1', now() + 60_000));
    members.add(waitingCallMember('dead-2', now() + 60_000));
    const refused = await awaitRequestStatus(deps, { ...query, ifNoneMatch: copy, waitSeconds: 5, callId: 'c2', until: 'change' });
    expect(refused).toMatchObject({ notModified: true, waited: false });
  });
});

describe('the waiting-call count, taken only past the first second', () => {
  function countingCalls(limit: number) {
    const entered: number[] = [];
    let left = 0;
    let members = 0;
    const calls: WaitingCalls = {
      enter: async (_merchant, _callId, _untilMs, _limit, nowMs) => {
        entered.push(nowMs);
        if (members >= limit) return false;
        members++;
        return true;
      },
      leave: async () => {
        left++;
        members--;
      },
    };
    return { calls, entered, left: () => left };
  }

  it('writes nothing for a wait that ends within its first second', async () => {
    const counting = countingCalls(2);
    const { deps, now } = world([[0, request('processing', 2)], [700, request('succeeded', 3)]], counting.calls);
    const answer = await awaitRequestStatus(deps, { ...query, waitSeconds: 20, until: 'change' });
    expect(answer).toMatchObject({ notModified: false, waited: true, view: { status: 'succeeded' } });
    expect(now()).toBeLessThan(1_000);
    expect(counting.entered).toEqual([]);
    expect(counting.left()).toBe(0);
  });

  it('takes its place at the end of the first second and gives it up when the wait ends', async () => {
    const counting = countingCalls(2);
    const { deps, now } = world([[0, request('processing', 2)], [3_000, request('succeeded', 3)]], counting.calls);
    const answer = await awaitRequestStatus(deps, { ...query, waitSeconds: 20, until: 'change' });
    expect(answer).toMatchObject({ notModified: false, waited: true, view: { status: 'succeeded' } });
    expect(now()).toBeLessThanOrEqual(3_500);
    expect(counting.entered).toEqual([1_000]);
    expect(counting.left()).toBe(1);
  });

  it('answers a call over the bound at the end of its first second, without the wait applied', async () => {
    const counting = countingCalls(0);
    const { deps, now } = world([[0, request('processing', 2)]], counting.calls);
    const copy = (await awaitRequestStatus(deps, { ...query, waitSeconds: 0, until: 'change' })).etag;
    const answer = await awaitRequestStatus(deps, { ...query, ifNoneMatch: copy, waitSeconds: 20, until: 'change' });
    expect(answer).toMatchObject({ notModified: true, waited: false });
    expect(now()).toBe(1_000);
    expect(counting.left()).toBe(0);
  });
});

describe('expiredWaitingCalls', () => {
  it('finds the members whose expiry has passed, and any it cannot read', () => {
    expect(expiredWaitingCalls(['1000:a', '3000:b', 'junk', '2000:c'], 2_000).sort()).toEqual(['1000:a', '2000:c', 'junk']);
  });
});
