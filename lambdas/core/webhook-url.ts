import ipaddr from 'ipaddr.js';
import { HeraldError } from './errors';

/**
 * The rules a webhook URL must pass before Herald will send anything to it (SSRF): https only,
 * no credentials, no numeric tricks, and a host that is, or resolves to, public unicast addresses
 * only. Hosts on the operator's allow-list may use plain http and private addresses (local demos).
 * This file holds the pure part; `adapters/ssrf-guard.ts` adds DNS.
 */

export type UnsafeUrlReason =
  | 'url-too-long'
  | 'invalid-url'
  | 'scheme-not-allowed'
  | 'https-required'
  | 'credentials-in-url'
  | 'numeric-ip-notation'
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
  /** On the operator's allow-list: plain http and private addresses are fine. */
  readonly allowListed: boolean;
}

/** Parses `HERALD_ALLOWED_WEBHOOK_HOSTS`: comma-separated exact host names, case-insensitive. */
export function parseAllowedHosts(raw: string | undefined): ReadonlySet<string> {
  return new Set(
    (raw ?? '')
      .split(',')
      .map((host) => host.trim().toLowerCase())
      .filter((host) => host !== ''),
  );
}

/**
 * Checks everything about a URL that needs no DNS. IPv4 hosts must be written as four plain
 * decimal parts: WHATWG URL parsing would quietly turn `2130706433`, `0x7f.1` or `0177.0.0.1`
 * into 127.0.0.1, and such spellings exist only to slip past filters.
 *
 * @example checkWebhookUrl('https://hooks.example.com/herald', new Set()).hostname === 'hooks.example.com'
 */
export function checkWebhookUrl(raw: string, allowedHosts: ReadonlySet<string>, maxLength = 2048): CheckedUrl {
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
  const allowListed = allowedHosts.has(hostname) || allowedHosts.has(url.hostname.toLowerCase());
  if (url.protocol === 'http:' && !allowListed) {
    throw new UnsafeWebhookUrlError('https-required', 'only https URLs are accepted');
  }
  const literal = ipaddr.isValid(hostname) ? hostname : undefined;
  if (literal !== undefined && !allowListed) assertPublicAddress(literal, hostname);
  return { url, hostname, ...(literal !== undefined ? { literal } : {}), allowListed };
}

/**
 * Throws unless the address is public unicast. Everything ipaddr.js puts in a special range is
 * refused: loopback, RFC 1918, CGNAT, link-local (169.254.169.254), multicast, broadcast,
 * reserved and documentation ranges, unspecified, ULA, and IPv6 forms that embed an IPv4
 * address (IPv4-mapped, NAT64, 6to4, Teredo), whatever address they embed.
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
  return ipaddr.parse(address).range();
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
