import { parseRetryDelays, withRetryOverride, type RetryOverride, type RetrySchedule } from '../core/shared/retry-schedule';
import { ENV } from './environment';

/** The work queues; each one's consumer runs its own retry schedule. */
export type QueueName = 'requests' | 'deliveries';

/** Exponential backoff for transient processor failures: 2 s, 4 s, 8 s, 16 s … capped at 5 min, full jitter. */
export const requestRetrySchedule: RetrySchedule = {
  maxAttempts: 5,
  delaysSeconds: [2, 4, 8, 16, 32, 64, 128, 256, 300],
  jitter: { kind: 'full' },
};

/**
 * Webhook retries, close to Svix's: at once, then about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and
 * 10 h (8 attempts over about 27 h), each ±20 %, so receivers can count on rough times.
 */
export const webhookRetrySchedule: RetrySchedule = {
  maxAttempts: 8,
  delaysSeconds: [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600],
  jitter: { kind: 'proportional', ratio: 0.2 },
};

/**
 * Each queue's schedule. Its `maxAttempts` is also the queue's SQS maxReceiveCount (the stack sets
 * one from the other), so the attempt the worker treats as the last is the one after which SQS
 * dead-letters.
 */
export const retrySchedules: Record<QueueName, RetrySchedule> = {
  requests: requestRetrySchedule,
  deliveries: webhookRetrySchedule,
};

/** The environment variables through which a queue's consumer learns an overridden schedule. */
const retryEnvironment: Record<QueueName, { readonly delays: string; readonly maxAttempts: string }> = {
  requests: { delays: ENV.requestRetryDelays, maxAttempts: ENV.requestMaxAttempts },
  deliveries: { delays: ENV.deliveryRetryDelays, maxAttempts: ENV.deliveryMaxAttempts },
};

/** A queue's retry schedule with an operator's override (stack props `requestRetry`, `deliveryRetry`). */
export function queueRetrySchedule(queue: QueueName, override: RetryOverride = {}): RetrySchedule {
  return withRetryOverride(retrySchedules[queue], override);
}

/**
 * The retry schedule a queue's consumer runs: the settings', overridden by the environment the
 * stack sets from its props (absent or empty variables leave the settings' numbers).
 */
export function retryScheduleOf(queue: QueueName, env: Readonly<Record<string, string | undefined>>): RetrySchedule {
  const names = retryEnvironment[queue];
  const delays = env[names.delays]?.trim();
  const attempts = env[names.maxAttempts]?.trim();
  try {
    return queueRetrySchedule(queue, {
      ...(delays ? { delaysSeconds: parseRetryDelays(delays) } : {}),
      ...(attempts ? { maxAttempts: Number(attempts) } : {}),
    });
  } catch (error) {
    throw new RangeError(`${names.delays} / ${names.maxAttempts}: ${(error as Error).message}`, { cause: error });
  }
}

/** The environment that carries a queue's schedule to the functions; `retryScheduleOf` reads it back. */
export function retryScheduleEnvironment(queue: QueueName, schedule: RetrySchedule): Record<string, string> {
  const names = retryEnvironment[queue];
  return { [names.delays]: schedule.delaysSeconds.join(','), [names.maxAttempts]: String(schedule.maxAttempts) };
}
