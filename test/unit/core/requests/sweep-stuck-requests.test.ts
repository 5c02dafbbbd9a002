import { sweepStuckRequests } from '../../../../lambdas/core/requests/sweep-stuck-requests';
import { InMemoryRequestQueue, InMemoryRequestStore } from '../../../support/core/requests/in-memory-ports';
import { storedRequest } from '../../../support/request-fixtures';

const NOW = new Date('2026-11-25T12:00:00.000Z');
const settings = { unenqueuedAfterSeconds: 60, staleEnqueueAfterSeconds: 900, batchLimit: 100 };
const CHANGED = '2026-11-25T11:00:00.000Z';

function setup(...requests: ReturnType<typeof storedRequest>[]) {
  const store = new InMemoryRequestStore({ now: () => NOW });
  for (const request of requests) store.seed(request);
  const queue = new InMemoryRequestQueue();
  const sweep = () => sweepStuckRequests({ store, queue, log: () => undefined, now: () => NOW }, settings);
  return { store, queue, sweep };
}

const request = (id: string, overrides: Parameters<typeof storedRequest>[1] = {}) =>
  storedRequest(id, { type: 'demo.sleep', createdAt: CHANGED, updatedAt: CHANGED, ...overrides });

describe('sweepStuckRequests', () => {
  it('re-enqueues each stuck request with its trace id, and marks the accepted ones', async () => {
    const { store, queue, sweep } = setup(
      request('req_never', { traceId: 'trace-1' }),
      request('req_stale', { enqueuedAt: '2026-11-25T11:30:00.000Z' }),
      request('req_fresh', { enqueuedAt: '2026-11-25T11:59:30.000Z' }),
      request('req_lease', { status: 'processing', attempts: 1, leaseUntil: '2026-11-25T11:59:59.000Z' }),
      request('req_held', { status: 'processing', attempts: 1, leaseUntil: '2026-11-25T12:05:00.000Z' }),
      request('req_done', { status: 'succeeded', attempts: 1 }),
    );

    const report = await sweep();

    expect(report.resent).toEqual([
      { id: 'req_never', reason: 'never-enqueued' },
      { id: 'req_stale', reason: 'enqueue-stale' },
      { id: 'req_lease', reason: 'lease-expired' },
    ]);
    expect(queue.sent[0]).toEqual({ message: { requestId: 'req_never', merchantId: 'mer_a', type: 'demo.sleep' }, traceId: 'trace-1' });
    expect((await store.get('req_never'))?.enqueuedAt).toBe(NOW.toISOString());
    expect((await store.get('req_stale'))?.enqueuedAt).toBe(NOW.toISOString());
    expect((await store.get('req_lease'))?.enqueuedAt).toBeUndefined();
  });

  it('leaves an unqueued request alone for its first minute, and one waiting for a retry until the retry is due', async () => {
    const { queue, sweep } = setup(
      request('req_new', { updatedAt: '2026-11-25T11:59:30.000Z' }),
      request('req_waiting', { nextAttemptAt: '2026-11-25T12:03:00.000Z' }),
    );
    expect((await sweep()).resent).toEqual([]);
    expect(queue.sent).toEqual([]);
  });

  it('carries on past a request that cannot be enqueued, reporting it and leaving it unmarked', async () => {
    const { store, queue, sweep } = setup(request('req_a'), request('req_b'));
    queue.refuseNext(1);

    const report = await sweep();

    expect(report.failed).toEqual([{ id: 'req_a', error: 'The queue refused the message' }]);
    expect(report.resent).toEqual([{ id: 'req_b', reason: 'never-enqueued' }]);
    expect((await store.get('req_a'))?.enqueuedAt).toBeUndefined();
  });

  it(`handles at most ${settings.batchLimit} requests of each kind per run, oldest first`, async () => {
    const many = Array.from({ length: settings.batchLimit + 5 }, (_, i) =>
      request(`req_${String(i).padStart(3, '0')}`, { updatedAt: new Date(Date.parse(CHANGED) + i * 1000).toISOString() }),
    );
    const { sweep } = setup(...many);

    const report = await sweep();

    expect(report.resent).toHaveLength(settings.batchLimit);
    expect(report.resent[0]).toEqual({ id: 'req_000', reason: 'never-enqueued' });
  });
});
