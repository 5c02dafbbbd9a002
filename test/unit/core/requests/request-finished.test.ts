import type { HeraldRequest } from '../../../../lambdas/core/requests/request';
import { everyPublisher } from '../../../../lambdas/core/requests/request-finished';

const finished: HeraldRequest = {
  id: 'req_1',
  merchantId: 'mer_a',
  type: 'demo.echo',
  payload: {},
  status: 'succeeded',
  version: 3,
  attempts: 1,
  idempotencyKey: 'k-1',
  webhookEvents: true,
  history: [],
  createdAt: '2026-03-01T10:00:00.000Z',
  updatedAt: '2026-03-01T10:00:01.000Z',
};

describe('everyPublisher', () => {
  it('tells every publisher, and rethrows the first failure only after all have run', async () => {
    const told: string[] = [];
    const events = everyPublisher([
      { requestFinished: async () => Promise.reject(new Error('SNS is down')) },
      { requestFinished: async (request) => void told.push(`webhooks:${request.id}`) },
    ]);
    await expect(events.requestFinished(finished)).rejects.toThrow('SNS is down');
    expect(told).toEqual(['webhooks:req_1']);
  });

  it('resolves when every publisher did its part', async () => {
    const told: string[] = [];
    const events = everyPublisher([
      { requestFinished: async () => void told.push('notifications') },
      { requestFinished: async () => void told.push('webhooks') },
    ]);
    await events.requestFinished(finished);
    expect(told.sort()).toEqual(['notifications', 'webhooks']);
  });
});
