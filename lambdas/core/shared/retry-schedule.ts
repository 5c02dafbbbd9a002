/**
 * A retry schedule. `delaysSeconds[n]` is the nominal wait before attempt n + 2 (attempt 1 runs
 * at once); the last entry repeats if there are more attempts than entries. Full jitter draws
 * the actual delay uniformly from [0, nominal]; proportional jitter from nominal × (1 ± jitter).
 */
export interface RetrySchedule {
  readonly maxAttempts: number;
  readonly delaysSeconds: readonly number[];
  readonly jitter: { readonly kind: 'full' } | { readonly kind: 'proportional'; readonly ratio: number };
}

/** What an operator may change of a retry schedule; the jitter stays the topology's. */
export interface RetryOverride {
  /** Attempts in all, the first included; it becomes the queue's maxReceiveCount. */
  readonly maxAttempts?: number;
  /** Nominal waits before the second, third … attempt, in seconds; the last repeats. */
  readonly delaysSeconds?: readonly number[];
}

// SQS's own bounds: maxReceiveCount is 1 to 1,000, and a message can be hidden for 12 h at most.
const MAX_RECEIVE_COUNT = 1000;
const MAX_DELAY_SECONDS = 12 * 60 * 60;

/**
 * A schedule with an operator's override applied, checked against what SQS can carry out.
 * Throws a RangeError naming the offending value, so a bad deployment fails at synth.
 *
 * @example withRetryOverride(webhookRetrySchedule, { maxAttempts: 4 }) // the same delays, 4 attempts
 */
export function withRetryOverride(base: RetrySchedule, override: RetryOverride = {}): RetrySchedule {
  const maxAttempts = override.maxAttempts ?? base.maxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > MAX_RECEIVE_COUNT) {
    throw new RangeError(`Retry attempts must be a whole number from 1 to ${MAX_RECEIVE_COUNT}, got ${maxAttempts}`);
  }
  const delaysSeconds = override.delaysSeconds ?? base.delaysSeconds;
  if (delaysSeconds.length === 0) throw new RangeError('Retry delays need at least one entry');
  for (const delay of delaysSeconds) {
    if (!Number.isFinite(delay) || delay < 0 || delay > MAX_DELAY_SECONDS) {
      throw new RangeError(`Retry delays must be seconds from 0 to ${MAX_DELAY_SECONDS} (SQS hides a message 12 h at most), got ${delay}`);
    }
  }
  return { ...base, maxAttempts, delaysSeconds: [...delaysSeconds] };
}

/**
 * Parses retry delays written as comma-separated seconds (`"5, 300, 1800"`), the form they take in
 * the environment and on the CDK command line. Throws a RangeError on anything else.
 *
 * @example parseRetryDelays('5, 300, 1800') // [5, 300, 1800]
 */
export function parseRetryDelays(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  const delays = parts.map(Number);
  if (parts.some((part) => part === '') || delays.some((delay) => !Number.isFinite(delay))) {
    throw new RangeError(`Retry delays must be comma-separated seconds, e.g. "5,300,1800", got "${text}"`);
  }
  return delays;
}
