import { quantile, runFleet } from '../../bench/fleet/fleet';

// A small fleet (1 % of the traffic and of the worker pools) for four simulated minutes, the
// endpoint fault included: what `npm run sim:fleet` runs at full length, in seconds.
const small = { seed: 7, scale: 0.01, trafficSeconds: 240, fairness: true, slowLane: true } as const;

describe('the fleet simulation, small', () => {
  it('accounts for every request and delivery of a fault-free run: none lost, none delivered twice', async () => {
    const run = await runFleet({ ...small, scenario: 'baseline', breaker: true, fault: false });
    expect(run.requests).toBeGreaterThan(3_000);
    expect(run.lost).toBe(0);
    expect(run.duplicates).toBe(0);
    expect(run.healthyLatencies.length).toBeGreaterThan(run.requests);
  }, 180_000);

  it('loses nothing while the busiest endpoint hangs, and the circuit breaker spends less worker time on it than posting every delivery would', async () => {
    const withBreaker = await runFleet({ ...small, scenario: 'noisy-endpoint', breaker: true, fault: true });
    const without = await runFleet({ ...small, scenario: 'noisy-endpoint', breaker: false, fault: true });
    expect(withBreaker.lost).toBe(0);
    expect(without.lost).toBe(0);
    expect(withBreaker.workerSecondsOnBad).toBeLessThan(without.workerSecondsOnBad / 2);
  }, 300_000);

  it('keeps every other endpoint\'s p99 within 1.5 times the fault-free run\'s while the busiest endpoint hangs (the issue\'s goal)', async () => {
    const faulty = await runFleet({ ...small, scenario: 'noisy-endpoint', breaker: true, fault: true });
    const faultFree = await runFleet({ ...small, scenario: 'noisy-endpoint', breaker: true, fault: false });
    expect(faulty.lost).toBe(0);
    expect(quantile(faulty.healthyLatencies, 0.99)).toBeLessThanOrEqual(1.5 * quantile(faultFree.healthyLatencies, 0.99));
  }, 300_000);

  it('keeps every other merchant\'s p99 within 1.5 times the fault-free run\'s while one merchant bursts slow requests, with the slow lane (the issue\'s goal)', async () => {
    // 2 % of the fleet for 200 s: the burst (2,000 requests of 2 s) from second 120; at 1 % a single
    // process worker makes one learning batch the whole pool's stall.
    const merchantRun = { ...small, scale: 0.02, trafficSeconds: 200, breaker: true, scenario: 'noisy-merchant' } as const;
    const faulty = await runFleet({ ...merchantRun, fault: true });
    const faultFree = await runFleet({ ...merchantRun, fault: false });
    expect(faulty.lost).toBe(0);
    expect(quantile(faulty.healthyLatencies, 0.99)).toBeLessThanOrEqual(1.5 * quantile(faultFree.healthyLatencies, 0.99));
  }, 300_000);
});
