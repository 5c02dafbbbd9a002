import { SlowLaneRouter } from '../../../../lambdas/core/requests/slow-lane';

const settings = { slowAfterMs: 1_000, rememberSeconds: 60, maxTracked: 3 };
const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));
const burst = { merchantId: 'mer_burst', type: 'order.process' };

describe('the slow lane router', () => {
  it('keeps a request in the main lane until this instance has measured its merchant and type', () => {
    const router = new SlowLaneRouter(settings);
    expect(router.isSlow(burst, at(0))).toBe(false);
  });

  it('sends a merchant\'s requests of a type to the slow lane once one took longer than the threshold, and no other merchant\'s or type\'s', () => {
    const router = new SlowLaneRouter(settings);
    router.record(burst, 2_000, at(0));
    router.record({ merchantId: 'mer_quiet', type: 'order.process' }, 120, at(0));

    expect(router.isSlow(burst, at(1))).toBe(true);
    expect(router.isSlow({ merchantId: 'mer_quiet', type: 'order.process' }, at(1))).toBe(false);
    expect(router.isSlow({ merchantId: 'mer_burst', type: 'demo.sleep' }, at(1))).toBe(false);
  });

  it('does not move a merchant for one slow request among fast ones, nor back for one fast among slow ones', () => {
    const router = new SlowLaneRouter(settings);
    for (let i = 0; i < 5; i++) router.record(burst, 100, at(i));
    router.record(burst, 1_500, at(5));
    expect(router.isSlow(burst, at(5))).toBe(false);

    for (let i = 6; i < 12; i++) router.record(burst, 2_000, at(i));
    router.record(burst, 100, at(12));
    expect(router.isSlow(burst, at(12))).toBe(true);
  });

  it('forgets a measurement after the remembered time, so a merchant whose requests turned fast comes back', () => {
    const router = new SlowLaneRouter(settings);
    router.record(burst, 2_000, at(0));
    expect(router.isSlow(burst, at(60))).toBe(true);
    expect(router.isSlow(burst, at(61))).toBe(false);
    // A fresh measurement after that starts over rather than averaging with the forgotten one.
    router.record(burst, 200, at(62));
    expect(router.isSlow(burst, at(62))).toBe(false);
  });

  it('remembers at most the configured number of pairs, dropping the least recently measured', () => {
    const router = new SlowLaneRouter(settings);
    for (const merchantId of ['mer_a', 'mer_b', 'mer_c']) router.record({ merchantId, type: 't' }, 2_000, at(0));
    router.record({ merchantId: 'mer_a', type: 't' }, 2_000, at(1));
    router.record({ merchantId: 'mer_d', type: 't' }, 2_000, at(2));

    expect(router.tracked).toBe(3);
    expect(router.isSlow({ merchantId: 'mer_b', type: 't' }, at(3))).toBe(false);
    expect(router.isSlow({ merchantId: 'mer_a', type: 't' }, at(3))).toBe(true);
    expect(router.isSlow({ merchantId: 'mer_d', type: 't' }, at(3))).toBe(true);
  });
});
