import { decodeCursor, encodeCursor, listRequests, MAX_PAGE_SIZE, parseListQuery } from '../../../../lambdas/core/requests/list-requests';
import { ValidationError } from '../../../../lambdas/core/shared/errors';
import { InMemoryRequestStore } from '../../../support/core/requests/in-memory-ports';
import { storedRequest } from '../../../support/request-fixtures';

describe('list cursors', () => {
  it('round-trip a position and are opaque URL-safe text', () => {
    const position = { createdAt: '2026-11-25T12:00:00.000Z', id: 'req_01jzzzzzzzzzzzzzzzzzzzzzzz' };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain(position.id);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each([
    ['not base64 JSON', 'abc'],
    ['another version', Buffer.from(JSON.stringify({ v: 2, c: '2026-11-25T12:00:00.000Z', i: 'req_01jzzzzzzzzzzzzzzzzzzzzzzz' })).toString('base64url')],
    ['a made-up id', Buffer.from(JSON.stringify({ v: 1, c: '2026-11-25T12:00:00.000Z', i: 'MER#x' })).toString('base64url')],
    ['a time that is not an instant', Buffer.from(JSON.stringify({ v: 1, c: 'yesterday', i: 'req_01jzzzzzzzzzzzzzzzzzzzzzzz' })).toString('base64url')],
    ['characters outside base64url', 'a+b/c='],
  ])('refuses %s', (_, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
  });
});

describe('parseListQuery', () => {
  it('defaults to 20 of any status', () => {
    expect(parseListQuery({})).toEqual({ limit: 20 });
  });

  it(`accepts a status and a limit up to ${MAX_PAGE_SIZE}`, () => {
    expect(parseListQuery({ status: 'failed', limit: '100' })).toEqual({ status: 'failed', limit: 100 });
  });

  it('names every bad parameter in one validation error', () => {
    let caught: unknown;
    try {
      parseListQuery({ status: 'done', limit: '1000', cursor: '!!', order: 'asc' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).code).toBe('validation-failed');
    expect((caught as ValidationError).errors.map((e) => e.path).sort()).toEqual(['/cursor', '/limit', '/order', '/status']);
  });
});

describe('listRequests', () => {
  const store = new InMemoryRequestStore();
  const at = (minute: number) => `2026-03-10T12:${String(minute).padStart(2, '0')}:00.000Z`;
  const id = (n: number) => `req_01jq${String(n).padStart(22, '0')}`;
  for (let n = 1; n <= 5; n++) store.seed(storedRequest(id(n), { createdAt: at(n), status: n % 2 ? 'succeeded' : 'failed' }));
  store.seed(storedRequest(id(9), { merchantId: 'mer_b', createdAt: at(9) }));

  it('pages through a merchant\'s requests newest first with cursors, and only that merchant\'s', async () => {
    const first = await listRequests(store, 'mer_a', parseListQuery({ limit: '2' }));
    const second = await listRequests(store, 'mer_a', parseListQuery({ limit: '2', cursor: first.nextCursor! }));
    const third = await listRequests(store, 'mer_a', parseListQuery({ limit: '2', cursor: second.nextCursor! }));

    expect([...first.items, ...second.items, ...third.items].map((item) => item.id)).toEqual([5, 4, 3, 2, 1].map(id));
    expect(third.nextCursor).toBeUndefined();
  });

  it('lists only the requests in the asked status', async () => {
    const page = await listRequests(store, 'mer_a', parseListQuery({ status: 'failed' }));
    expect(page.items.map((item) => item.id)).toEqual([id(4), id(2)]);
  });

  it('shows summaries, never payloads or results', async () => {
    const page = await listRequests(store, 'mer_a', parseListQuery({ limit: '1' }));
    expect(page.items[0]).not.toHaveProperty('payload');
    expect(page.items[0]).not.toHaveProperty('result');
  });
});
