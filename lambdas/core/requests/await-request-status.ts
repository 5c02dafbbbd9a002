import { getRequestStatus, type RequestStatusReply, type RequestStatusDependencies, type RequestStatusQuery } from './get-request-status';
import type { WaitingCalls } from './waiting-calls';

export interface AwaitRequestDependencies extends RequestStatusDependencies {
  /** Absent: waits are not bounded per merchant (tests, a single-tenant runtime). */
  readonly waiting?: { readonly calls: WaitingCalls; readonly perMerchant: number };
  readonly clock: { now(): number; sleep(ms: number): Promise<void> };
}

export interface AwaitRequestQuery extends RequestStatusQuery {
  /** Seconds to hold the answer at most (already capped by the caller). */
  readonly waitSeconds: number;
  /**
   * `change`: until the request (its deliveries and notifications included) differs from the copy
   * the client holds (`ifNoneMatch`), or from the state at arrival when it sent none.
   * `terminal`: until the request has finished.
   */
  readonly until: 'change' | 'terminal';
  /** Identifies this call among the merchant's waiting calls. */
  readonly callId: string;
}

/** A status answer, and whether the wait the client preferred was honoured (false when none was asked or the merchant had too many). */
export type AwaitedStatus = RequestStatusReply & { readonly waited: boolean };

/**
 * Time between reads while waiting: short at first, when a request that runs briefly is about to
 * end, then at most 500 ms, so a change is answered well within a second of its write at a
 * bounded number of reads (42 over a 20 s wait).
 */
export const WAIT_READ_INTERVALS_MS = { first: 100, growth: 1.5, max: 500 } as const;

/**
 * How long a call waits before it takes a place among its merchant's waiting calls. Most waits end
 * sooner (a short request finishes within it), and those pay neither of the two writes the count
 * costs, which on AWS are more than the call's own reads and function time in that second. What the
 * bound is for, a merchant holding many functions for up to 20 s each, is unchanged: no call waits
 * past this mark uncounted.
 */
export const UNCOUNTED_WAIT_MS = 1_000;

/**
 * One request's status, held back until it changes or `waitSeconds` pass (`Prefer: wait`, RFC
 * 7240): the long-poll that replaces a client's polling loop. With nothing to wait for (no wait
 * asked, the client's copy already stale, or a finished request asked without a copy) it answers
 * at once, like `getRequestStatus`. A call counts among its merchant's waiting calls from
 * `UNCOUNTED_WAIT_MS` on; one over the bound then is answered at that point, with `waited: false`,
 * since a preference is a hint and never a reason to fail.
 *
 * @example
 * const status = await awaitRequestStatus(deps, { merchantId, id, ifNoneMatch, waitSeconds: 20, until: 'change', callId });
 * if (status.notModified) return empty(304, { ETag: status.etag }); // nothing changed in 20 s
 */
export async function awaitRequestStatus(deps: AwaitRequestDependencies, query: AwaitRequestQuery): Promise<AwaitedStatus> {
  const first = await getRequestStatus(deps, query);
  if (query.waitSeconds <= 0 || settled(first, query)) return { ...first, waited: query.waitSeconds > 0 };

  const startedMs = deps.clock.now();
  const untilMs = startedMs + query.waitSeconds * 1000;
  // Without a copy from the client, the state at arrival is what it is waiting to see change.
  const baseline = query.ifNoneMatch ?? first.etag;
  let counted = false;
  try {
    let interval: number = WAIT_READ_INTERVALS_MS.first;
    for (;;) {
      const now = deps.clock.now();
      const left = untilMs - now;
      if (left <= 0) break;
      if (deps.waiting && !counted && now - startedMs >= UNCOUNTED_WAIT_MS) {
        if (!(await deps.waiting.calls.enter(query.merchantId, query.callId, untilMs, deps.waiting.perMerchant, now))) return { ...first, waited: false };
        counted = true;
      }
      // The read that crosses the uncounted stretch comes at its end, so no call waits past it uncounted.
      const toMark = counted || !deps.waiting ? left : startedMs + UNCOUNTED_WAIT_MS - now;
      await deps.clock.sleep(Math.min(interval, left, toMark));
      interval = Math.min(interval * WAIT_READ_INTERVALS_MS.growth, WAIT_READ_INTERVALS_MS.max);
      const current = await getRequestStatus(deps, { ...query, ifNoneMatch: query.until === 'change' ? baseline : undefined });
      if (query.until === 'change' ? !current.notModified : current.retryAfterSeconds === undefined) return { ...current, waited: true };
    }
  } finally {
    if (counted) await deps.waiting?.calls.leave(query.merchantId, query.callId, untilMs);
  }
  // Nothing changed: the client's copy is still current (a 304), or the state at arrival is.
  return { ...first, waited: true };
}

function settled(first: RequestStatusReply, query: AwaitRequestQuery): boolean {
  const finished = first.retryAfterSeconds === undefined;
  if (query.until === 'terminal') return finished;
  return query.ifNoneMatch ? !first.notModified : finished;
}
