import { ExpiringCache } from '../../../../lambdas/core/shared/expiring-cache';

describe('ExpiringCache', () => {
  it('answers an entry until its TTL has passed, then forgets it', () => {
    let now = 0;
    const cache = new ExpiringCache<string>(300_000, 10, () => now);
    cache.set('k', 'mer_1');
    now = 299_999;
    expect(cache.get('k')).toBe('mer_1');
    now = 300_000;
    expect(cache.get('k')).toBeUndefined();
  });

  it('never holds more than its bound: the oldest entry leaves first', () => {
    const cache = new ExpiringCache<number>(60_000, 3);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(3);
    expect([cache.get('k6'), cache.get('k7'), cache.get('k8'), cache.get('k9')]).toEqual([undefined, 7, 8, 9]);
  });

  it('keeps nothing with a TTL of 0', () => {
    const cache = new ExpiringCache<number>(0, 3);
    cache.set('k', 1);
    expect(cache.get('k')).toBeUndefined();
  });
});
