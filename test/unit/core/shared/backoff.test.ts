import { backoffDelaySeconds, MAX_VISIBILITY_TIMEOUT_SECONDS, maxBackoffSeconds } from '../../../../lambdas/core/shared/backoff';
import { requestRetrySchedule } from '../../../../lambdas/settings/retry';
import { type RetrySchedule } from '../../../../lambdas/core/shared/retry-schedule';
import { seededRandom } from '../../../../bench/fleet/virtual-time';

const DRAWS = 20_000;

// A seeded generator instead of Math.random: the distribution checks below then judge the same
// 20,000 draws on every run, so they cannot fail by chance.
function draws(schedule: RetrySchedule, attempt: number, scale = 1): number[] {
  const random = seededRandom(attempt * 7919 + scale);
  return Array.from({ length: DRAWS }, () => backoffDelaySeconds(schedule, attempt, random, scale));
}

describe('backoffDelaySeconds', () => {
  it.each(Array.from({ length: 12 }, (_, i) => i + 1))(
    'never exceeds the cap nor goes negative for attempt %i, and spreads across the range',
    (attempt) => {
      const cap = maxBackoffSeconds(requestRetrySchedule, attempt);
      const delays = draws(requestRetrySchedule, attempt);
      expect(Math.max(...delays)).toBeLessThanOrEqual(cap);
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      expect(delays.every(Number.isInteger)).toBe(true);
      // Full jitter is uniform on [0, cap] (in whole seconds): every value is drawn, below and above the middle equally often.
      expect(new Set(delays).size).toBe(cap + 1);
      const below = delays.filter((d) => d * 2 < cap).length;
      const above = delays.filter((d) => d * 2 > cap).length;
      expect(below / above).toBeGreaterThan(0.9);
      expect(below / above).toBeLessThan(1.1);
      const mean = delays.reduce((sum, d) => sum + d, 0) / delays.length;
      expect(mean).toBeGreaterThan(cap * 0.45);
      expect(mean).toBeLessThan(cap * 0.55);
    },
  );

  it('grows with the attempt until the schedule caps it at its last entry', () => {
    const caps = Array.from({ length: 12 }, (_, i) => maxBackoffSeconds(requestRetrySchedule, i + 1));
    expect(caps.slice(0, 9)).toEqual([2, 4, 8, 16, 32, 64, 128, 256, 300]);
    expect(caps.slice(9)).toEqual([300, 300, 300]);
  });

  it('uses the extremes of the random draw as the ends of the range', () => {
    expect(backoffDelaySeconds(requestRetrySchedule, 4, () => 0)).toBe(0);
    expect(backoffDelaySeconds(requestRetrySchedule, 4, () => 0.999999)).toBe(16);
  });

  it('keeps proportional jitter within nominal × (1 ± ratio)', () => {
    const schedule: RetrySchedule = { maxAttempts: 3, delaysSeconds: [100], jitter: { kind: 'proportional', ratio: 0.2 } };
    const delays = draws(schedule, 1);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(80);
    expect(Math.max(...delays)).toBeLessThanOrEqual(120);
    expect(new Set(delays).size).toBeGreaterThan(30);
  });

  it('never exceeds the 12-hour SQS limit, whatever the schedule says', () => {
    const schedule: RetrySchedule = { maxAttempts: 3, delaysSeconds: [10 * 86_400], jitter: { kind: 'full' } };
    expect(Math.max(...draws(schedule, 1))).toBeLessThanOrEqual(MAX_VISIBILITY_TIMEOUT_SECONDS);
    expect(maxBackoffSeconds(schedule, 1)).toBe(MAX_VISIBILITY_TIMEOUT_SECONDS);
  });

  it('shrinks every delay by the scale, down to zero', () => {
    expect(Math.max(...draws(requestRetrySchedule, 3, 0.5))).toBeLessThanOrEqual(4);
    expect(Math.max(...draws(requestRetrySchedule, 9, 0))).toBe(0);
  });
});
