import { Webhook } from 'standardwebhooks';
import { callbackSecret } from '../../../../lambdas/core/webhooks/callback-secret';
import { acceptCallback, CallbackSecretMissingError, deliveryTenantOf, type CallbackIntake } from '../../../../lambdas/core/webhooks/callbacks';
import { deliverWebhook } from '../../../../lambdas/core/webhooks/deliver-webhook';
import { IdempotencyKeyReusedError, ValidationError } from '../../../../lambdas/core/shared/errors';
import { WebhookFanOut } from '../../../../lambdas/core/webhooks/fan-out-webhooks';
import type { HeraldRequest } from '../../../../lambdas/core/requests/request';
import { submitRequest, type SubmitDependencies } from '../../../../lambdas/core/requests/submit-request';
import { UnsafeWebhookUrlError } from '../../../../lambdas/core/webhooks/webhook-url';
import { type DeliveryMessage } from '../../../../lambdas/core/webhooks/delivery-message';
import { InMemoryCallbackSecretStore } from '../../../support/core/webhooks/in-memory-callback-ports';
import { InMemoryRequestQueue, InMemoryRequestStore } from '../../../support/core/requests/in-memory-ports';
import {
  InMemoryDeliveryQueue,
  InMemoryDeliveryStore,
  InMemoryWebhookEndpointStore,
  RecordingMerchantNotifier,
  ScriptedWebhookTransport,
} from '../../../support/core/webhooks/in-memory-ports';
import { deliverDependencies, webhookEndpoint } from '../../../support/core/webhooks/fixtures';
import { storedRequest } from '../../../support/request-fixtures';
import { echo, registryOf } from '../../../support/test-processors';

const CALLBACK_URL = 'https://client.example.com/callbacks/orders';

/** An intake whose URL check refuses the hosts it is given, as the SSRF guard refuses private ones. */
function intake(secrets: InMemoryCallbackSecretStore, refusedHosts: string[] = []): CallbackIntake & { checked: string[] } {
  const checked: string[] = [];
  return {
    checked,
    checkUrl: async (url) => {
      checked.push(url);
      if (refusedHosts.includes(new URL(url).hostname)) throw new UnsafeWebhookUrlError('non-public-address', `${new URL(url).hostname} resolves to 10.0.0.5`);
    },
    hasSecret: (merchantId) => secrets.exists(merchantId),
  };
}

async function merchantWithSecret(secrets: InMemoryCallbackSecretStore, merchantId = 'mer_a') {
  const shown = await callbackSecret.show({ secrets, previousSecretHours: 24 }, merchantId);
  return shown.view.secret!;
}

describe('acceptCallback', () => {
  it('refuses callbackEvents without a callbackUrl, naming the field', async () => {
    const secrets = new InMemoryCallbackSecretStore();
    const refused = acceptCallback(intake(secrets), 'mer_a', { callbackEvents: ['request.failed'] });
    await expect(refused).rejects.toThrow(ValidationError);
    await expect(refused).rejects.toMatchObject({ errors: [{ path: '/callbackEvents', message: 'callbackEvents needs a callbackUrl to send them to' }] });
  });

  it('refuses a URL the SSRF rules refuse, with the same problem code as an endpoint URL and the rule it broke', async () => {
    const secrets = new InMemoryCallbackSecretStore();
    await merchantWithSecret(secrets);
    const refused = acceptCallback(intake(secrets, ['internal.example.com']), 'mer_a', { callbackUrl: 'https://internal.example.com/x' });
    await expect(refused).rejects.toMatchObject({ code: 'unsafe-webhook-url', message: expect.stringMatching(/^callbackUrl is refused: .*non-public-address/) });
  });

  it('refuses a callback while the merchant has no callback secret, saying which call creates it', async () => {
    const secrets = new InMemoryCallbackSecretStore();
    const refused = acceptCallback(intake(secrets), 'mer_a', { callbackUrl: CALLBACK_URL });
    await expect(refused).rejects.toThrow(CallbackSecretMissingError);
    await expect(refused).rejects.toMatchObject({ code: 'callback-secret-missing', message: expect.stringContaining('GET /v1/callback-secret') });
  });

  it('keeps the URL and each named event once; no events named means every terminal event', async () => {
    const secrets = new InMemoryCallbackSecretStore();
    await merchantWithSecret(secrets);
    expect(await acceptCallback(intake(secrets), 'mer_a', { callbackUrl: CALLBACK_URL, callbackEvents: ['request.failed', 'request.failed'] })).toEqual({
      url: CALLBACK_URL,
      events: ['request.failed'],
    });
    expect(await acceptCallback(intake(secrets), 'mer_a', { callbackUrl: CALLBACK_URL })).toEqual({ url: CALLBACK_URL });
    expect(await acceptCallback(intake(secrets), 'mer_a', {})).toBeUndefined();
  });
});

describe('submitting a request with a callback', () => {
  function setup() {
    const secrets = new InMemoryCallbackSecretStore();
    const store = new InMemoryRequestStore();
    const queue = new InMemoryRequestQueue();
    const deps: SubmitDependencies = { store, queue, ...registryOf(echo), requestIdKey: 'test-key', smsCountries: 'all', callbacks: intake(secrets, ['internal.example.com']), statusUrlOf: async (id) => `/v1/status/${id}` };
    return { secrets, store, queue, deps };
  }
  const body = (callbackUrl = CALLBACK_URL, extra: Record<string, unknown> = {}) => ({ type: 'test.echo', payload: { text: 'hi' }, callbackUrl, ...extra });

  it('stores the callback on the request', async () => {
    const h = setup();
    await merchantWithSecret(h.secrets);
    const accepted = await submitRequest(h.deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body(CALLBACK_URL, { callbackEvents: ['request.succeeded'] }) });
    expect((await h.store.get(accepted.id))?.callback).toEqual({ url: CALLBACK_URL, events: ['request.succeeded'] });
  });

  it('stores nothing when the callback is refused', async () => {
    const h = setup();
    await expect(submitRequest(h.deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body() })).rejects.toThrow(CallbackSecretMissingError);
    await merchantWithSecret(h.secrets);
    await expect(submitRequest(h.deps, { merchantId: 'mer_a', idempotencyKey: 'k2', body: body('https://internal.example.com/x') })).rejects.toMatchObject({ code: 'unsafe-webhook-url' });
    await expect(submitRequest(h.deps, { merchantId: 'mer_a', idempotencyKey: 'k3', body: body('x'.repeat(2049)) })).rejects.toMatchObject({
      errors: [{ path: '/callbackUrl', message: 'callbackUrl may be at most 2048 characters long' }],
    });
    expect(h.store.size).toBe(0);
    expect(h.queue.sent).toEqual([]);
  });

  it('answers a replay with the original request and refuses the same key with another callbackUrl', async () => {
    const h = setup();
    await merchantWithSecret(h.secrets);
    const first = await submitRequest(h.deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body() });
    const again = await submitRequest(h.deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body() });
    expect(again).toEqual({ ...first, replayed: true });
    await expect(submitRequest(h.deps, { merchantId: 'mer_a', idempotencyKey: 'k1', body: body('https://other.example.com/cb') })).rejects.toThrow(IdempotencyKeyReusedError);
    expect(h.store.size).toBe(1);
    expect((await h.store.get(first.id))?.callback).toEqual({ url: CALLBACK_URL });
  });
});

const endpoint = webhookEndpoint({ merchantId: 'mer_a' });

const finished = (overrides: Partial<HeraldRequest> = {}) =>
  storedRequest('req_1', { status: 'succeeded', result: { ok: true }, updatedAt: '2026-03-10T12:00:00.000Z', callback: { url: CALLBACK_URL }, ...overrides });

describe('the fan-out of a request with a callback', () => {
  async function fanOut(request: HeraldRequest, withEndpoint = true) {
    const endpoints = new InMemoryWebhookEndpointStore();
    if (withEndpoint) endpoints.seed(endpoint);
    const queue = new InMemoryDeliveryQueue();
    await new WebhookFanOut({ endpoints, queue }).requestFinished(request);
    return queue.sent;
  }

  it('sends the callback as one more delivery target beside the endpoints, with the same event body', async () => {
    const sent = await fanOut(finished());
    expect(sent.map((m) => m.deliveryId).sort()).toEqual(['dlv_req_1.callback.succeeded', 'dlv_req_1.ep_1.succeeded']);
    const [callback, toEndpoint] = [sent.find((m) => m.endpointId === 'callback')!, sent.find((m) => m.endpointId === 'ep_1')!];
    expect(callback).toMatchObject({ merchantId: 'mer_a', subjectId: 'req_1', eventType: 'request.succeeded', round: 1 });
    expect(callback.payload).toBe(toEndpoint.payload);
  });

  it('sends the callback only for the events it names', async () => {
    expect(await fanOut(finished({ callback: { url: CALLBACK_URL, events: ['request.failed'] } }), false)).toEqual([]);
    const failed = await fanOut(finished({ status: 'failed', error: { code: 'x', message: 'y', retryable: false }, callback: { url: CALLBACK_URL, events: ['request.failed'] } }), false);
    expect(failed.map((m) => m.deliveryId)).toEqual(['dlv_req_1.callback.failed']);
  });

  it('still sends the callback when the request turned the endpoints\' webhook events off', async () => {
    const sent = await fanOut(finished({ webhookEvents: false }));
    expect(sent.map((m) => m.endpointId)).toEqual(['callback']);
  });

  it('sends nothing for a cancelled request', async () => {
    expect(await fanOut(finished({ status: 'cancelled' }))).toEqual([]);
  });

  it('queues each merchant\'s callbacks as a fair-queue tenant of their own, and an endpoint\'s deliveries as the endpoint\'s', async () => {
    const [a, b] = await Promise.all([fanOut(finished(), false), fanOut(finished({ merchantId: 'mer_b' }), false)]);
    expect([deliveryTenantOf(a[0]!), deliveryTenantOf(b[0]!)]).toEqual(['callback-mer_a', 'callback-mer_b']);
    const [toEndpoint] = await fanOut(finished({ callback: undefined }));
    expect(deliveryTenantOf(toEndpoint!)).toBe('ep_1');
  });
});

describe('delivering a callback', () => {
  async function setup(...results: ConstructorParameters<typeof ScriptedWebhookTransport>) {
    const secrets = new InMemoryCallbackSecretStore();
    const secret = await merchantWithSecret(secrets);
    const requests = new InMemoryRequestStore();
    requests.seed(finished());
    const endpoints = new InMemoryWebhookEndpointStore();
    endpoints.seed(endpoint);
    const queue = new InMemoryDeliveryQueue();
    await new WebhookFanOut({ endpoints, queue }).requestFinished(finished());
    const message = queue.sent.find((m) => m.endpointId === 'callback')!;
    const transport = new ScriptedWebhookTransport(...results);
    const notifier = new RecordingMerchantNotifier();
    const deliveries = new InMemoryDeliveryStore();
    const deps = deliverDependencies(
      { endpoints, deliveries, transport, notifier, deadStreakLimit: 1 },
      {
        queue,
        loadRequest: (id) => requests.get(id),
        maxAttempts: 3,
        callbacks: { loadRequest: (id) => requests.get(id), secretsOf: (merchantId) => secrets.getCached(merchantId) },
      },
    );
    const deliver = (m: DeliveryMessage, receiveCount = 1) => deliverWebhook(deps, { message: m, receiveCount, receiptHandle: 'rh' });
    return { secrets, secret, transport, notifier, deliveries, endpoints, deps, message, deliver };
  }

  it('posts the event to the callback URL, signed with the merchant\'s callback secret under a stable webhook-id', async () => {
    const h = await setup();
    expect(await h.deliver(h.message)).toMatchObject({ kind: 'delivered' });
    const [post] = h.transport.posts;
    expect(post!.url).toBe(CALLBACK_URL);
    expect(post!.headers['webhook-id']).toBe('dlv_req_1.callback.succeeded');
    expect(new Webhook(h.secret).verify(post!.body, post!.headers)).toMatchObject({ type: 'request.succeeded', data: { id: 'req_1' } });
    expect(() => new Webhook(endpoint.secret.secret).verify(post!.body, post!.headers)).toThrow();
    expect(await h.deliveries.listForSubject('req_1')).toEqual([expect.objectContaining({ endpointId: 'callback', state: 'succeeded' })]);
  });

  it('signs with the old and the new secret during a rotation\'s overlap', async () => {
    const h = await setup();
    const rotated = await callbackSecret.rotate({ secrets: h.secrets, previousSecretHours: 24 }, 'mer_a');
    await h.deliver(h.message);
    const [post] = h.transport.posts;
    expect(new Webhook(h.secret).verify(post!.body, post!.headers)).toBeTruthy();
    expect(new Webhook(rotated.secret!).verify(post!.body, post!.headers)).toBeTruthy();
  });

  it('retries a failing callback on the schedule and marks it dead after the last attempt, disabling no endpoint', async () => {
    const h = await setup({ status: 500, latencyMs: 1 });
    expect(await h.deliver(h.message, 1)).toMatchObject({ kind: 'retry' });
    expect(await h.deliver(h.message, 2)).toMatchObject({ kind: 'retry' });
    expect(await h.deliver(h.message, 3)).toMatchObject({ kind: 'dead' });
    const [delivery] = await h.deliveries.listForSubject('req_1');
    expect(delivery).toMatchObject({ endpointId: 'callback', state: 'dead', reason: 'no success after 3 attempts' });
    expect(delivery!.attempts.map((a) => a.status)).toEqual([500, 500, 500]);
    expect(h.notifier.notices).toEqual([]);
    expect((await h.endpoints.get('mer_a', 'ep_1'))?.status).toBe('enabled');
  });

  it('ends at a 410 without disabling anything', async () => {
    const h = await setup({ status: 410, latencyMs: 1 });
    expect(await h.deliver(h.message)).toMatchObject({ kind: 'gone' });
    expect(await h.deliveries.listForSubject('req_1')).toEqual([expect.objectContaining({ state: 'dead', reason: 'the callback URL answered 410 Gone' })]);
    expect(h.notifier.notices).toEqual([]);
  });

  it('drops a callback whose request is another merchant\'s', async () => {
    const h = await setup();
    expect(await h.deliver({ ...h.message, merchantId: 'mer_b' })).toMatchObject({ kind: 'dropped', reason: expect.stringContaining('the request no longer exists') });
    expect(h.transport.posts).toEqual([]);
  });
});

describe('the callback secret', () => {
  it('is shown when it is created and only as a hint afterwards', async () => {
    const secrets = new InMemoryCallbackSecretStore();
    const deps = { secrets, previousSecretHours: 24 };
    const first = await callbackSecret.show(deps, 'mer_a');
    expect(first.created).toBe(true);
    expect(first.view.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const later = await callbackSecret.show(deps, 'mer_a');
    expect(later).toEqual({ created: false, view: { secretHint: `whsec_…${first.view.secret!.slice(-4)}`, createdAt: first.view.createdAt } });
  });

  it('keeps the previous secret for the overlap after a rotation, and says until when', async () => {
    const secrets = new InMemoryCallbackSecretStore();
    const now = new Date('2026-03-10T12:00:00Z');
    const deps = { secrets, previousSecretHours: 24, now: () => now };
    const first = await callbackSecret.show(deps, 'mer_a');
    const rotated = await callbackSecret.rotate(deps, 'mer_a');
    expect(rotated.secret).not.toBe(first.view.secret);
    expect(rotated.previousSecretExpiresAt).toBe('2026-03-11T12:00:00.000Z');
    expect((await secrets.get('mer_a'))?.previousSecret).toMatchObject({ secret: first.view.secret, expiresAt: '2026-03-11T12:00:00.000Z' });
  });

  it('cannot be rotated before it exists', async () => {
    await expect(callbackSecret.rotate({ secrets: new InMemoryCallbackSecretStore(), previousSecretHours: 24 }, 'mer_a')).rejects.toMatchObject({
      code: 'callback-secret-missing',
    });
  });
});
