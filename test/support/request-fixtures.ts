import type { HeraldRequest } from '../../lambdas/core/requests/request';

/** A stored request in `accepted`, as submit leaves it; a test overrides what its case is about. */
export function storedRequest(id: string, overrides: Partial<HeraldRequest> = {}): HeraldRequest {
  const at = overrides.createdAt ?? '2026-03-10T11:00:00.000Z';
  return {
    id,
    merchantId: 'mer_a',
    type: 'test.echo',
    payload: { text: 'hi' },
    status: 'accepted',
    version: 1,
    attempts: 0,
    idempotencyKey: `key-${id}`,
    webhookEvents: true,
    history: [{ from: null, to: 'accepted', at, attempt: 0 }],
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}
