import { merchantRateLimit, rateLimitProblem } from '../../lambdas/settings/api';

/** What the gateway answers instead of calling the route: 429 with the same problem the WAF rule returns on AWS. */
export interface RateLimited {
  readonly status: 429;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The per-merchant request limit of the local gateway: requests per merchant in a window of
 * `merchantRateLimit.windowSeconds`, on every route that takes an API key. The gateway names the
 * bucket (the merchant its authorizer resolved, or the key itself when it names no merchant), so
 * no spelling of the header opens another. On AWS the stack's WAF rule counts per normalised
 * `Authorization` header, one bucket per key (docs/security.md). Each bucket's window starts with
 * its first request; when it is full the request is answered 429 with `Retry-After` until it
 * ends. Windows are forgotten once over, so the map holds at most the buckets seen in one window.
 */
export class MerchantRateLimiter {
  private readonly windows = new Map<string, { readonly endsAt: number; count: number }>();

  constructor(
    readonly limit: number,
    private readonly windowSeconds = merchantRateLimit.windowSeconds,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`The request limit must be a whole number of 1 or more, got ${limit}`);
  }

  /** Counts one request of the bucket; the 429 to answer when the bucket's window is already full. */
  check(bucket: string): RateLimited | undefined {
    const now = this.now();
    this.forgetEndedWindows(now);
    let window = this.windows.get(bucket);
    if (!window) {
      window = { endsAt: now + this.windowSeconds * 1000, count: 0 };
      this.windows.set(bucket, window);
    }
    if (window.count >= this.limit) return tooManyRequests(Math.max(Math.ceil((window.endsAt - now) / 1000), 1), this.limit, this.windowSeconds);
    window.count += 1;
    return undefined;
  }

  private forgetEndedWindows(now: number): void {
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}

function tooManyRequests(retryAfterSeconds: number, limit: number, windowSeconds: number): RateLimited {
  return {
    status: 429,
    headers: { 'Content-Type': 'application/problem+json', 'Retry-After': String(retryAfterSeconds) },
    body: JSON.stringify(rateLimitProblem(limit, windowSeconds)),
  };
}
