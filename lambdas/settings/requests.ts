/** Request defaults an operator may override, and the per-merchant quotas. */

/** Defaults an operator may override (stack props on AWS, environment locally). */
export const defaults = {
  requestRetentionDays: 30,
  /** Seconds a client is told to wait before polling a request that is not finished yet. */
  retryAfterSeconds: 1,
  /** An `accepted` request with no enqueue mark this long after its last change lost its SendMessage. */
  sweepUnenqueuedAfterSeconds: 60,
  /**
   * Submit writes the enqueue mark before SendMessage and clears it if the send fails; if the
   * clearing write fails too, the mark lies. Past this age the sweeper re-enqueues regardless.
   */
  sweepStaleEnqueueAfterSeconds: 15 * 60,
  /** Requests of each kind one sweeper run handles at most. */
  sweepBatchLimit: 100,
  /**
   * `Prefer: wait=N` on GET /v1/requests/{id} and POST /v1/requests: the longest wait served (a
   * longer one is cut to it; API Gateway's HTTP API ends an integration at 30 s), and how many
   * such calls one merchant may hold at once (more are answered without waiting).
   */
  waiting: { maxSeconds: 20, callsPerMerchant: 10 },
  /**
   * The requests queue's slow lane (docs/scale.md, "A slow lane"): a merchant's requests of a type
   * measured slower than `slowAfterMs` by a worker instance go to the slow lane's queue; the
   * measurement counts for `rememberSeconds`, and an instance tracks at most `maxTracked` pairs.
   */
  slowLane: { slowAfterMs: 1_000, rememberSeconds: 60, maxTracked: 1_000 },
} as const;

/**
 * Per-merchant quotas a deployment gets unless the operator chooses others (0 counts nothing).
 * The in-flight quota costs a write at every submit and every finish, and is on all the same:
 * without it one merchant's backlog holds the workers every other merchant waits for.
 */
export const merchantQuotaDefaults = { requestsInFlight: 100, smsPerDay: 100 } as const;
