/**
 * The base every link Herald hands out is built on (today the `statusUrl` of an accepted
 * request). It is configuration, never read from a request: a client's `Host` or
 * `X-Forwarded-Proto` must not decide where a link sent to a merchant's customer points.
 */

/**
 * The configured base URL in the one form links are joined to: http(s) only, no credentials,
 * query or fragment, no trailing slash (a path is kept, for a custom domain's base path).
 * Throws a RangeError naming what is wrong: a deployment must not hand out links it cannot vouch for.
 *
 * @example parsePublicBaseUrl('https://api.example.com/herald/') // 'https://api.example.com/herald'
 */
export function parsePublicBaseUrl(raw: string | undefined, variable = 'The public base URL'): string {
  const text = raw?.trim() ?? '';
  if (text === '') throw new RangeError(`${variable} is not set: statusUrl is built on it, never on request headers`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RangeError(`${variable} must be an absolute http(s) URL, got "${text.slice(0, 200)}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RangeError(`${variable} must be an http(s) URL, got the scheme ${url.protocol}`);
  if (url.username || url.password || url.search || url.hash) {
    throw new RangeError(`${variable} must carry no credentials, query or fragment, got "${text.slice(0, 200)}"`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
