import { IdempotencyKeyReusedError, MissingIdempotencyKeyError, ServiceUnavailableError, UnknownRequestTypeError, ValidationError } from '../../../../lambdas/core/shared/errors';
import { REQUEST_ID_PATTERN } from '../../../../lambdas/core/requests/ids';
import { submitRequest, type SubmitDependencies } from '../../../../lambdas/core/requests/submit-request';
import { InMemoryRequestQueue, InMemoryRequestStore } from '../../../support/core/requests/in-memory-ports';
import { echo, registryOf } from '../../../support/test-processors';

const NOW = new Date('2026-03-10T12:00:00Z');

function setup(now = () => NOW) {
  const store = new InMemoryRequestStore({ now });
  const queue = new InMemoryRequestQueue();
  const deps: SubmitDependencies = { store, queue, ...registryOf(echo), requestIdKey: 'test-key', smsCountries: 'all', statusUrlOf: async (id) => `https://status.example.com/v1/status/${id}`, now };
  return { store, queue, deps };
}

const body = (text = 'hello') => ({ type: 'test.echo', payload: { text } });

describe('submitRequest', () => {
  it('refuses an SMS to a country the operator did not list, storing nothing', async () => {
    const { deps, store, queue } = setup();
    const submission = { ...body(), notify: { sms: '+4915112345678' } };

    const refused = submitRequest({ ...deps, smsCountries: new Set(['US']) }, { merchantId: 'mer_a', idempotencyKey: 'k-sms', body: submission });

    await expect(refused).rejects.toMatchObject({ errors: [{ path: '/notify/sms', message: 'SMS to country DE are not enabled; SMS go only to US' }] });
    expect(store.size).toBe(0);
    expect(queue.sent).toEqual([]);
  });

  it('stores the request and enqueues a pointer to it, not its payload', async () => {
    const { deps, store, queue } = setup();
    const accepted = await submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body(), traceId: 't-1' });

    expect(accepted).toMatchObject({ replayed: false, body: { id: accepted.id, status: 'accepted' }, statusUrl: `https://status.example.com/v1/status/${accepted.id}`, expectedSeconds: 2 });
    expect(await store.get(accepted.id)).toMatchObject({ status: 'accepted', version: 1, payload: { text: 'hello' }, enqueuedAt: NOW.toISOString() });
    expect(queue.sent).toEqual([{ message: { requestId: accepted.id, merchantId: 'mer_a', type: 'test.echo' }, traceId: 't-1' }]);
  });

  it('returns the original response when the same key is replayed with the same body', async () => {
    const { deps, store, queue } = setup();
    const first = await submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body() });
    const again = await submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body() });

    expect(again).toEqual({ ...first, replayed: true });
    expect(store.size).toBe(1);
    expect(queue.sent).toHaveLength(1);
  });

  it('refuses the same key with a different body and stores nothing new', async () => {
    const { deps, store } = setup();
    await submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body('one') });

    await expect(submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body('two') })).rejects.toThrow(IdempotencyKeyReusedError);
    expect(store.size).toBe(1);
  });

  it('keeps one merchant\'s key apart from another\'s', async () => {
    const { deps, store } = setup();
    const a = await submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'shared', body: body('a') });
    const b = await submitRequest(deps, { merchantId: 'mer_b', idempotencyKey: 'shared', body: body('b') });

    expect(b.replayed).toBe(false);
    expect(b.id).not.toBe(a.id);
    expect(store.size).toBe(2);
  });

  it('keeps a key bound to its request long after the first submit, replaying rather than accepting anew', async () => {
    let now = NOW;
    const { deps, store } = setup(() => now);
    const first = await submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body('one') });
    now = new Date(NOW.getTime() + 25 * 3_600_000);

    const later = await submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body('one') });
    expect(later).toMatchObject({ id: first.id, replayed: true });
    await expect(submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body('two') })).rejects.toThrow(IdempotencyKeyReusedError);
    expect(store.size).toBe(1);
  });

  it('derives a URL-safe id from the merchant and key, different under another deployment key', async () => {
    const { deps } = setup();
    const accepted = await submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body() });
    const elsewhere = await submitRequest({ ...setup().deps, requestIdKey: 'other-key' }, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body() });

    expect(accepted.id).toMatch(REQUEST_ID_PATTERN);
    expect(elsewhere.id).toMatch(REQUEST_ID_PATTERN);
    expect(elsewhere.id).not.toBe(accepted.id);
  });

  it.each([
    ['no key', undefined, body(), MissingIdempotencyKeyError],
    ['a key with a control character', 'k\u0001', body(), MissingIdempotencyKeyError],
    ['an unknown type', 'k1', { type: 'test.unknown', payload: {} }, UnknownRequestTypeError],
    ['a payload the type refuses', 'k1', { type: 'test.echo', payload: { text: 7 } }, ValidationError],
    ['an unknown top-level field', 'k1', { ...body(), extra: true }, ValidationError],
  ])('stores and enqueues nothing for %s', async (_case, idempotencyKey, submitted, error) => {
    const { deps, store, queue } = setup();
    await expect(submitRequest(deps, { merchantId: 'mer_a', idempotencyKey, body: submitted })).rejects.toThrow(error);
    expect(store.size).toBe(0);
    expect(queue.sent).toEqual([]);
  });

  it('keeps a request the queue refused, and enqueues it when the client retries with the same key', async () => {
    const { deps, store, queue } = setup();
    queue.refuseNext();
    const refused = submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body() });
    await expect(refused).rejects.toThrow(ServiceUnavailableError);
    const [storedId] = store.ids();
    expect((await store.get(storedId!))?.enqueuedAt).toBeUndefined();

    const retried = await submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body() });
    expect(retried).toMatchObject({ id: storedId, replayed: true });
    expect(queue.sent.map((sent) => sent.message.requestId)).toEqual([storedId]);
    expect((await store.get(storedId!))?.enqueuedAt).toEqual(expect.any(String));
  });

  it('holds a request with notBefore back until then: the message is delayed and counts as sent from that time', async () => {
    const { deps, store, queue } = setup();
    const accepted = await submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'later', body: { ...body(), notBefore: '2026-03-10T12:01:30Z' } });

    expect(queue.sent).toEqual([expect.objectContaining({ delaySeconds: 90 })]);
    expect(await store.get(accepted.id)).toMatchObject({ status: 'accepted', enqueuedAt: '2026-03-10T12:01:30.000Z' });
  });

  it('starts a request whose notBefore has passed at once', async () => {
    const { deps, queue } = setup();
    await submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'past', body: { ...body(), notBefore: '2026-03-10T11:00:00+01:00' } });
    expect(queue.sent[0]).not.toHaveProperty('delaySeconds');
  });

  it('refuses a notBefore more than 15 minutes ahead, storing nothing', async () => {
    const { deps, store, queue } = setup();
    const refused = submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'far', body: { ...body(), notBefore: '2026-03-10T12:15:01Z' } });
    await expect(refused).rejects.toMatchObject({ errors: [{ path: '/notBefore', message: expect.stringContaining('at most 900 seconds') }] });
    expect(store.size).toBe(0);
    expect(queue.sent).toEqual([]);
  });

  it('refuses a notBefore that is not a date-time, naming the field', async () => {
    const { deps } = setup();
    const refused = submitRequest(deps, { merchantId: 'mer_a', idempotencyKey: 'bad', body: { ...body(), notBefore: 'in a minute' } });
    await expect(refused).rejects.toMatchObject({ errors: [{ path: '/notBefore', message: expect.stringContaining('ISO 8601') }] });
  });
});
