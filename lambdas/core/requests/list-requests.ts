import { ValidationError, type FieldError } from '../shared/errors';
import type { ListPosition, RequestListing } from './ports';
import { REQUEST_STATUSES, type RequestStatus } from './request';
import { summarizeRequest, type RequestSummary } from './request-view';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface ListQuery {
  readonly status?: RequestStatus;
  readonly limit: number;
  readonly after?: ListPosition;
}

export interface RequestListPage {
  readonly items: readonly RequestSummary[];
  /** Opaque; pass it back as `cursor` for the next page. Absent on the last page. */
  readonly nextCursor?: string;
}

const CURSOR_VERSION = 1;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const REQUEST_ID = /^req_[0-9a-z]{26}$/;

/**
 * Reads `status`, `limit` and `cursor` from a query string, naming every bad parameter in one
 * 400. The cursor only says where the previous page ended; the merchant always comes from the
 * API key, so a cursor copied from another tenant can never reveal that tenant's requests.
 */
export function parseListQuery(params: Readonly<Record<string, string | undefined>>): ListQuery {
  const errors: FieldError[] = [];
  const known = new Set(['status', 'limit', 'cursor']);
  for (const name of Object.keys(params)) {
    if (!known.has(name)) errors.push({ path: `/${name}`, message: `Unknown query parameter "${name}"; use status, limit or cursor` });
  }
  let status: RequestStatus | undefined;
  if (params.status !== undefined) {
    if ((REQUEST_STATUSES as readonly string[]).includes(params.status)) status = params.status as RequestStatus;
    else errors.push({ path: '/status', message: `status must be one of ${REQUEST_STATUSES.join(', ')}` });
  }
  let limit = DEFAULT_PAGE_SIZE;
  if (params.limit !== undefined) {
    limit = /^\d{1,3}$/.test(params.limit) ? Number(params.limit) : NaN;
    if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) errors.push({ path: '/limit', message: `limit must be an integer from 1 to ${MAX_PAGE_SIZE}` });
  }
  let after: ListPosition | undefined;
  if (params.cursor !== undefined) {
    after = decodeCursor(params.cursor);
    if (!after) errors.push({ path: '/cursor', message: 'cursor is not one this API returned' });
  }
  if (errors.length) throw new ValidationError(`The query string is invalid: ${errors.map((e) => e.path).join(', ')}`, errors);
  return { ...(status ? { status } : {}), limit, ...(after ? { after } : {}) };
}

/** A page of the merchant's requests, newest first, with the cursor of the next page if there is one. */
export async function listRequests(store: RequestListing, merchantId: string, query: ListQuery): Promise<RequestListPage> {
  const page = await store.listForMerchant(merchantId, query);
  return {
    items: page.requests.map(summarizeRequest),
    ...(page.next ? { nextCursor: encodeCursor(page.next) } : {}),
  };
}

/** Opaque to clients (base64url JSON), versioned so its shape can change without breaking old links. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, c: position.createdAt, i: position.id }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): ListPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(cursor)) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: unknown; c?: unknown; i?: unknown };
    if (parsed.v !== CURSOR_VERSION || typeof parsed.c !== 'string' || typeof parsed.i !== 'string') return undefined;
    if (!ISO_INSTANT.test(parsed.c) || !REQUEST_ID.test(parsed.i)) return undefined;
    return { createdAt: parsed.c, id: parsed.i };
  } catch {
    return undefined;
  }
}
