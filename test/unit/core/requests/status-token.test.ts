import { randomBytes } from 'node:crypto';
import { presentPublicStatus, requestIdOfStatusToken, statusTokenOf } from '../../../../lambdas/core/requests/status-token';

const secret = randomBytes(32);
const id = 'req_01hx3y4z5a6b7c8d9e0f1g2h3j';

describe('status tokens', () => {
  it('names the request without containing its id, and the server reads the id back', () => {
    const token = statusTokenOf(id, secret);
    expect(token).not.toContain(id);
    expect(Buffer.from(token, 'base64url').toString('latin1')).not.toContain(id);
    expect(requestIdOfStatusToken(token, secret)).toBe(id);
  });

  it('is the same for the same request, so a replayed submit answers the same statusUrl', () => {
    expect(statusTokenOf(id, secret)).toBe(statusTokenOf(id, secret));
    expect(statusTokenOf(`${id}x`, secret)).not.toBe(statusTokenOf(id, secret));
  });

  it('refuses a token another secret issued, an altered one and garbage', () => {
    const token = statusTokenOf(id, secret);
    expect(requestIdOfStatusToken(statusTokenOf(id, randomBytes(32)), secret)).toBeUndefined();
    const altered = Buffer.from(token, 'base64url');
    altered[altered.length - 20]! ^= 1;
    expect(requestIdOfStatusToken(altered.toString('base64url'), secret)).toBeUndefined();
    for (const junk of ['', 'abc', id, 'x'.repeat(5000), 'not/base64url!']) expect(requestIdOfStatusToken(junk, secret)).toBeUndefined();
  });

  it('accepts its canonical spelling only: none of the 15 other last characters that decode to the same bytes', () => {
    // 12 + 30 + 16 = 58 bytes: the last of 78 characters carries 2 data bits and 4 unused ones,
    // so 15 other characters decode to the same bytes in a lenient decoder.
    const token = statusTokenOf(id, secret);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const aliases = [...alphabet]
      .map((last) => token.slice(0, -1) + last)
      .filter((spelling) => spelling !== token && Buffer.from(spelling, 'base64url').equals(Buffer.from(token, 'base64url')));

    expect(aliases).toHaveLength(15);
    expect(requestIdOfStatusToken(token, secret)).toBe(id);
    for (const alias of aliases) expect(requestIdOfStatusToken(alias, secret)).toBeUndefined();
  });

  it('refuses a secret too short to be one', () => {
    expect(() => statusTokenOf(id, randomBytes(8))).toThrow(RangeError);
  });

  it('shows only the status, the type and the times', () => {
    const shown = presentPublicStatus({
      status: 'processing',
      type: 'order.process',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:01.000Z',
      ...({ merchantId: 'mer_1', payload: { card: '4242' }, id } as object),
    });
    expect(Object.keys(shown).sort()).toEqual(['createdAt', 'displayName', 'status', 'type', 'updatedAt']);
    expect(shown.displayName).toBe('order.process');
  });

  it("names the work by the processor's display name when it has one", () => {
    const shown = presentPublicStatus(
      { status: 'succeeded', type: 'order.process', createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:01.000Z' },
      'Order processing',
    );
    expect(shown).toMatchObject({ type: 'order.process', displayName: 'Order processing' });
  });
});
