/**
 * The `Prefer` request header (RFC 7240) as Herald reads it: `wait=N` asks the server to hold its
 * answer up to N seconds for a change, `respond-async` accepts a 202 when the work is not done by
 * then. A preference is a hint: one Herald does not understand, or a malformed value, is ignored
 * (RFC 7240 §2), never an error; a wait longer than the limit is served up to the limit, and the
 * answer's `Preference-Applied` says what was honoured.
 */
export interface WaitPreference {
  /** Seconds to hold the answer, already capped at the limit; 0 when no wait was asked. */
  readonly waitSeconds: number;
  readonly respondAsync: boolean;
}

const NO_PREFERENCE: WaitPreference = { waitSeconds: 0, respondAsync: false };
/** Longest header value read: a preference list longer than this is a client bug, not a hint. */
const MAX_PREFER_CHARS = 1_000;

/**
 * Reads `wait` and `respond-async` from a `Prefer` header value (several headers arrive joined by
 * commas). Tokens are case-insensitive and may carry parameters after `;`, which are ignored; the
 * first `wait` wins, as RFC 7240 §2 asks of a repeated preference.
 *
 * @example parseWaitPreference('respond-async, wait=5', 20) // { waitSeconds: 5, respondAsync: true }
 */
export function parseWaitPreference(header: string | undefined, maxWaitSeconds: number): WaitPreference {
  if (!header || header.length > MAX_PREFER_CHARS) return NO_PREFERENCE;
  let waitSeconds: number | undefined;
  let respondAsync = false;
  for (const preference of header.split(',')) {
    const [token = ''] = preference.split(';');
    const [rawName = '', ...rest] = token.split('=');
    const name = rawName.trim().toLowerCase();
    const value = rest.join('=').trim().replace(/^"(.*)"$/, '$1');
    if (name === 'respond-async' && rest.length === 0) respondAsync = true;
    else if (name === 'wait' && waitSeconds === undefined && /^\d{1,9}$/.test(value)) waitSeconds = Math.min(Number(value), maxWaitSeconds);
  }
  return { waitSeconds: waitSeconds ?? 0, respondAsync };
}

/** The `Preference-Applied` value for what was honoured, or undefined when nothing was. */
export function preferenceApplied(applied: { readonly waitSeconds?: number; readonly respondAsync?: boolean }): string | undefined {
  const parts = [...(applied.respondAsync ? ['respond-async'] : []), ...(applied.waitSeconds ? [`wait=${applied.waitSeconds}`] : [])];
  return parts.length > 0 ? parts.join(', ') : undefined;
}
