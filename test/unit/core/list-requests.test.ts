import { decodeCursor, encodeCursor, MAX_PAGE_SIZE, parseListQuery } from '../../../lambdas/core/list-requests';
import { ValidationError } from '../../../lambdas/core/errors';

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
