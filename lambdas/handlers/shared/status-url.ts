import { statusTokenOf } from '../../core/status-token';
import { statusTokenSecrets } from './dependencies';
import type { HttpEvent } from './http';

/** The path of the public status page; `{token}` is a request's status token. */
export const STATUS_PAGE_PATH = '/v1/status/';

/**
 * The `statusUrl` of an accepted request: the public status page on the host the client called,
 * addressed by the request's status token. It adds no write per submit: the token is computed
 * from the id (lambdas/core/status-token.ts); only the first submit a table ever sees creates
 * the secret.
 */
export async function statusUrlOf(event: HttpEvent, requestId: string): Promise<string> {
  const token = statusTokenOf(requestId, await statusTokenSecrets().getOrCreate());
  const host = event.requestContext.domainName;
  // API Gateway is https only; the local runtime answers plain http on the loopback address.
  const scheme = event.headers?.['x-forwarded-proto'] ?? (/^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host) ? 'http' : 'https');
  return `${scheme}://${host}${STATUS_PAGE_PATH}${token}`;
}
