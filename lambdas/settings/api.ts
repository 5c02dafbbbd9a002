/** Bounds of the HTTP edge: the per-merchant rate limit and its 429, the authorizer's cache, the event streams. */

/**
 * The per-merchant request limit (stack prop and context `merchantRateLimit`, locally
 * `HERALD_MERCHANT_RATE_LIMIT`): requests per API key in a window of this many seconds, counted
 * by a WAF rate-based rule on AWS and by the gateway locally. One of WAF's evaluation windows
 * (60, 120, 300 or 600 s).
 */
export const merchantRateLimit = { windowSeconds: 300, minimum: 10 } as const;

/** The 429 problem of the rate limit, the same from the WAF rule's custom response and the local gateway. */
export function rateLimitProblem(limit: number, windowSeconds: number): Record<string, unknown> {
  return {
    type: 'https://herald.dev/problems/rate-limited',
    title: 'Too many requests',
    status: 429,
    detail: `This API key sent more than ${limit} requests in ${windowSeconds} seconds; retry after the time in Retry-After`,
  };
}

/** How long API Gateway caches an authorizer decision: a revoked key keeps working at most this long. */
export const AUTHORIZER_CACHE_TTL_SECONDS = 300;

/**
 * Routes the HTTP API cannot serve because they stream their answer: on AWS each is a Lambda
 * function URL in RESPONSE_STREAM mode (the stack outputs its base URL); the local runtime
 * serves them on its own port beside the API. The handler checks the API key itself.
 */
/**
 * Bounds of the event streams beside each stream's own (`DEFAULT_STREAM_LIMITS`): open streams a
 * merchant may hold at once (one more is a 429), each held by a lease that outlives a stream's
 * longest life by `leaseMarginSeconds`, so a stream whose function was cut off frees its slot.
 */
export const eventStreams = { maxOpenPerMerchant: 5, leaseMarginSeconds: 30 } as const;
