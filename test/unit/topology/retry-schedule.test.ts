import { ENV } from '../../../lambdas/settings/environment';
import { parseRetryDelays, withRetryOverride } from '../../../lambdas/core/shared/retry-schedule';
import { queueRetrySchedule, requestRetrySchedule, retryScheduleEnvironment, retryScheduleOf, webhookRetrySchedule } from '../../../lambdas/settings/retry';
import { queues } from '../../../lib/topology';
import { settings } from '../../../lambdas/handlers/shared/dependencies';

describe('parseRetryDelays', () => {
  it('reads comma-separated seconds, spaces allowed', () => {
    expect(parseRetryDelays('5, 300,1800')).toEqual([5, 300, 1800]);
  });

  it.each(['', '5,,10', '5,ten', '5,', 'Infinity'])('refuses %p', (text) => {
    expect(() => parseRetryDelays(text)).toThrow(RangeError);
  });
});

describe('withRetryOverride', () => {
  it('keeps the base schedule when nothing is overridden', () => {
    expect(withRetryOverride(webhookRetrySchedule)).toEqual(webhookRetrySchedule);
  });

  it('replaces attempts and delays but keeps the jitter', () => {
    expect(withRetryOverride(webhookRetrySchedule, { maxAttempts: 3, delaysSeconds: [10, 20] })).toEqual({
      maxAttempts: 3,
      delaysSeconds: [10, 20],
      jitter: webhookRetrySchedule.jitter,
    });
  });

  it.each([0, 1001, 2.5, NaN])('refuses %p attempts: SQS takes a whole maxReceiveCount from 1 to 1000', (maxAttempts) => {
    expect(() => withRetryOverride(requestRetrySchedule, { maxAttempts })).toThrow(RangeError);
  });

  it.each([[[]], [[-1]], [[43_201]]])('refuses the delays %p: none, negative, or beyond the 12 h SQS allows', (delaysSeconds) => {
    expect(() => withRetryOverride(requestRetrySchedule, { delaysSeconds })).toThrow(RangeError);
  });
});

describe('queueRetrySchedule', () => {
  it.each(Object.keys(queues) as (keyof typeof queues)[])('gives the %s queue as many attempts as its maxReceiveCount', (name) => {
    expect(queueRetrySchedule(name).maxAttempts).toBe(queues[name].retry.maxAttempts);
  });
});

describe('retryScheduleOf', () => {
  it('is the topology schedule when the environment says nothing', () => {
    expect(retryScheduleOf('requests', {})).toEqual(queueRetrySchedule('requests'));
    expect(retryScheduleOf('deliveries', { [ENV.deliveryRetryDelays]: '', [ENV.deliveryMaxAttempts]: ' ' })).toEqual(
      queueRetrySchedule('deliveries'),
    );
  });

  it('reads back what the stack writes', () => {
    const schedule = queueRetrySchedule('deliveries', { maxAttempts: 4, delaysSeconds: [60, 600] });
    expect(retryScheduleOf('deliveries', retryScheduleEnvironment('deliveries', schedule))).toEqual(schedule);
  });

  it('overrides the attempts alone and keeps the delays', () => {
    expect(retryScheduleOf('requests', { [ENV.requestMaxAttempts]: '2' })).toEqual({ ...queueRetrySchedule('requests'), maxAttempts: 2 });
  });

  it('names the variables when a value is malformed, instead of falling back and disagreeing with the queue', () => {
    expect(() => retryScheduleOf('requests', { [ENV.requestMaxAttempts]: 'five' })).toThrow(/HERALD_REQUEST_MAX_ATTEMPTS/);
    expect(() => retryScheduleOf('deliveries', { [ENV.deliveryRetryDelays]: '5;10' })).toThrow(/HERALD_DELIVERY_RETRY_DELAYS/);
  });
});

describe('settings.retrySchedule', () => {
  afterEach(() => {
    delete process.env[ENV.deliveryRetryDelays];
    delete process.env[ENV.deliveryMaxAttempts];
  });

  it("reads the consumer's schedule from the environment on every call", () => {
    expect(settings.retrySchedule('deliveries')).toEqual(queueRetrySchedule('deliveries'));
    process.env[ENV.deliveryRetryDelays] = '1,2';
    process.env[ENV.deliveryMaxAttempts] = '3';
    expect(settings.retrySchedule('deliveries')).toMatchObject({ maxAttempts: 3, delaysSeconds: [1, 2] });
  });
});
