import { awaitRequestStatus } from '../core/requests/await-request-status';
import { assertRequestId } from '../core/requests/ids';
import { preferenceApplied } from '../core/requests/wait-preference';
import { empty, headerOf, httpRoute, json, merchantIdOf } from './shared/http';
import { awaitDependencies, newCallId, waitPreferenceOf } from './shared/waiting';

/**
 * GET /v1/requests/{id}: one request's status; another merchant's request is a 404 like an
 * unknown one. `Prefer: wait=N` holds the answer until the request differs from the client's
 * `If-None-Match` copy (or from its state at arrival), or N seconds pass.
 */
export const handler = httpRoute(async (event) => {
  // Authentication first: a refused caller costs no store and no AWS call.
  const merchantId = merchantIdOf(event);
  const id = event.pathParameters?.id ?? '';
  assertRequestId(id);
  const { waitSeconds } = waitPreferenceOf(event);
  const status = await awaitRequestStatus(awaitDependencies(), {
    merchantId,
    id,
    ifNoneMatch: headerOf(event, 'if-none-match'),
    waitSeconds,
    until: 'change',
    callId: newCallId(),
  });
  const applied = status.waited ? preferenceApplied({ waitSeconds }) : undefined;
  const headers: Record<string, string> = { ETag: status.etag, 'Cache-Control': 'no-store', Vary: 'Prefer', ...(applied ? { 'Preference-Applied': applied } : {}) };
  if (status.retryAfterSeconds !== undefined) headers['Retry-After'] = String(status.retryAfterSeconds);
  return status.notModified ? empty(304, headers) : json(200, status.view, headers);
});
