import { NotFoundError } from '../../../../lambdas/core/shared/errors';
import { getRequestStatus, matchesEntityTag, type RequestStatusDependencies } from '../../../../lambdas/core/requests/get-request-status';
import type { NotificationRecord } from '../../../../lambdas/core/notifications/notification';
import type { HeraldRequest } from '../../../../lambdas/core/requests/request';
import type { Delivery } from '../../../../lambdas/core/webhooks/delivery';

const AT = '2026-03-01T10:00:00.000Z';

function request(overrides: Partial<HeraldRequest> = {}): HeraldRequest {
  return {
    id: 'req_1',
    merchantId: 'mer_a',
    type: 'demo.echo',
    payload: {},
    status: 'accepted',
    version: 1,
    attempts: 0,
    idempotencyKey: 'k-1',
    webhookEvents: true,
    history: [{ from: null, to: 'accepted', at: AT, attempt: 0 }],
    createdAt: AT,
    updatedAt: AT,
    ...overrides,
  };
}

function delivery(state: Delivery['state']): Delivery {
  return {
    id: `dlv_req_1.ep_1.${state}`,
    merchantId: 'mer_a',
    endpointId: 'ep_1',
    subjectId: 'req_1',
    eventType: 'request.succeeded',
    eventTimestamp: AT,
    state,
    round: 1,
    attempts: [],
    createdAt: AT,
    updatedAt: AT,
  };
}

const sentSms: NotificationRecord = {
  audience: 'requester',
  channel: 'sms',
  event: 'request.succeeded',
  to: '+*******4567',
  state: 'sent',
  attempts: 1,
  createdAt: AT,
  updatedAt: AT,
};

/** A store of requests with their records beside them, as the table keeps them; counts the reads. */
function dependencies(stored: HeraldRequest[], extra: { deliveries?: Delivery[]; notifications?: NotificationRecord[] } = {}) {
  const reads = { status: 0 };
  const deps: RequestStatusDependencies = {
    requests: {
      getWithRecordsForMerchant: async (merchantId, id) => {
        reads.status++;
        const request = stored.find((r) => r.id === id && r.merchantId === merchantId);
        return request && { request, deliveries: extra.deliveries ?? [], notifications: extra.notifications ?? [] };
      },
    },
    expectedSeconds: (type) => (type === 'demo.echo' ? 2 : 30),
  };
  return { deps, reads };
}

describe('getRequestStatus', () => {
  it('answers a running request with its view, its entity tag and when to ask again', async () => {
    const { deps, reads } = dependencies([request()]);
    const status = await getRequestStatus(deps, { merchantId: 'mer_a', id: 'req_1' });
    expect(status).toMatchObject({ notModified: false, etag: expect.stringMatching(/^".+"$/), retryAfterSeconds: 2 });
    expect(status.notModified === false && status.view).toMatchObject({ id: 'req_1', status: 'accepted' });
    expect(reads.status).toBe(1);
  });

  it('says not modified when the client already holds the current entity tag', async () => {
    const { deps } = dependencies([request()]);
    const first = await getRequestStatus(deps, { merchantId: 'mer_a', id: 'req_1' });
    const again = await getRequestStatus(deps, { merchantId: 'mer_a', id: 'req_1', ifNoneMatch: `"stale", ${first.etag}` });
    expect(again).toEqual({ notModified: true, etag: first.etag, retryAfterSeconds: 2 });
  });

  it('gives a new entity tag once the request changes', async () => {
    const stored = [request()];
    const { deps } = dependencies(stored);
    const before = await getRequestStatus(deps, { merchantId: 'mer_a', id: 'req_1' });
    stored[0] = request({ status: 'processing', version: 2 });
    const after = await getRequestStatus(deps, { merchantId: 'mer_a', id: 'req_1', ifNoneMatch: before.etag });
    expect(after.notModified).toBe(false);
    expect(after.etag).not.toBe(before.etag);
  });

  it('stops asking the client to come back once the request has finished', async () => {
    const { deps } = dependencies([request({ status: 'succeeded', version: 3, result: { ok: true } })]);
    const status = await getRequestStatus(deps, { merchantId: 'mer_a', id: 'req_1' });
    expect(status.retryAfterSeconds).toBeUndefined();
  });

  it('summarizes the deliveries of a finished request and changes its tag when one of them moves on', async () => {
    const finished = request({ status: 'succeeded', version: 3 });
    const pending = dependencies([finished], { deliveries: [delivery('pending')] });
    const delivered = dependencies([finished], { deliveries: [delivery('succeeded')] });
    const whilePending = await getRequestStatus(pending.deps, { merchantId: 'mer_a', id: 'req_1' });
    const onceDelivered = await getRequestStatus(delivered.deps, { merchantId: 'mer_a', id: 'req_1', ifNoneMatch: whilePending.etag });
    expect(whilePending.notModified === false && whilePending.view.deliveries).toMatchObject({ total: 1, pending: 1 });
    expect(onceDelivered.notModified).toBe(false);
    expect(onceDelivered.notModified === false && onceDelivered.view.deliveries).toMatchObject({ total: 1, delivered: 1 });
  });

  it('reads a finished request and its deliveries and notifications in one read', async () => {
    const finished = request({ status: 'succeeded', version: 3, notify: { sms: '+15551234567' } });
    const { deps, reads } = dependencies([finished], { deliveries: [delivery('succeeded')], notifications: [sentSms] });
    const status = await getRequestStatus(deps, { merchantId: 'mer_a', id: 'req_1' });
    expect(status.notModified === false && status.view).toMatchObject({ deliveries: { total: 1, delivered: 1 }, notifications: [{ channel: 'sms' }] });
    expect(reads.status).toBe(1);
  });

  it('counts no deliveries for a finished request whose webhook events are off', async () => {
    const { deps } = dependencies([request({ status: 'succeeded', version: 3, webhookEvents: false })], { deliveries: [delivery('succeeded')] });
    const status = await getRequestStatus(deps, { merchantId: 'mer_a', id: 'req_1' });
    expect(status.notModified === false && status.view.deliveries).toEqual({ total: 0, pending: 0, delivered: 0, failed: 0 });
  });

  it('shows the notifications sent about a request that asked for them', async () => {
    const { deps } = dependencies([request({ status: 'succeeded', version: 3, notify: { sms: '+15551234567' } })], { notifications: [sentSms] });
    const status = await getRequestStatus(deps, { merchantId: 'mer_a', id: 'req_1' });
    expect(status.notModified === false && status.view.notifications).toEqual([expect.objectContaining({ channel: 'sms', state: 'sent' })]);
  });

  it('answers another merchant\'s request as not found, like an unknown one', async () => {
    const { deps } = dependencies([request()]);
    await expect(getRequestStatus(deps, { merchantId: 'mer_b', id: 'req_1' })).rejects.toThrow(NotFoundError);
    await expect(getRequestStatus(deps, { merchantId: 'mer_a', id: 'req_unknown' })).rejects.toThrow('No request req_unknown exists for this merchant');
  });
});

describe('matchesEntityTag', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['"v1"', true],
    ['"v0", "v1"', true],
    ['"v0"', false],
    ['*', true],
  ])('If-None-Match %p against "v1" matches: %p', (ifNoneMatch, expected) => {
    expect(matchesEntityTag(ifNoneMatch, '"v1"')).toBe(expected);
  });
});
