import { merchantRateLimit, rateLimitProblem } from '../topology';

/** What the gateway answers instead of calling the route: 429 with the same problem the WAF rule returns on AWS. */
export interface RateLimited {
  readonly status: 429;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The per-merchant request limit of the local gateway, counted the way the stack's WAF
 * rate-based rule counts on AWS: requests per API key (the `Authorization` header) in a window of
 * `merchantRateLimit.windowSeconds`, before the authorizer runs. Each key's window starts with its
 * first request; when it is full the request is answered 429 with `Retry-After` until it ends.
 * Windows are forgotten once over, so the map holds at most the keys seen in one window.
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

  /** Counts one request of the key; the 429 to answer when the key's window is already full. */
  check(authorization: string): RateLimited | undefined {
    const now = this.now();
    this.forgetEndedWindows(now);
    let window = this.windows.get(authorization);
    if (!window) {
      window = { endsAt: now + this.windowSeconds * 1000, count: 0 };
      this.windows.set(authorization, window);
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
