import { cancelRequest, type CancelDependencies } from '../../../../lambdas/core/requests/cancel-request';
import { claimRequest } from '../../../../lambdas/core/requests/claim-request';
import { NotFoundError, RequestNotCancellableError } from '../../../../lambdas/core/shared/errors';
import { InMemoryRequestStore } from '../../../support/core/requests/in-memory-ports';
import { storedRequest } from '../../../support/request-fixtures';

const NOW = new Date('2026-03-10T12:00:00Z');

/** The cancel's dependencies, recording the slots released and the ordering numbers withdrawn. */
function cancelling(store: InMemoryRequestStore): CancelDependencies & { released: string[]; withdrawn: number[] } {
  const released: string[] = [];
  const withdrawn: number[] = [];
  return {
    store,
    reader: store,
    quotas: { releaseInFlight: async (_merchantId, requestId) => void released.push(requestId) },
    order: { withdraw: async (_merchantId, _key, seqs) => void withdrawn.push(...seqs) },
    released,
    withdrawn,
  };
}

describe('cancelRequest', () => {
  it('gives back the in-flight slot and the ordering number the cancelled request held', async () => {
    const store = new InMemoryRequestStore();
    store.seed({ ...storedRequest('req_1'), holdsQuotaSlot: true, orderingKey: 'order-7', orderingSeq: 3 });
    const deps = cancelling(store);

    await cancelRequest(deps, 'mer_a', 'req_1', NOW);

    expect(deps.released).toEqual(['req_1']);
    expect(deps.withdrawn).toEqual([3]);
  });

  it('gives nothing back when the cancel is refused', async () => {
    const store = new InMemoryRequestStore();
    store.seed({ ...storedRequest('req_1'), holdsQuotaSlot: true, attempts: 1, status: 'processing' });
    const deps = cancelling(store);

    await expect(cancelRequest(deps, 'mer_a', 'req_1', NOW)).rejects.toThrow(RequestNotCancellableError);
    expect(deps.released).toEqual([]);
  });

  it('cancels a request no worker has claimed, and records why in its history', async () => {
    const store = new InMemoryRequestStore();
    store.seed(storedRequest('req_1'));

    const cancelled = await cancelRequest(cancelling(store), 'mer_a', 'req_1', NOW);

    expect(cancelled).toMatchObject({ status: 'cancelled', version: 2 });
    expect(cancelled.history.at(-1)).toMatchObject({ from: 'accepted', to: 'cancelled', reason: 'cancelled by the merchant' });
  });

  it('answers another merchant\'s request like an unknown one, and leaves it as it was', async () => {
    const store = new InMemoryRequestStore();
    store.seed(storedRequest('req_1'));

    await expect(cancelRequest(cancelling(store), 'mer_b', 'req_1', NOW)).rejects.toThrow(NotFoundError);
    await expect(cancelRequest(cancelling(store), 'mer_a', 'req_unknown', NOW)).rejects.toThrow(NotFoundError);
    expect(await store.get('req_1')).toMatchObject({ status: 'accepted', version: 1 });
  });

  it('refuses once a worker has claimed the request: exactly one of the two wins', async () => {
    const store = new InMemoryRequestStore();
    store.seed(storedRequest('req_1'));
    await claimRequest(store, 'req_1', { leaseMs: 60_000, maxAttempts: 5 }, 0, NOW);

    await expect(cancelRequest(cancelling(store), 'mer_a', 'req_1', NOW)).rejects.toThrow(RequestNotCancellableError);
    expect(await store.get('req_1')).toMatchObject({ status: 'processing' });
  });

  it('keeps a cancelled request from being claimed afterwards', async () => {
    const store = new InMemoryRequestStore();
    store.seed(storedRequest('req_1'));
    await cancelRequest(cancelling(store), 'mer_a', 'req_1', NOW);

    expect(await claimRequest(store, 'req_1', { leaseMs: 60_000, maxAttempts: 5 }, 0, NOW)).toMatchObject({ outcome: 'lost', reason: 'request is already cancelled' });
  });
});
