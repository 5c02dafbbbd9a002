import { NotFoundError } from '../core/errors';
import { isTerminal } from '../core/request';
import { presentPublicStatus, requestIdOfStatusToken, type PublicStatus } from '../core/status-token';
import { requestStore, statusTokenSecrets } from './shared/dependencies';
import { headerOf, httpRoute, json, type HttpResult } from './shared/http';

/** Seconds between refreshes of the HTML page while the request is not finished. */
const REFRESH_SECONDS = 5;

// A capability URL must not travel on: no referrer, no index, no cache; the page loads nothing.
const PRIVATE_PAGE_HEADERS = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Robots-Tag': 'noindex, nofollow',
};

/**
 * GET /v1/status/{token}: the public status page of one request, for the merchant's customer.
 * No API key: the token is the capability. It shows the status, the type and the times only,
 * as JSON or, when the client prefers HTML, as a small accessible page that refreshes itself
 * until the request is finished. A token that names nothing (forged, or its request expired) is
 * a 404, like an unknown request.
 */
export const handler = httpRoute(async (event) => {
  const token = event.pathParameters?.token ?? '';
  const secret = await statusTokenSecrets().get();
  const requestId = secret ? requestIdOfStatusToken(token, secret) : undefined;
  const request = requestId ? await requestStore().get(requestId) : undefined;
  if (!request) throw new NotFoundError('No request has this status link, or it has expired');
  const view = presentPublicStatus(request);
  const finished = isTerminal(request.status);
  if (prefersHtml(headerOf(event, 'accept'))) return statusPage(view, finished);
  return json(200, view, { ...PRIVATE_PAGE_HEADERS, ...(finished ? {} : { 'Retry-After': String(REFRESH_SECONDS) }) });
});

/** HTML when the client lists it before JSON (a browser), JSON otherwise (scripts, `curl`). */
function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const html = accept.indexOf('text/html');
  const jsonAt = accept.indexOf('application/json');
  return html >= 0 && (jsonAt < 0 || html < jsonAt);
}

const WORDS: Record<PublicStatus['status'], string> = {
  accepted: 'Received — waiting to be processed',
  processing: 'Being processed',
  succeeded: 'Done',
  failed: 'Could not be completed',
  cancelled: 'Cancelled',
};

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function statusPage(view: PublicStatus, finished: boolean): HttpResult {
  const refresh = finished ? '' : `\n<meta http-equiv="refresh" content="${REFRESH_SECONDS}">`;
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">${refresh}
<title>${escapeHtml(WORDS[view.status])}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d232b}h1{font-size:1.5rem}dt{font-weight:600;margin-top:.5rem}dd{margin:0}</style>
</head>
<body>
<main>
<h1 role="status" aria-live="polite">${escapeHtml(WORDS[view.status])}</h1>
<dl>
<dt>Status</dt><dd>${escapeHtml(view.status)}</dd>
<dt>Type</dt><dd>${escapeHtml(view.type)}</dd>
<dt>Received</dt><dd><time datetime="${escapeHtml(view.createdAt)}">${escapeHtml(view.createdAt)}</time></dd>
<dt>Last change</dt><dd><time datetime="${escapeHtml(view.updatedAt)}">${escapeHtml(view.updatedAt)}</time></dd>
</dl>
<p>${finished ? 'This request is finished.' : `This page refreshes itself every ${REFRESH_SECONDS} seconds.`}</p>
</main>
</body>
</html>
`;
  return {
    statusCode: 200,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
      ...PRIVATE_PAGE_HEADERS,
    },
    body,
  };
}
