import type { Processor } from '../../../../lambdas/core/requests/processor';
import { processRequest, type ProcessDependencies } from '../../../../lambdas/core/requests/process-request';
import { claimRequest } from '../../../../lambdas/core/requests/claim-request';
import type { HeraldRequest } from '../../../../lambdas/core/requests/request';
import { requestRetrySchedule } from '../../../../lambdas/settings/retry';
import { InMemoryRedriveLog, InMemoryRequestQueue, InMemoryRequestStore, RecordingEventPublisher } from '../../../support/core/requests/in-memory-ports';
import { storedRequest } from '../../../support/request-fixtures';
import { echo, flaky, noServices, refusing, registryOf } from '../../../support/test-processors';

const NOW = new Date('2026-03-10T12:00:00Z');
const QUEUE = 'requests';

function setup(processors: Processor<any, unknown>[] = [echo, flaky, refusing]) {
  const store = new InMemoryRequestStore({ now: () => NOW });
  const queue = new InMemoryRequestQueue();
  const events = new RecordingEventPublisher();
  const redrives = new InMemoryRedriveLog();
  const deps: ProcessDependencies = {
    store,
    queue,
    events,
    redrives,
    queueName: QUEUE,
    processorFor: registryOf(...processors).processorFor,
    services: noServices,
    retry: requestRetrySchedule,
    maxReceiveCount: 5,
    retryScale: 1,
    remainingTimeMs: () => 60_000,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    random: () => 0.5,
    now: () => NOW,
  };
  return { store, queue, events, redrives, deps };
}

/** The request a message points at, stored as submit left it. */
const accepted = (type: string, extra: Partial<HeraldRequest> = {}) =>
  storedRequest('req_1', { type, payload: type === 'test.echo' ? { text: 'hi' } : {}, createdAt: '2026-03-10T11:59:00.000Z', ...extra });

const message = (type: string, receiveCount = 1) => ({ requestId: 'req_1', type, receiveCount, receiptHandle: 'rh-1' });

describe('processRequest', () => {
  it('stores the processor\'s result, ends the request succeeded and tells the publishers once', async () => {
    const { deps, store, events } = setup();
    store.seed(accepted('test.echo'));

    const outcome = await processRequest(deps, message('test.echo'));

    expect(outcome).toMatchObject({ kind: 'succeeded', request: { status: 'succeeded', result: { text: 'hi' }, attempts: 1 } });
    const stored = await store.get('req_1');
    expect(stored?.history.map((row) => `${row.from}->${row.to}`)).toEqual(['null->accepted', 'accepted->processing', 'processing->succeeded']);
    expect(stored?.leaseUntil).toBeUndefined();
    expect(events.finished.map((request) => request.status)).toEqual(['succeeded']);
  });

  it('acknowledges without running the work a message whose request another worker holds', async () => {
    let runs = 0;
    const counted: Processor<{ text: string }, unknown> = { ...echo, run: async () => ++runs };
    const { deps, store, events } = setup([counted]);
    store.seed(accepted('test.echo', { status: 'processing', attempts: 1, leaseUntil: '2026-03-10T12:05:00.000Z' }));

    const outcome = await processRequest(deps, message('test.echo', 2));

    expect(outcome).toEqual({ kind: 'skipped', reason: expect.stringMatching(/holds the lease/) });
    expect(runs).toBe(0);
    expect(events.finished).toEqual([]);
  });

  it('finishes the fan-out again, without running the work, when a redelivered message finds the request succeeded', async () => {
    const { deps, store, events } = setup();
    store.seed(accepted('test.echo'));
    await processRequest(deps, message('test.echo'));

    const again = await processRequest(deps, message('test.echo', 2));

    expect(again).toMatchObject({ kind: 'skipped' });
    expect(events.finished.map((request) => request.status)).toEqual(['succeeded', 'succeeded']);
    expect((await store.get('req_1'))?.attempts).toBe(1);
  });

  it('puts a transiently failed request back to accepted and hides its message for the backoff', async () => {
    const { deps, store, queue, events } = setup();
    store.seed(accepted('test.flaky'));

    const outcome = await processRequest(deps, message('test.flaky', 2));

    // Attempt 2 of the request schedule: nominal 4 s, full jitter at 0.5.
    expect(outcome).toMatchObject({ kind: 'retry', delaySeconds: 2, error: { code: 'downstream_busy', retryable: true } });
    expect(queue.delays).toEqual([{ receiptHandle: 'rh-1', seconds: 2 }]);
    expect(await store.get('req_1')).toMatchObject({ status: 'accepted', nextAttemptAt: '2026-03-10T12:00:02.000Z', error: { code: 'downstream_busy' } });
    expect(events.finished).toEqual([]);
  });

  it('fails a refused request at once, without retrying', async () => {
    const { deps, store, queue, events } = setup();
    store.seed(accepted('test.refuse'));

    const outcome = await processRequest(deps, message('test.refuse'));

    expect(outcome).toMatchObject({ kind: 'failed', request: { status: 'failed', error: { code: 'over_limit', retryable: false } } });
    expect(queue.delays).toEqual([]);
    expect(events.finished.map((request) => request.id)).toEqual(['req_1']);
    expect(await store.get('req_1')).toMatchObject({ status: 'failed' });
  });

  it('fails the request on the last allowed attempt and lets its message go to the DLQ at once', async () => {
    const { deps, store, queue } = setup();
    store.seed(accepted('test.flaky', { attempts: 4 }));

    const outcome = await processRequest(deps, message('test.flaky', 5));

    expect(outcome).toMatchObject({ kind: 'exhausted', request: { status: 'failed', attempts: 5 } });
    expect(queue.delays).toEqual([{ receiptHandle: 'rh-1', seconds: 0 }]);
    expect((await store.get('req_1'))?.history.at(-1)?.reason).toMatch(/^attempts-exhausted after 5 attempts/);
  });

  it('lets the message of an exhausted request go to the DLQ at once even when announcing its end fails', async () => {
    const { deps, store, queue } = setup();
    store.seed(accepted('test.flaky', { attempts: 4 }));
    const failing = { ...deps, events: { requestFinished: async () => Promise.reject(new Error('the deliveries queue refused the batch')) } };

    await expect(processRequest(failing, message('test.flaky', 5))).rejects.toThrow('the deliveries queue refused the batch');

    // Visible again at once: its next receive moves it to the DLQ instead of waiting out the visibility timeout.
    expect(queue.delays).toEqual([{ receiptHandle: 'rh-1', seconds: 0 }]);
    expect(await store.get('req_1')).toMatchObject({ status: 'failed', attempts: 5 });
  });

  it('drops the outcome of an attempt whose lease another worker took over meanwhile', async () => {
    const { deps, store, events } = setup();
    const late = new Date(NOW.getTime() + 60 * 60_000);
    const overtaken: Processor<{ text: string }, unknown> = {
      ...echo,
      // While this attempt runs past its lease, a second worker claims the request.
      run: async () => (await claimRequest(store, 'req_1', { leaseMs: 11_000, maxAttempts: 5 }, 1, late)).outcome,
    };
    const slow: ProcessDependencies = { ...deps, processorFor: registryOf(overtaken).processorFor };
    store.seed(accepted('test.echo'));

    const outcome = await processRequest(slow, message('test.echo'));

    expect(outcome).toEqual({ kind: 'skipped', reason: expect.stringMatching(/superseded/) });
    expect(await store.get('req_1')).toMatchObject({ status: 'processing', attempts: 2 });
    expect(events.finished).toEqual([]);
  });

  it('reopens a request whose attempts ran out once per operator redrive, however many copies arrive', async () => {
    const { deps, store, redrives } = setup();
    store.seed(accepted('test.echo', { status: 'failed', attempts: 5, error: { code: 'timeout', message: 'slow', retryable: true } }));

    // A stray copy with no redrive behind it changes nothing and is kept for the DLQ.
    expect(await processRequest(deps, message('test.echo', 1))).toMatchObject({ kind: 'exhausted', request: { status: 'failed' } });
    await redrives.begin(QUEUE);

    expect(await processRequest(deps, message('test.echo', 1))).toMatchObject({ kind: 'succeeded' });
    expect(await processRequest(deps, message('test.echo', 1))).toMatchObject({ kind: 'skipped' });
    const stored = await store.get('req_1');
    expect(stored).toMatchObject({ status: 'succeeded', redriveGeneration: 1, attempts: 1 });
    expect(stored?.history.filter((row) => row.reason === 'redriven')).toHaveLength(1);
  });

  it('never reopens a request that was refused, whatever the redrive', async () => {
    const { deps, store, redrives } = setup();
    store.seed(accepted('test.echo', { status: 'failed', attempts: 1, error: { code: 'over_limit', message: 'no', retryable: false } }));
    await redrives.begin(QUEUE);

    expect(await processRequest(deps, message('test.echo', 1))).toMatchObject({ kind: 'skipped' });
    expect(await store.get('req_1')).toMatchObject({ status: 'failed', version: 1 });
  });

  it('ends failed, attempts-exhausted, a request whose workers died on every attempt, when a fresh message finds it', async () => {
    let runs = 0;
    const counted: Processor<{ text: string }, unknown> = { ...echo, run: async () => ++runs };
    const { deps, store, queue, events } = setup([counted]);
    // Five claims, each abandoned: the last lease ran out a minute ago. The sweeper's message is on its first receive.
    store.seed(accepted('test.echo', { status: 'processing', attempts: 5, leaseUntil: '2026-03-10T11:59:00.000Z' }));

    const outcome = await processRequest(deps, message('test.echo', 1));

    expect(outcome).toMatchObject({ kind: 'exhausted', request: { status: 'failed', attempts: 5 } });
    expect(runs).toBe(0);
    const stored = await store.get('req_1');
    expect(stored).toMatchObject({ status: 'failed', error: { code: 'attempts-exhausted', retryable: true } });
    expect(stored?.history.at(-1)).toMatchObject({ from: 'processing', to: 'failed', reason: 'attempts-exhausted' });
    expect(events.finished.map((request) => request.status)).toEqual(['failed']);
    expect(queue.delays).toEqual([{ receiptHandle: 'rh-1', seconds: 0 }]);
  });

  it('never lets a fresh message buy a request a sixth attempt', async () => {
    const { deps, store } = setup();
    store.seed(accepted('test.flaky', { attempts: 5 }));

    const outcome = await processRequest(deps, message('test.flaky', 1));

    expect(outcome).toMatchObject({ kind: 'exhausted' });
    expect(await store.get('req_1')).toMatchObject({ status: 'failed', attempts: 5 });
  });

  it('does not reopen a request that failed after an earlier redrive until a newer redrive begins', async () => {
    const { deps, store, redrives } = setup();
    await redrives.begin(QUEUE);
    store.seed(accepted('test.flaky', { attempts: 4 }));

    expect(await processRequest(deps, message('test.flaky', 5))).toMatchObject({ kind: 'exhausted' });
    expect(await store.get('req_1')).toMatchObject({ status: 'failed', failedAtRedrive: 1 });
    // The copy that comes back after the failure: the redrive of generation 1 happened before it failed.
    expect(await processRequest(deps, message('test.flaky', 1))).toMatchObject({ kind: 'exhausted', request: { status: 'failed' } });
    expect(await store.get('req_1')).toMatchObject({ status: 'failed', attempts: 5 });

    await redrives.begin(QUEUE);
    expect(await processRequest(deps, message('test.flaky', 1))).toMatchObject({ kind: 'retry' });
    expect((await store.get('req_1'))?.history.filter((row) => row.reason === 'redriven')).toHaveLength(1);
  });
});
