import { cancelRequest } from '../../../../lambdas/core/requests/cancel-request';
import { NotFoundError, RequestNotCancellableError } from '../../../../lambdas/core/shared/errors';
import { InMemoryRequestStore } from '../../../support/core/requests/in-memory-ports';
import { storedRequest } from '../../../support/request-fixtures';

const NOW = new Date('2026-03-10T12:00:00Z');

describe('cancelRequest', () => {
  it('cancels a request no worker has claimed, and records why in its history', async () => {
    const store = new InMemoryRequestStore();
    store.seed(storedRequest('req_1'));

    const cancelled = await cancelRequest(store, 'mer_a', 'req_1', NOW);

    expect(cancelled).toMatchObject({ status: 'cancelled', version: 2 });
    expect(cancelled.history.at(-1)).toMatchObject({ from: 'accepted', to: 'cancelled', reason: 'cancelled by the merchant' });
  });

  it('answers another merchant\'s request like an unknown one, and leaves it as it was', async () => {
    const store = new InMemoryRequestStore();
    store.seed(storedRequest('req_1'));

    await expect(cancelRequest(store, 'mer_b', 'req_1', NOW)).rejects.toThrow(NotFoundError);
    await expect(cancelRequest(store, 'mer_a', 'req_unknown', NOW)).rejects.toThrow(NotFoundError);
    expect(await store.get('req_1')).toMatchObject({ status: 'accepted', version: 1 });
  });

  it('refuses once a worker has claimed the request: exactly one of the two wins', async () => {
    const store = new InMemoryRequestStore();
    store.seed(storedRequest('req_1'));
    await store.claim('req_1', { leaseMs: 60_000, maxAttempts: 5 }, 0, NOW);

    await expect(cancelRequest(store, 'mer_a', 'req_1', NOW)).rejects.toThrow(RequestNotCancellableError);
    expect(await store.get('req_1')).toMatchObject({ status: 'processing' });
  });

  it('keeps a cancelled request from being claimed afterwards', async () => {
    const store = new InMemoryRequestStore();
    store.seed(storedRequest('req_1'));
    await cancelRequest(store, 'mer_a', 'req_1', NOW);

    expect(await store.claim('req_1', { leaseMs: 60_000, maxAttempts: 5 }, 0, NOW)).toMatchObject({ outcome: 'lost', reason: 'request is already cancelled' });
  });
});
