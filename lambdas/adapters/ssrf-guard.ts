import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { assertPublicAddress, checkWebhookUrl, UnsafeWebhookUrlError, type CheckedUrl, type WebhookHostPolicy } from '../core/webhooks/webhook-url';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

/** Every address a host name resolves to (A and AAAA); injectable so tests can play DNS rebinding. */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

/** The system resolver, as node's own HTTP client would use it. */
export const systemResolver: Resolver = async (hostname) => {
  const addresses = await lookup(hostname, { all: true, verbatim: true });
  return addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
};

/** A URL that passed every check, with the address the connection must use (no second lookup). */
export interface WebhookTarget extends CheckedUrl {
  readonly address: string;
  readonly family: 4 | 6;
}

/** The lookup did not answer within the time the caller could give it (the attempt's own timeout). */
export class LookupTimeoutError extends Error {
  override readonly name = 'LookupTimeoutError';
  constructor(
    readonly hostname: string,
    readonly timeoutMs: number,
  ) {
    super(`the DNS lookup of ${hostname} did not answer within ${timeoutMs} ms`);
  }
}

/**
 * The SSRF guard, used at registration and again before every attempt (a host may resolve
 * elsewhere by then: DNS rebinding). Every address a name resolves to must be public, not just
 * the first, because the connection could be made to any of them; the sender then connects to
 * the address checked here. With an allow-list, other hosts are refused before any lookup.
 */
export class SsrfGuard {
  constructor(
    private readonly policy: WebhookHostPolicy,
    private readonly resolve: Resolver = systemResolver,
    private readonly maxUrlLength = 2048,
  ) {}

  /**
   * Checks a URL and resolves its host; throws `UnsafeWebhookUrlError` naming the rule it broke,
   * or `LookupTimeoutError` when `timeoutMs` is given and DNS takes longer (a slow resolver must
   * not stretch an attempt past its timeout: the lookup is abandoned, not awaited).
   */
  async check(raw: string, timeoutMs?: number): Promise<WebhookTarget> {
    const checked = checkWebhookUrl(raw, this.policy, this.maxUrlLength);
    if (checked.literal !== undefined) {
      return { ...checked, address: checked.literal, family: isIP(checked.literal) === 6 ? 6 : 4 };
    }
    let addresses: readonly ResolvedAddress[];
    try {
      addresses = await withTimeout(this.resolve(checked.hostname), timeoutMs, () => new LookupTimeoutError(checked.hostname, timeoutMs!));
    } catch (error) {
      if (error instanceof LookupTimeoutError) throw error;
      throw new UnsafeWebhookUrlError('unresolvable-host', `${checked.hostname} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (addresses.length === 0) throw new UnsafeWebhookUrlError('unresolvable-host', `${checked.hostname} has no addresses`);
    if (!checked.localReceiver) for (const { address } of addresses) assertPublicAddress(address, checked.hostname);
    const [first] = addresses;
    return { ...checked, address: first!.address, family: first!.family };
  }
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number | undefined, timedOut: () => Error): Promise<T> {
  if (timeoutMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), Math.max(timeoutMs, 0));
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
