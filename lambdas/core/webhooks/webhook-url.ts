import ipaddr from 'ipaddr.js';
import { HeraldError } from '../shared/errors';

/**
 * The rules a webhook URL must pass before Herald will send anything to it (SSRF): https only,
 * no credentials, no numeric tricks, a host on the operator's allow-list when there is one, and a
 * host that is, or resolves to, public unicast addresses only. Only the local runtime knows a
 * second list, of receivers on this machine that may use plain http at loopback addresses; the
 * stack refuses that setting. This file holds the pure part; `adapters/ssrf-guard.ts` adds DNS.
 */

export type UnsafeUrlReason =
  | 'url-too-long'
  | 'invalid-url'
  | 'scheme-not-allowed'
  | 'https-required'
  | 'credentials-in-url'
  | 'numeric-ip-notation'
  | 'host-not-allowed'
  | 'non-public-address'
  | 'unresolvable-host';

/** A URL Herald refuses to call, with the rule it broke; a 400 at registration, a failed attempt at delivery. */
export class UnsafeWebhookUrlError extends HeraldError {
  override readonly name = 'UnsafeWebhookUrlError';

  constructor(
    readonly reason: UnsafeUrlReason,
    detail: string,
  ) {
    super('unsafe-webhook-url', `The webhook URL is not allowed (${reason}): ${detail}`);
  }
}

export interface CheckedUrl {
  readonly url: URL;
  /** The host as it goes into SNI and the Host header (no brackets for IPv6). */
  readonly hostname: string;
  /** An IP literal's address; hostnames are resolved by the guard. */
  readonly literal?: string;
  /** A local runtime's receiver on this machine: plain http and loopback addresses are fine. */
  readonly localReceiver: boolean;
}

/**
 * Which hosts webhooks may target. `allowedHosts` restricts: when it lists any, every other host
 * is refused, and the listed ones still need https and public addresses. `localReceivers` relaxes
 * (plain http, loopback and private addresses) and exists for the local runtime only.
 */
export interface WebhookHostPolicy {
  readonly allowedHosts: ReadonlySet<string>;
  readonly localReceivers: ReadonlySet<string>;
}

/** Any public host over https; what a deployment without an allow-list gets. */
export const OPEN_HOST_POLICY: WebhookHostPolicy = { allowedHosts: new Set(), localReceivers: new Set() };

/** Parses a comma-separated list of exact host names, case-insensitive (the form both settings take). */
export function parseHostList(raw: string | undefined): ReadonlySet<string> {
  return new Set(
    (raw ?? '')
      .split(',')
      .map((host) => host.trim().toLowerCase().replace(/^\[|\]$/g, ''))
      .filter((host) => host !== ''),
  );
}

/**
 * The policy from its two settings as they arrive in the environment (`HERALD_ALLOWED_WEBHOOK_HOSTS`
 * and, locally only, `HERALD_LOCAL_WEBHOOK_HOSTS`).
 *
 * @example webhookHostPolicy('hooks.example.com', undefined).allowedHosts.has('hooks.example.com') === true
 */
export function webhookHostPolicy(allowedHosts: string | undefined, localReceivers: string | undefined): WebhookHostPolicy {
  return { allowedHosts: parseHostList(allowedHosts), localReceivers: parseHostList(localReceivers) };
}

/**
 * Checks everything about a URL that needs no DNS. IPv4 hosts must be written as four plain
 * decimal parts: WHATWG URL parsing would quietly turn `2130706433`, `0x7f.1` or `0177.0.0.1`
 * into 127.0.0.1, and such spellings exist only to slip past filters.
 *
 * @example checkWebhookUrl('https://hooks.example.com/herald', OPEN_HOST_POLICY).hostname === 'hooks.example.com'
 */
export function checkWebhookUrl(raw: string, policy: WebhookHostPolicy, maxLength = 2048): CheckedUrl {
  if (raw.length > maxLength) throw new UnsafeWebhookUrlError('url-too-long', `it is ${raw.length} characters; the limit is ${maxLength}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeWebhookUrlError('invalid-url', 'it is not an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UnsafeWebhookUrlError('scheme-not-allowed', `the scheme ${url.protocol.replace(/:$/, '')} is not http(s)`);
  }
  if (url.username !== '' || url.password !== '' || /^[a-z]+:\/\/[^/?#]*@/i.test(raw)) {
    throw new UnsafeWebhookUrlError('credentials-in-url', 'URLs with a user name or password are refused; authenticate with the signature');
  }
  const rawHost = rawHostOf(raw);
  if (rawHost !== undefined && looksNumeric(rawHost) && !ipaddr.IPv4.isValidFourPartDecimal(rawHost)) {
    throw new UnsafeWebhookUrlError('numeric-ip-notation', `the host ${rawHost} is an IPv4 address in a non-standard notation`);
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (hostname === '') throw new UnsafeWebhookUrlError('invalid-url', 'it has no host');
  const localReceiver = policy.localReceivers.has(hostname);
  if (!localReceiver && policy.allowedHosts.size > 0 && !policy.allowedHosts.has(hostname)) {
    throw new UnsafeWebhookUrlError('host-not-allowed', `${hostname} is not on the operator's list of webhook hosts`);
  }
  if (url.protocol === 'http:' && !localReceiver) {
    throw new UnsafeWebhookUrlError('https-required', 'only https URLs are accepted');
  }
  const literal = ipaddr.isValid(hostname) ? hostname : undefined;
  if (literal !== undefined && !localReceiver) assertPublicAddress(literal, hostname);
  return { url, hostname, ...(literal !== undefined ? { literal } : {}), localReceiver };
}

/**
 * Throws unless the address is public unicast. Everything ipaddr.js puts in a special range is
 * refused: loopback, RFC 1918, CGNAT, link-local (169.254.169.254), multicast, broadcast,
 * reserved and documentation ranges, unspecified, ULA, and IPv6 forms that embed an IPv4
 * address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo), whatever address they embed.
 */
export function assertPublicAddress(address: string, host: string): void {
  const range = addressRange(address);
  if (range !== 'unicast') {
    const shown = host === address ? address : `${host} resolves to ${address}`;
    throw new UnsafeWebhookUrlError('non-public-address', `${shown}, which is a ${describeRange(range)} address`);
  }
}

/** The ipaddr.js range of an address (`unicast` for public ones), or `invalid`. */
export function addressRange(address: string): string {
  if (!ipaddr.isValid(address)) return 'invalid';
  const parsed = ipaddr.parse(address);
  // ipaddr.js calls the deprecated IPv4-compatible form (::a.b.c.d, e.g. ::7f00:1) unicast, yet
  // some stacks route it to the IPv4 address it embeds: the whole ::/96 block is refused.
  if (parsed.kind() === 'ipv6' && parsed.range() === 'unicast' && (parsed as ipaddr.IPv6).parts.slice(0, 6).every((part) => part === 0)) {
    return 'ipv4Compatible';
  }
  return parsed.range();
}

const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback',
  private: 'private (RFC 1918)',
  carrierGradeNat: 'carrier-grade NAT',
  linkLocal: 'link-local',
  multicast: 'multicast',
  broadcast: 'broadcast',
  unspecified: 'unspecified',
  reserved: 'reserved',
  uniqueLocal: 'unique local (IPv6)',
  ipv4Mapped: 'IPv4-mapped IPv6',
  ipv4Compatible: 'IPv4-compatible IPv6',
  rfc6052: 'NAT64',
  rfc6145: 'IPv4-translated IPv6',
  '6to4': '6to4',
  teredo: 'Teredo',
};

function describeRange(range: string): string {
  return RANGE_NAMES[range] ?? `non-public (${range})`;
}

/** The host exactly as written, before WHATWG normalization; undefined for IPv6 literals and odd input. */
function rawHostOf(raw: string): string | undefined {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#\\]*)/i.exec(raw)?.[1];
  if (authority === undefined) return undefined;
  const host = authority.slice(authority.lastIndexOf('@') + 1);
  if (host.startsWith('[')) return undefined;
  return host.replace(/:\d*$/, '').toLowerCase();
}

/** Hosts made only of numbers, hex numbers and dots: what URL parsers read as IPv4. */
function looksNumeric(host: string): boolean {
  const parts = host.split('.');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.length > 0 && parts.every((part) => /^(0x[0-9a-f]*|\d+)$/i.test(part));
}
