/** Webhook limits and the rules that disable a failing endpoint. */

export const webhookDefaults = {
  maxEndpointsPerMerchant: 20,
  maxUrlLength: 2048,
  /** How long a rotated-out secret keeps signing next to the new one. */
  previousSecretHours: 24,
  /** Consecutive dead deliveries that disable an endpoint (override: ENV.webhookDeadStreakLimit). */
  deadStreakLimit: 5,
  /** An endpoint whose attempts have all failed for this long is disabled. */
  failingDaysLimit: 5,
  /** How far back POST /v1/webhooks/{id}/recover may reach. */
  recoverMaxDays: 14,
  /** Total time one attempt may take, and the part of it the connection may take. */
  attemptTimeoutMs: 10_000,
  connectTimeoutMs: 3_000,
  /**
   * The first attempt of a delivery waits this long; retries wait `attemptTimeoutMs`
   * (lambdas/core/webhooks/attempt-timeout.ts): a hanging endpoint then holds the shared workers
   * for 3 s, not 10 s, on most of its messages (docs/scale.md, Fairness).
   */
  firstAttemptTimeoutMs: 3_000,
  /**
   * Bytes of a receiver's response body the transport reads before it stops; the attempt keeps only
   * the first RESPONSE_EXCERPT_BYTES (1,024) of them (lambdas/core/webhooks/endpoint.ts).
   */
  responseReadBytes: 2048,
  /**
   * How long the process worker holds a record's delivery messages for the other records of its
   * batch, so that they share one SendMessageBatch call; they go sooner once no record can add more.
   */
  fanOutGatherMs: 200,
  /** How long a Lambda reuses an endpoint it read: a change reaches deliveries within this time. */
  endpointCacheSeconds: 10,
  /** A pending delivery whose next attempt is this overdue has lost its message: the sweeper re-enqueues it. */
  sweepGraceSeconds: 15 * 60,
  sweepBatchLimit: 100,
  /**
   * The per-endpoint circuit breaker (lambdas/core/webhooks/circuit-breaker.ts): after this many timeouts
   * or 5xx in a row a delivering instance reschedules the endpoint's deliveries without a POST
   * for the cool-down, then lets one probe through; each failed probe doubles the cool-down up to
   * the maximum. A skipped delivery goes back on a new message (SQS takes up to 900 s of delay),
   * so skips never spend the attempts that lead to the DLQ.
   */
  circuitBreaker: { failureThreshold: 3, coolDownSeconds: 30, maxCoolDownSeconds: 600 },
} as const;
