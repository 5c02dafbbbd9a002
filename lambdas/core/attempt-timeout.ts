/**
 * How long one delivery attempt may wait for its receiver's answer.
 *
 * A delivery invocation lasts until its slowest record, so a receiver that hangs holds a whole
 * batch's worker slot for the attempt timeout, and fair queues fill a batch with a hanging
 * endpoint's messages whenever too few others wait. Before any circuit can open (the first
 * timeout has to end first) every worker slot can be held that way; the fleet simulation measured
 * that window as what pushes every other endpoint's p99 latency up (docs/scale.md, Fairness).
 *
 * So the first attempt of a delivery waits only `firstAttemptTimeoutMs`, far above a healthy
 * receiver's answer time, and every retry waits the full attempt timeout: a receiver that is
 * merely slow still gets its full time, one backoff later, while a hanging one holds a slot for
 * the short budget on most of its messages.
 */
export interface AttemptTimeouts {
  /** The first attempt's budget; absent: every attempt gets the transport's full timeout. */
  readonly firstAttemptTimeoutMs?: number;
}

/** The budget attempt number `attempt` (1-based) gets, or undefined for the transport's full timeout. */
export function attemptTimeoutMs(attempt: number, timeouts: AttemptTimeouts): number | undefined {
  return attempt === 1 ? timeouts.firstAttemptTimeoutMs : undefined;
}
