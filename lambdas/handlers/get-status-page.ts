import { createHash } from 'node:crypto';
import { NotFoundError } from '../core/shared/errors';
import { isTerminal } from '../core/requests/request';
import { presentPublicStatus, requestIdOfStatusToken, type PublicStatus } from '../core/requests/status-token';
import { processors, requestPorts, statusTokenSecrets } from './shared/dependencies';
import { headerOf, httpRoute, json } from './shared/http';
import type { HttpResult } from './shared/problems';

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
 * a 404, like an unknown request: a problem document for scripts, a page saying so for browsers.
 */
export const handler = httpRoute(async (event) => {
  const token = event.pathParameters?.token ?? '';
  const secret = await statusTokenSecrets().get();
  const requestId = secret ? requestIdOfStatusToken(token, secret) : undefined;
  const request = requestId ? await requestPorts().queries.get(requestId) : undefined;
  const html = prefersHtml(headerOf(event, 'accept'));
  if (!request) {
    if (html) return unknownLinkPage();
    throw new NotFoundError('No request has this status link, or it has expired');
  }
  const view = presentPublicStatus(request, processors().processorFor(request.type)?.displayName);
  const finished = isTerminal(request.status);
  if (html) return statusPage(view, finished);
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

/**
 * Rewrites each `<time>` into the reader's own time zone and language: the server knows neither.
 * Without scripts the UTC time stays, written out in words a reader can parse.
 */
const LOCAL_TIME_SCRIPT = `for (const t of document.querySelectorAll('time[datetime]')) {
  const at = new Date(t.dateTime);
  if (!isNaN(at)) { t.title = t.textContent; t.textContent = at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' }); }
}`;
// The CSP allows this one inline script by its hash, and nothing else.
const LOCAL_TIME_SCRIPT_HASH = `'sha256-${createHash('sha256').update(LOCAL_TIME_SCRIPT).digest('base64')}'`;

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1d232b}h1{font-size:1.5rem}dt{font-weight:600;margin-top:.5rem}dd{margin:0}';

/** `2026-01-01T12:00:00.000Z` as `2026-01-01 12:00:00 UTC`, what a page without scripts shows. */
const utcText = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');

function page(title: string, main: string, options: { refreshSeconds?: number; status?: number } = {}): HttpResult {
  const refresh = options.refreshSeconds ? `\n<meta http-equiv="refresh" content="${options.refreshSeconds}">` : '';
  const body = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">${refresh}
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${main}
</main>
<script>${LOCAL_TIME_SCRIPT}</script>
</body>
</html>
`;
  return {
    statusCode: options.status ?? 200,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': `default-src 'none'; style-src 'unsafe-inline'; script-src ${LOCAL_TIME_SCRIPT_HASH}`,
      ...PRIVATE_PAGE_HEADERS,
    },
    body,
  };
}

const timeElement = (iso: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(utcText(iso))}</time>`;

function statusPage(view: PublicStatus, finished: boolean): HttpResult {
  const main = `<h1 role="status" aria-live="polite">${escapeHtml(WORDS[view.status])}</h1>
<dl>
<dt>What</dt><dd>${escapeHtml(view.displayName)}</dd>
<dt>Status</dt><dd>${escapeHtml(view.status)}</dd>
<dt>Received</dt><dd>${timeElement(view.createdAt)}</dd>
<dt>Last change</dt><dd>${timeElement(view.updatedAt)}</dd>
</dl>
<p>${finished ? 'This request is finished.' : `This page refreshes itself every ${REFRESH_SECONDS} seconds.`}</p>`;
  return page(WORDS[view.status], main, finished ? {} : { refreshSeconds: REFRESH_SECONDS });
}

/** A browser that follows a mistyped, altered or expired link gets a page, not a problem document. */
function unknownLinkPage(): HttpResult {
  const main = `<h1>This status link does not work</h1>
<p>It may have been copied incompletely, or it has expired: status links last as long as the request is kept.</p>
<p>Ask whoever sent you the link for a new one.</p>`;
  return page('Status link not found', main, { status: 404 });
}
