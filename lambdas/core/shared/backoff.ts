import type { RetrySchedule } from './retry-schedule';

/**
 * The delay before the next attempt, given the attempt that just failed (1-based).
 * Nominal delays come from the schedule (its last entry repeats); full jitter draws uniformly
 * from [0, nominal] so that a burst of failures does not retry in lockstep; proportional jitter
 * draws from nominal × [1 − ratio, 1 + ratio] for schedules that promise rough times (webhooks).
 * `scale` shrinks every delay (local demos and tests); the result is whole seconds, because
 * that is what SQS visibility timeouts take, capped at SQS's 12 h limit.
 *
 * @example backoffDelaySeconds(schedule, 3, () => 0.5) // half of the third nominal delay with full jitter
 */
export function backoffDelaySeconds(
  schedule: RetrySchedule,
  failedAttempt: number,
  random: () => number = Math.random,
  scale = 1,
): number {
  const delays = schedule.delaysSeconds;
  if (delays.length === 0) return 0;
  const index = Math.min(Math.max(failedAttempt - 1, 0), delays.length - 1);
  const nominal = delays[index]! * scale;
  const jittered =
    schedule.jitter.kind === 'full'
      ? nominal * random()
      : nominal * (1 - schedule.jitter.ratio + 2 * schedule.jitter.ratio * random());
  return Math.min(Math.max(Math.round(jittered), 0), MAX_VISIBILITY_TIMEOUT_SECONDS);
}

/** SQS refuses a visibility timeout beyond 12 hours. */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 12 * 60 * 60;

/** The largest delay the schedule can produce for an attempt: what "never above the cap" means. */
export function maxBackoffSeconds(schedule: RetrySchedule, failedAttempt: number, scale = 1): number {
  const delays = schedule.delaysSeconds;
  const nominal = (delays[Math.min(Math.max(failedAttempt - 1, 0), delays.length - 1)] ?? 0) * scale;
  const ceiling = schedule.jitter.kind === 'full' ? nominal : nominal * (1 + schedule.jitter.ratio);
  return Math.min(Math.round(ceiling), MAX_VISIBILITY_TIMEOUT_SECONDS);
}
