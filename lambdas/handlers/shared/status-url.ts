import { ENV } from '../../settings/environment';
import { parsePublicBaseUrl } from '../../core/shared/public-base-url';
import { statusTokenOf } from '../../core/requests/status-token';
import { statusTokenSecrets } from './dependencies';

/** The path of the public status page; `{token}` is a request's status token. */
export const STATUS_PAGE_PATH = '/v1/status/';

/**
 * The `statusUrl` of an accepted request: the public status page under the configured public
 * base URL (`HERALD_PUBLIC_BASE_URL`: the stack's front door, or the local runtime's address),
 * addressed by the request's status token. Nothing of the request shapes it: on AWS the
 * `execute-api` host would bypass the front door's limits, and a client's `Host` or
 * `X-Forwarded-Proto` would let it write the link a merchant's customer opens. It adds no write
 * per submit: the token is computed from the id (lambdas/core/requests/status-token.ts).
 */
export async function statusUrlOf(requestId: string): Promise<string> {
  const base = parsePublicBaseUrl(process.env[ENV.publicBaseUrl], ENV.publicBaseUrl);
  const token = statusTokenOf(requestId, await statusTokenSecrets().getOrCreate());
  return `${base}${STATUS_PAGE_PATH}${token}`;
}
