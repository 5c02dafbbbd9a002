import type { RequestMessage, RequestQueue, StuckRequestStore } from '../../../lambdas/core/ports';
import type { HeraldRequest } from '../../../lambdas/core/request';
import { sweepStuckRequests } from '../../../lambdas/core/sweep-stuck-requests';

const NOW = new Date('2026-11-25T12:00:00.000Z');
const settings = { unenqueuedAfterSeconds: 60, staleEnqueueAfterSeconds: 900, batchLimit: 100 };

function request(id: string, overrides: Partial<HeraldRequest> = {}): HeraldRequest {
  return {
    id,
    merchantId: 'mer_a',
    type: 'demo.sleep',
    payload: {},
    status: 'accepted',
    version: 1,
    attempts: 0,
    idempotencyKey: id,
    webhookEvents: true,
    history: [],
    createdAt: '2026-11-25T11:00:00.000Z',
    updatedAt: '2026-11-25T11:00:00.000Z',
    ...overrides,
  };
}

/** An in-memory store that applies the same selection rules as the DynamoDB queries. */
class MemoryStore implements StuckRequestStore {
  readonly marked: string[] = [];
  queries: Record<string, unknown>[] = [];
  constructor(readonly requests: HeraldRequest[]) {}
  async findUnqueued(query: { changedBefore: string; enqueuedBefore: string; limit: number }) {
    this.queries.push(query);
    return this.requests.filter(
      (r) => r.status === 'accepted' && (r.nextAttemptAt ?? r.updatedAt) < query.changedBefore && (!r.enqueuedAt || r.enqueuedAt < query.enqueuedBefore),
    );
  }
  async findLeaseExpired(query: { before: string; limit: number }) {
    this.queries.push(query);
    return this.requests.filter((r) => r.status === 'processing' && (r.leaseUntil ?? '') < query.before);
  }
  async markResent(id: string) {
    this.marked.push(id);
  }
}

class MemoryQueue implements RequestQueue {
  readonly sent: { message: RequestMessage; traceId?: string }[] = [];
  constructor(private readonly failFor: Set<string> = new Set()) {}
  async enqueue(message: RequestMessage, traceId?: string) {
    if (this.failFor.has(message.requestId)) throw new Error('queue unavailable');
    this.sent.push({ message, ...(traceId ? { traceId } : {}) });
  }
  async delayRedelivery() {}
}

describe('sweepStuckRequests', () => {
  it('asks for requests unqueued for a minute, with a mark older than 15 minutes, or past their lease', async () => {
    const store = new MemoryStore([]);
    await sweepStuckRequests({ store, queue: new MemoryQueue(), log: () => undefined, now: () => NOW }, settings);
    expect(store.queries).toEqual([
      { changedBefore: '2026-11-25T11:59:00.000Z', enqueuedBefore: '2026-11-25T11:45:00.000Z', limit: 100 },
      { before: '2026-11-25T12:00:00.000Z', limit: 100 },
    ]);
  });

  it('re-enqueues each stuck request with its trace id, and marks the accepted ones', async () => {
    const store = new MemoryStore([
      request('req_never', { traceId: 'trace-1' }),
      request('req_stale', { enqueuedAt: '2026-11-25T11:30:00.000Z' }),
      request('req_fresh', { enqueuedAt: '2026-11-25T11:59:30.000Z' }),
      request('req_lease', { status: 'processing', leaseUntil: '2026-11-25T11:59:59.000Z' }),
      request('req_held', { status: 'processing', leaseUntil: '2026-11-25T12:05:00.000Z' }),
    ]);
    const queue = new MemoryQueue();
    const report = await sweepStuckRequests({ store, queue, log: () => undefined, now: () => NOW }, settings);

    expect(report.resent).toEqual([
      { id: 'req_never', reason: 'never-enqueued' },
      { id: 'req_stale', reason: 'enqueue-stale' },
      { id: 'req_lease', reason: 'lease-expired' },
    ]);
    expect(queue.sent[0]).toEqual({ message: { requestId: 'req_never', merchantId: 'mer_a', type: 'demo.sleep' }, traceId: 'trace-1' });
    expect(store.marked).toEqual(['req_never', 'req_stale']);
  });

  it('carries on past a request that cannot be enqueued, reporting it and leaving it unmarked', async () => {
    const store = new MemoryStore([request('req_a'), request('req_b')]);
    const report = await sweepStuckRequests(
      { store, queue: new MemoryQueue(new Set(['req_a'])), log: () => undefined, now: () => NOW },
      settings,
    );
    expect(report.failed).toEqual([{ id: 'req_a', error: 'queue unavailable' }]);
    expect(report.resent).toEqual([{ id: 'req_b', reason: 'never-enqueued' }]);
    expect(store.marked).toEqual(['req_b']);
  });
});
