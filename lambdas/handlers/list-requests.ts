import { listRequests, parseListQuery } from '../core/requests/list-requests';
import { requestPorts } from './shared/dependencies';
import { httpRoute, json, merchantIdOf } from './shared/http';

/** GET /v1/requests?status=&limit=&cursor=: the merchant's requests, newest first, a page at a time. */
export const handler = httpRoute(async (event) => {
  const merchantId = merchantIdOf(event);
  const query = parseListQuery(event.queryStringParameters ?? {});
  const page = await listRequests(requestPorts().queries, merchantId, query);
  const self = event.rawQueryString ? `/v1/requests?${event.rawQueryString}` : '/v1/requests';
  const next = page.nextCursor ? `/v1/requests?${nextQuery(query.status, query.limit, page.nextCursor)}` : undefined;
  return json(200, { ...page, links: { self, ...(next ? { next } : {}) } }, { 'Cache-Control': 'no-store' });
});

function nextQuery(status: string | undefined, limit: number, cursor: string): string {
  return new URLSearchParams({ ...(status ? { status } : {}), limit: String(limit), cursor }).toString();
}
