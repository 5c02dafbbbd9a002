import { TenantLoad } from '../../../lib/local/fair-queue';

const T0 = 1_000_000;

function holding(counts: Record<string, number>): TenantLoad {
  const load = new TenantLoad();
  for (const [tenant, count] of Object.entries(counts)) for (let i = 0; i < count; i++) load.received(tenant);
  return load;
}

describe('the fair-queue rule (AWS: more than 10 % of in-flight messages and at least 30, or more than 10 % of processing time)', () => {
  it('marks a tenant noisy when it holds 30 of 100 in-flight messages', () => {
    expect(holding({ a: 30, b: 70 }).isNoisy('a', T0)).toBe(true);
  });

  it('leaves a tenant quiet below 30 in flight, whatever its share', () => {
    expect(holding({ a: 29 }).isNoisy('a', T0)).toBe(false);
  });

  it('leaves a tenant quiet at 10 % or less of the in-flight messages, however many', () => {
    expect(holding({ a: 40, b: 360 }).isNoisy('a', T0)).toBe(false);
    expect(holding({ a: 41, b: 359 }).isNoisy('a', T0)).toBe(true);
  });

  it('marks a tenant noisy when it took more than 10 % of the recent processing time, and quiet again as it fades', () => {
    const load = new TenantLoad();
    for (const [tenant, ms] of [['slow', 2_000], ['x', 1_000], ['y', 1_000], ['z', 1_000], ['w', 1_000]] as const) {
      load.received(tenant);
      load.settled(tenant, ms, T0);
    }
    expect(load.isNoisy('slow', T0)).toBe(true);
    // Others keep working for ten minutes; the slow tenant did nothing since.
    for (let minute = 1; minute <= 10; minute++) {
      for (const tenant of ['x', 'y', 'z', 'w', 'v', 'u', 's', 'r', 'q', 'p']) {
        load.received(tenant);
        load.settled(tenant, 6_000, T0 + minute * 60_000);
      }
    }
    expect(load.isNoisy('slow', T0 + 10 * 60_000)).toBe(false);
  });

  it('serves quiet tenants first, in arrival order, and holds noisy ones back while quiet ones fill the receive', () => {
    const load = holding({ a: 30, b: 3 });
    const waiting = ['a1', 'b1', 'a2', 'c1', 'b2'];
    expect(load.choose(waiting, (m) => m[0]!, 2, T0)).toEqual({ quiet: ['b1', 'c1'], noisy: [] });
  });

  it('fills a receive with noisy tenants’ messages when no quiet one waits, the one with fewest in flight first', () => {
    const load = holding({ a: 40, d: 35, b: 1 });
    expect(load.choose(['a1', 'd1', 'a2', 'b1', 'd2'], (m) => m[0]!, 4, T0)).toEqual({ quiet: ['b1'], noisy: ['d1', 'd2', 'a1'] });
  });
});
