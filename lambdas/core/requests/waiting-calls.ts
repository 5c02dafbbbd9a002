/**
 * Calls that hold their answer while a request changes (`Prefer: wait`). Each holds a function
 * instance for up to the wait, so a merchant may have only a bounded number at once; a call over
 * the bound is answered at once instead, without `Preference-Applied` (a preference is a hint).
 */
export interface WaitingCalls {
  /**
   * Counts one waiting call of the merchant until `untilMs` (epoch ms) unless `limit` others are
   * counted; false when full. A call whose holder died stops counting once `untilMs` passes.
   */
  enter(merchantId: string, callId: string, untilMs: number, limit: number, nowMs: number): Promise<boolean>;
  /** Stops counting the call; leaving twice, or after it expired, changes nothing. */
  leave(merchantId: string, callId: string, untilMs: number): Promise<void>;
}

/** The member a waiting call is counted by: its expiry first, so an expired one is known without a read. */
export function waitingCallMember(callId: string, untilMs: number): string {
  return `${untilMs}:${callId}`;
}

/** The members among `members` whose calls ended by `nowMs` without leaving (their holder died). */
export function expiredWaitingCalls(members: Iterable<string>, nowMs: number): string[] {
  return [...members].filter((member) => {
    const untilMs = Number(member.slice(0, member.indexOf(':')));
    return !Number.isFinite(untilMs) || untilMs <= nowMs;
  });
}
