import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The header the console's page sends its per-run token in (the page carries it in a `<meta>`). */
export const CONSOLE_TOKEN_HEADER = 'x-herald-console-token';

/** What the gateway answers instead of a guarded route. */
export interface LocalRouteRefusal {
  readonly status: 421 | 403;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Methods that only read; every other method changes something and must come from the console itself. */
const READ_ONLY_METHODS = new Set(['GET', 'HEAD']);

/**
 * Keeps web pages away from the console and the `/local/*` routes, which act with the demo
 * merchant's key and have no authentication of their own. Listening on 127.0.0.1 keeps other
 * machines out, but not a page in the developer's browser:
 *
 * - DNS rebinding: a page at `attacker.example`, whose name is made to resolve to 127.0.0.1, is
 *   same-origin with itself and reads whatever this port answers. Its requests still name
 *   `attacker.example` in `Host`, so only the loopback names the runtime printed are served
 *   (`127.0.0.1:<port>`, and `localhost:<port>`, which no page can rebind); anything else is 421.
 * - Cross-site requests: any page may POST here (a form, or `fetch` with a `text/plain` body needs
 *   no preflight) even though it cannot read the answer. A request that is not GET or HEAD must
 *   carry the console's own origin in `Origin`, which browsers set and pages cannot, or the
 *   per-run token embedded in the console's page; anything else is 403.
 *
 * Programs on this machine that post here (the notifier's SMS sender, the chaos run) send that
 * `Origin` themselves: a header no browser lets a foreign page set.
 */
export class LocalRouteGuard {
  private readonly token: Buffer;

  constructor(token: string) {
    if (token.length < 32) throw new RangeError('The console token must be at least 32 characters');
    this.token = Buffer.from(token);
  }

  /** The paths it protects: the console's page and every local-only route. */
  static covers(path: string): boolean {
    return path === '/' || path.startsWith('/local/');
  }

  /** The refusal to answer for this request to a guarded path on `port`; undefined when it may be served. */
  check(request: IncomingMessage, port: number): LocalRouteRefusal | undefined {
    const host = (request.headers.host ?? '').toLowerCase();
    const allowedHosts = loopbackHosts(port);
    if (!allowedHosts.includes(host)) {
      return refusal(
        421,
        'misdirected-request',
        'Misdirected Request',
        `This runtime serves its console and /local/ routes only as http://${allowedHosts.join(' or http://')}; the request named Host ${JSON.stringify(truncate(request.headers.host ?? ''))}`,
      );
    }
    if (READ_ONLY_METHODS.has((request.method ?? 'GET').toUpperCase())) return undefined;
    const origin = request.headers.origin;
    if (origin !== undefined && origin.toLowerCase() === `http://${host}`) return undefined;
    if (this.hasToken(request.headers[CONSOLE_TOKEN_HEADER])) return undefined;
    return refusal(
      403,
      'cross-site-request',
      'Forbidden',
      origin === undefined
        ? `A ${request.method} to a local route must come from the console: send Origin http://${host} or the console page's ${CONSOLE_TOKEN_HEADER}`
        : `A ${request.method} to a local route must come from the console, not from ${JSON.stringify(truncate(origin))}: send Origin http://${host} or the console page's ${CONSOLE_TOKEN_HEADER}`,
    );
  }

  private hasToken(sent: string | string[] | undefined): boolean {
    if (typeof sent !== 'string') return false;
    const candidate = Buffer.from(sent);
    return candidate.length === this.token.length && timingSafeEqual(candidate, this.token);
  }
}

/** The `Host` values under which the runtime on `port` is reached from this machine. */
export function loopbackHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

function refusal(status: 421 | 403, code: string, title: string, detail: string): LocalRouteRefusal {
  return {
    status,
    headers: { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' },
    body: JSON.stringify({ type: `https://herald.dev/problems/${code}`, title, status, detail }),
  };
}

/** Header values are the sender's: quoted back in a detail, but never at any length. */
function truncate(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}…` : value;
}
