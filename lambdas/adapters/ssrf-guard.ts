import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { assertPublicAddress, checkWebhookUrl, UnsafeWebhookUrlError, type CheckedUrl } from '../core/webhook-url';

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

/**
 * The SSRF guard, used at registration and again before every attempt (a host may resolve
 * elsewhere by then: DNS rebinding). Every address a name resolves to must be public, not just
 * the first, because the connection could be made to any of them; the sender then connects to
 * the address checked here.
 */
export class SsrfGuard {
  constructor(
    private readonly allowedHosts: ReadonlySet<string>,
    private readonly resolve: Resolver = systemResolver,
    private readonly maxUrlLength = 2048,
  ) {}

  /** Checks a URL and resolves its host; throws `UnsafeWebhookUrlError` naming the rule it broke. */
  async check(raw: string): Promise<WebhookTarget> {
    const checked = checkWebhookUrl(raw, this.allowedHosts, this.maxUrlLength);
    if (checked.literal !== undefined) {
      return { ...checked, address: checked.literal, family: isIP(checked.literal) === 6 ? 6 : 4 };
    }
    let addresses: readonly ResolvedAddress[];
    try {
      addresses = await this.resolve(checked.hostname);
    } catch (error) {
      throw new UnsafeWebhookUrlError('unresolvable-host', `${checked.hostname} does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (addresses.length === 0) throw new UnsafeWebhookUrlError('unresolvable-host', `${checked.hostname} has no addresses`);
    if (!checked.allowListed) for (const { address } of addresses) assertPublicAddress(address, checked.hostname);
    const [first] = addresses;
    return { ...checked, address: first!.address, family: first!.family };
  }
}
