import { Webhook } from 'standardwebhooks';
import { ConflictError, NotFoundError, ValidationError } from '../../../../lambdas/core/shared/errors';
import { EndpointLimitReachedError, RECOVER_PAGE_SIZE, webhookEndpoints, type ManageWebhooksDependencies } from '../../../../lambdas/core/webhooks/manage-webhooks';
import type { HeraldRequest } from '../../../../lambdas/core/requests/request';
import { deliveryIdOf, type Delivery } from '../../../../lambdas/core/webhooks/delivery';
import { InMemoryDeliveryQueue, InMemoryDeliveryStore, InMemoryWebhookEndpointStore, ScriptedWebhookTransport } from '../../../support/core/webhooks/in-memory-ports';
import { outcomeOver } from '../../../support/core/webhooks/delivery-transitions';

const NOW = new Date('2026-03-10T12:00:00Z');
const URL_A = 'https://hooks.example.com/a';

function setup(transport = new ScriptedWebhookTransport(), now = () => NOW) {
  const endpoints = new InMemoryWebhookEndpointStore();
  const deliveries = new InMemoryDeliveryStore();
  const queue = new InMemoryDeliveryQueue();
  const checked: string[] = [];
  const requests = new Map<string, Pick<HeraldRequest, 'merchantId'>>([['req_01jabcdefghjkmnpqrstvwxyz0', { merchantId: 'mer_a' }]]);
  const deps: ManageWebhooksDependencies = {
    endpoints,
    deliveries,
    queue,
    transport,
    userAgent: 'Herald-Test',
    checkUrl: async (url) => {
      checked.push(url);
      if (url.includes('internal')) throw new ValidationError('url must resolve to public addresses only', [{ path: '/url', message: 'private address' }]);
    },
    loadRequest: async (merchantId, id) => (requests.get(id)?.merchantId === merchantId ? ({ id } as HeraldRequest) : undefined),
    limits: { maxEndpointsPerMerchant: 2, previousSecretHours: 24, recoverMaxDays: 14 },
    now,
  };
  return { deps, endpoints, deliveries, queue, transport, checked };
}

/** Lets another change land right after a use case reads an endpoint and before it writes. */
class EndpointStoreWithInterloper extends InMemoryWebhookEndpointStore {
  afterNextRead?: () => Promise<unknown>;

  override async get(merchantId: string, id: string) {
    const read = await super.get(merchantId, id);
    const interloper = this.afterNextRead;
    this.afterNextRead = undefined;
    await interloper?.();
    return read;
  }
}

function delivery(id: string, extra: Partial<Delivery> = {}): Delivery {
  const [subjectId, endpointId] = id.split('/') as [string, string];
  return {
    id: deliveryIdOf(subjectId, endpointId, 'request.succeeded'),
    merchantId: 'mer_a',
    endpointId,
    subjectId,
    eventType: 'request.succeeded',
    eventTimestamp: '2026-03-09T10:00:00.000Z',
    state: 'dead',
    round: 1,
    attempts: [],
    createdAt: '2026-03-09T10:00:00.000Z',
    updatedAt: '2026-03-09T10:00:00.000Z',
    ...extra,
  };
}

describe('webhook endpoint management', () => {
  it('creates an endpoint after checking its URL, and shows its secret only then', async () => {
    const { deps, checked } = setup();
    const created = await webhookEndpoints.create(deps, 'mer_a', { url: URL_A, eventTypes: ['request.failed', 'request.failed'] });

    expect(checked).toEqual([URL_A]);
    expect(created).toMatchObject({ url: URL_A, eventTypes: ['request.failed'], disabled: false, secret: expect.stringMatching(/^whsec_/) });
    expect(await webhookEndpoints.get(deps, 'mer_a', created.id)).not.toHaveProperty('secret');
  });

  it('stores nothing when the URL check refuses it', async () => {
    const { deps } = setup();
    await expect(webhookEndpoints.create(deps, 'mer_a', { url: 'https://internal.example/x' })).rejects.toThrow(ValidationError);
    expect(await webhookEndpoints.list(deps, 'mer_a')).toEqual([]);
  });

  it('refuses an endpoint beyond the merchant\'s limit, counting only that merchant\'s', async () => {
    const { deps } = setup();
    await webhookEndpoints.create(deps, 'mer_a', { url: URL_A });
    await webhookEndpoints.create(deps, 'mer_a', { url: URL_A });
    await webhookEndpoints.create(deps, 'mer_b', { url: URL_A });

    await expect(webhookEndpoints.create(deps, 'mer_a', { url: URL_A })).rejects.toThrow(EndpointLimitReachedError);
    expect(await webhookEndpoints.list(deps, 'mer_a')).toHaveLength(2);
  });

  it('answers another merchant\'s endpoint exactly like a missing one', async () => {
    const { deps } = setup();
    const created = await webhookEndpoints.create(deps, 'mer_a', { url: URL_A });

    await expect(webhookEndpoints.get(deps, 'mer_b', created.id)).rejects.toThrow(NotFoundError);
    await expect(webhookEndpoints.update(deps, 'mer_b', created.id, { disabled: true })).rejects.toThrow(NotFoundError);
    await expect(webhookEndpoints.remove(deps, 'mer_b', created.id)).rejects.toThrow(NotFoundError);
    expect(await webhookEndpoints.get(deps, 'mer_a', created.id)).toMatchObject({ disabled: false });
  });

  it('disables and re-enables an endpoint, starting a fresh failure count on re-enabling', async () => {
    const { deps, endpoints } = setup();
    const created = await webhookEndpoints.create(deps, 'mer_a', { url: URL_A });
    await endpoints.markFailing('mer_a', created.id, '2026-03-01T00:00:00.000Z');

    expect(await webhookEndpoints.update(deps, 'mer_a', created.id, { disabled: true })).toMatchObject({ disabled: true, disabledReason: 'disabled by the merchant' });
    expect(await webhookEndpoints.update(deps, 'mer_a', created.id, { disabled: false })).toMatchObject({ disabled: false });
    expect((await endpoints.get('mer_a', created.id))?.failingSince).toBeUndefined();
  });

  it('refuses a change to an endpoint that changed since it was read', async () => {
    const { deps } = setup();
    const endpoints = new EndpointStoreWithInterloper();
    const racing = { ...deps, endpoints };
    const created = await webhookEndpoints.create(racing, 'mer_a', { url: URL_A });
    endpoints.afterNextRead = () => webhookEndpoints.update(racing, 'mer_a', created.id, { description: 'first' });

    await expect(webhookEndpoints.update(racing, 'mer_a', created.id, { description: 'second' })).rejects.toThrow(ConflictError);
    expect(await webhookEndpoints.get(racing, 'mer_a', created.id)).toMatchObject({ description: 'first' });
  });

  it('signs with both secrets after a rotation, so receivers holding either verify', async () => {
    // Receivers refuse old timestamps, so this attempt is signed at the real time.
    const { deps, transport } = setup(new ScriptedWebhookTransport(), () => new Date());
    const created = await webhookEndpoints.create(deps, 'mer_a', { url: URL_A });
    const rotated = await webhookEndpoints.rotateSecret(deps, 'mer_a', created.id);

    const test = await webhookEndpoints.sendTest(deps, 'mer_a', created.id);

    expect(test.succeeded).toBe(true);
    const [post] = transport.posts;
    for (const secret of [created.secret!, rotated.secret!]) {
      expect(() => new Webhook(secret).verify(post!.body, post!.headers)).not.toThrow();
    }
  });

  it('records a failed test event as dead and does not retry it', async () => {
    const { deps, deliveries, queue } = setup(new ScriptedWebhookTransport({ status: 500, latencyMs: 2 }));
    const created = await webhookEndpoints.create(deps, 'mer_a', { url: URL_A });

    const test = await webhookEndpoints.sendTest(deps, 'mer_a', created.id);

    expect(test).toMatchObject({ succeeded: false, attempt: { status: 500, attempt: 1 } });
    expect(await deliveries.get(test.deliveryId)).toMatchObject({ state: 'dead', attempts: [{ status: 500 }] });
    expect(queue.sent).toEqual([]);
  });

  it('sends a delivery again as a new round, and a stale attempt of the old round is no longer recorded', async () => {
    const { deps, deliveries, queue } = setup();
    const dead = delivery('req_1/ep_1');
    deliveries.seed(dead);

    const resent = await webhookEndpoints.retryDelivery(deps, 'mer_a', dead.id);

    expect(resent).toMatchObject({ state: 'pending' });
    expect(queue.sent).toEqual([expect.objectContaining({ deliveryId: dead.id, round: 2 })]);
    const now = (await deliveries.get(dead.id))!;
    expect(await deliveries.apply(outcomeOver({ ...now, round: 1 }, { kind: 'deliver', attempts: [] }, NOW.toISOString()))).toBeUndefined();
    expect(await deliveries.apply(outcomeOver(now, { kind: 'deliver', attempts: [] }, NOW.toISOString()))).toMatchObject({ state: 'succeeded', round: 2 });
  });

  it('does not let one merchant resend another\'s delivery', async () => {
    const { deps, deliveries, queue } = setup();
    deliveries.seed(delivery('req_1/ep_1'));

    await expect(webhookEndpoints.retryDelivery(deps, 'mer_b', deliveryIdOf('req_1', 'ep_1', 'request.succeeded'))).rejects.toThrow(NotFoundError);
    expect(queue.sent).toEqual([]);
  });

  it('recovers only the endpoint\'s failed deliveries since the given time', async () => {
    const { deps, deliveries, queue } = setup();
    const created = await webhookEndpoints.create(deps, 'mer_a', { url: URL_A });
    const ep = created.id;
    deliveries.seed(delivery(`req_1/${ep}`, { state: 'dead' }));
    deliveries.seed(delivery(`req_2/${ep}`, { state: 'dropped' }));
    deliveries.seed(delivery(`req_3/${ep}`, { state: 'succeeded' }));
    deliveries.seed(delivery(`req_4/${ep}`, { state: 'dead', createdAt: '2026-03-01T00:00:00.000Z' }));

    const recovered = await webhookEndpoints.recover(deps, 'mer_a', ep, { since: '2026-03-09T00:00:00Z' });

    expect(recovered.recovered).toBe(2);
    expect(queue.sent.map((message) => message.subjectId).sort()).toEqual(['req_1', 'req_2']);
  });

  it('pages through the whole window, past one page, and says it did not stop early', async () => {
    const { deps, deliveries, queue } = setup();
    const created = await webhookEndpoints.create(deps, 'mer_a', { url: URL_A });
    const count = RECOVER_PAGE_SIZE * 2 + 5;
    for (let i = 0; i < count; i++) deliveries.seed(delivery(`req_${i}/${created.id}`, { state: 'dead' }));

    const recovered = await webhookEndpoints.recover(deps, 'mer_a', created.id, { since: '2026-03-09T00:00:00Z' });

    expect(recovered).toMatchObject({ recovered: count, scanned: count, stoppedEarly: false });
    expect(new Set(queue.sent.map((message) => message.subjectId)).size).toBe(count);
  });

  it('refuses to recover from further back than the stated bound', async () => {
    const { deps } = setup();
    const created = await webhookEndpoints.create(deps, 'mer_a', { url: URL_A });
    await expect(webhookEndpoints.recover(deps, 'mer_a', created.id, { since: '2026-02-01T00:00:00Z' })).rejects.toThrow(/within the last 14 days/);
  });

  it('lists a request\'s deliveries only to the merchant that owns the request', async () => {
    const { deps, deliveries } = setup();
    deliveries.seed(delivery('req_01jabcdefghjkmnpqrstvwxyz0/ep_1', { state: 'succeeded' }));

    expect(await webhookEndpoints.deliveriesOfRequest(deps, 'mer_a', 'req_01jabcdefghjkmnpqrstvwxyz0')).toHaveLength(1);
    await expect(webhookEndpoints.deliveriesOfRequest(deps, 'mer_b', 'req_01jabcdefghjkmnpqrstvwxyz0')).rejects.toThrow(NotFoundError);
  });
});
