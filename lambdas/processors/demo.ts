import { setTimeout as sleep } from 'node:timers/promises';
import { RetryableError, type Processor } from '../core/requests/processor';
import * as z from '../core/shared/schema';

/** Waits `payload.ms` milliseconds and reports it: the smallest real unit of slow work. */
export const demoSleep: Processor<{ ms: number }, { sleptMs: number }> = {
  type: 'demo.sleep',
  displayName: 'Demo task',
  timeoutMs: 30_000,
  expectedSeconds: 1,
  schema: z.looseObject({ ms: z._default(z.number().check(z.int(), z.gte(0), z.lte(25_000)), 0) }),
  async run({ ms }, { signal }) {
    const started = performance.now();
    await sleep(ms, undefined, { signal });
    // A timer counts from the event loop's cached clock, so by a fresh one it can end a
    // millisecond early: the promise is to have slept at least `ms`.
    const short = ms - (performance.now() - started);
    if (short > 0) await sleep(Math.ceil(short), undefined, { signal });
    return { sleptMs: Math.round(performance.now() - started) };
  },
};

/** Always fails with a transient error, so retries, backoff and the DLQ can be watched. */
export const demoFail: Processor<Record<string, unknown>, never> = {
  type: 'demo.fail',
  displayName: 'Demo task that fails',
  timeoutMs: 5_000,
  expectedSeconds: 1,
  schema: z.looseObject({ message: z.optional(z.string().check(z.maxLength(500))) }),
  async run(payload, { attempt }) {
    const message = typeof payload.message === 'string' ? payload.message : 'demo.fail always fails';
    throw new RetryableError(`${message} (attempt ${attempt})`, 'demo_failure');
  },
};
