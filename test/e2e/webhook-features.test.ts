import { createPublicKey, generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import type { LocalRuntime } from '../../lib/local/runtime';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';
import { startReceiver, verifyWebhook, type ReceivedWebhook, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * The endpoint features beyond plain delivery, through the whole local runtime: real HTTP
 * receivers on loopback, the real handlers, DynamoDB Local and fauxqs.
 */
const RETRY_SCALE = 0.0001;

let runtime: LocalRuntime;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime('webhook-features', { retryScale: RETRY_SCALE });
});

afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await runtime?.stop();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<WebhookReceiver> {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}

let merchants = 0;
/** A merchant of its own per test, so one test's endpoints never receive another's events. */
async function newMerchant() {
  const store = new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName);
  const merchant = await store.createMerchant({ name: `Feature merchant ${++merchants}` });
  const { key } = await store.createApiKey(merchant.id);
  return { id: merchant.id, api: apiClient(runtime, key) };
}

type Api = ReturnType<typeof apiClient>;

async function register(api: Api, url: string, extra: Record<string, unknown> = {}) {
  const created = await api('POST', '/v1/webhooks', { body: { url, ...extra } });
  expect(created.status).toBe(201);
  return created.body as { id: string; secret: string; [key: string]: unknown };
}

async function finishRequest(api: Api, type: 'demo.sleep' | 'demo.fail', key: string, payload: Record<string, unknown> = {}) {
  const submitted = await api('POST', '/v1/requests', {
    body: { type, payload: type === 'demo.sleep' ? { ms: 1, ...payload } : payload },
    headers: { 'idempotency-key': key },
  });
  expect(submitted.status).toBe(202);
  const id = submitted.body!.id as string;
  await eventually(async () => {
    const polled = await api('GET', `/v1/requests/${id}`);
    return polled.body?.status === 'succeeded' || polled.body?.status === 'failed' ? true : undefined;
  }, 30_000);
  return id;
}

async function deliveriesOf(api: Api, requestId: string) {
  const listed = await api('GET', `/v1/requests/${requestId}/deliveries`);
  expect(listed.status).toBe(200);
  return listed.body!.data as { id: string; state: string; endpointId: string; attempts: Record<string, unknown>[] }[];
}

describe('payload filters', () => {
  it('sends nothing, and records no delivery, for an event the filter refuses, and sends what it takes', async () => {
    const { api } = await newMerchant();
    const failuresOnly = await receiver();
    const everything = await receiver();
    const filtered = await register(api, failuresOnly.url, { filter: { 'data.status': { $eq: 'failed' }, 'data.type': { $startsWith: 'demo.' } } });
    expect(filtered.filter).toEqual({ 'data.status': { $eq: 'failed' }, 'data.type': { $startsWith: 'demo.' } });
    const control = await register(api, everything.url);

    const succeededId = await finishRequest(api, 'demo.sleep', 'filter-succeeded');
    await everything.waitFor(1);
    const recorded = await eventually(async () => {
      const listed = await deliveriesOf(api, succeededId);
      return listed.length > 0 && listed.every((d) => d.state === 'succeeded') ? listed : undefined;
    });
    expect(recorded.map((d) => d.endpointId)).toEqual([control.id]);

    // The failed request's event is sent after the succeeded one's fan-out, so had the first gone to
    // the filtered endpoint it would have arrived there before this one.
    const failedId = await finishRequest(api, 'demo.fail', 'filter-failed');
    const [received] = await failuresOnly.waitFor(1);
    expect(JSON.parse(received!.body)).toMatchObject({ type: 'request.failed', data: { id: failedId } });
    expect(failuresOnly.received).toHaveLength(1);
  });

  it('refuses a filter with an unknown operator with a problem naming its path, and stores nothing', async () => {
    const { api } = await newMerchant();
    const refused = await api('POST', '/v1/webhooks', { body: { url: 'http://127.0.0.1:9/hook', filter: { 'data.total': { $between: [1, 2] } } } });
    expect(refused.status).toBe(400);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 400, errors: [{ path: '/filter/data.total', message: expect.stringContaining('unknown operator $between') }] });
    expect((await api('GET', '/v1/webhooks')).body!.data).toEqual([]);
  });

  it('changes and clears a filter with PATCH', async () => {
    const { api } = await newMerchant();
    const endpoint = await register(api, 'http://127.0.0.1:9/hook');
    const changed = await api('PATCH', `/v1/webhooks/${endpoint.id}`, { body: { filter: { $or: [{ 'data.type': { $eq: 'a' } }, { 'data.type': { $eq: 'b' } }] } } });
    expect(changed.status).toBe(200);
    expect(changed.body!.filter).toEqual({ $or: [{ 'data.type': { $eq: 'a' } }, { 'data.type': { $eq: 'b' } }] });
    const cleared = await api('PATCH', `/v1/webhooks/${endpoint.id}`, { body: { filter: null } });
    expect(cleared.body!.filter).toBeUndefined();
  });

  it('answers a dry run with where the event failed', async () => {
    const { api } = await newMerchant();
    const answer = await api('POST', '/v1/webhooks/filter-test', {
      body: { filter: { $and: [{ type: { $eq: 'request.succeeded' } }, { 'data.result.total': { $gte: 100 } }] }, event: { type: 'request.succeeded', data: { result: { total: 99 } } } },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ matches: false, failedAt: '$and[1].data.result.total' });
  });
});

describe('thin events', () => {
  it('sends a thin endpoint the event without payload or result, with the URL that fetches the request, signed as usual', async () => {
    const { api } = await newMerchant();
    const thinHook = await receiver();
    const fullHook = await receiver();
    const thin = await register(api, thinHook.url, { payloadMode: 'thin' });
    expect(thin.payloadMode).toBe('thin');
    await register(api, fullHook.url);
    const requestId = await finishRequest(api, 'demo.sleep', 'thin-1', { secretNote: 'not for the receiver' });

    const [received] = await thinHook.waitFor(1);
    const event = verifyWebhook(received!, thin.secret) as Record<string, any>;
    expect(event).toEqual({
      type: 'request.succeeded',
      timestamp: expect.any(String),
      data: { id: requestId, type: 'demo.sleep', status: 'succeeded', createdAt: expect.any(String), updatedAt: expect.any(String), url: `${runtime.url}/v1/requests/${requestId}` },
    });
    expect(received!.body).not.toContain('sleptMs');
    expect(received!.body).not.toContain('not for the receiver');

    // The link works with the merchant's key, and holds the result the event left out.
    const fetched = await api('GET', new URL(event.data.url).pathname);
    expect(fetched.body).toMatchObject({ id: requestId, status: 'succeeded', result: { sleptMs: expect.any(Number) } });
    const [full] = await fullHook.waitFor(1);
    expect(JSON.parse(full!.body).data.result).toEqual(fetched.body!.result);
  });

  it('switches an endpoint between full and thin with PATCH and refuses an unknown mode', async () => {
    const { api } = await newMerchant();
    const endpoint = await register(api, 'http://127.0.0.1:9/hook');
    expect(endpoint.payloadMode).toBe('full');
    expect((await api('PATCH', `/v1/webhooks/${endpoint.id}`, { body: { payloadMode: 'thin' } })).body!.payloadMode).toBe('thin');
    const refused = await api('PATCH', `/v1/webhooks/${endpoint.id}`, { body: { payloadMode: 'slim' } });
    expect(refused.status).toBe(400);
    expect(refused.body!.errors).toEqual([{ path: '/payloadMode', message: 'must be one of full, thin' }]);
  });
});

describe('asymmetric signatures (v1a)', () => {
  /** What a receiver does by the spec's text: verify each `v1a,` signature of `id.timestamp.body` with an ed25519 public key. */
  function verifiesWith(publicKey: KeyObject, received: ReceivedWebhook): boolean {
    const id = String(received.headers['webhook-id']);
    const timestamp = String(received.headers['webhook-timestamp']);
    const signed = Buffer.from(`${id}.${timestamp}.${received.body}`, 'utf8');
    return String(received.headers['webhook-signature'])
      .split(' ')
      .filter((entry) => entry.startsWith('v1a,'))
      .some((entry) => verify(null, signed, publicKey, Buffer.from(entry.slice('v1a,'.length), 'base64')));
  }
  const fromWhpk = (whpk: string) => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(whpk.slice('whpk_'.length), 'base64').toString('base64url') }, format: 'jwk' });
  const fromJwk = (jwk: Record<string, string>) => createPublicKey({ key: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x! }, format: 'jwk' });

  async function publishedKeys(merchantId: string) {
    const response = await fetch(`${runtime.url}/v1/webhook-keys/${merchantId}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { keys: Record<string, string>[] }).keys;
  }

  it('signs with a key whose public half, published without an API key, verifies it; any other key fails', async () => {
    const { id: merchantId, api } = await newMerchant();
    const hook = await receiver();
    const endpoint = await register(api, hook.url, { signatureScheme: 'v1a' });
    expect(endpoint.signatureScheme).toBe('v1a');
    expect(endpoint.publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(endpoint.secret).toBeUndefined();

    const keys = await publishedKeys(merchantId);
    expect(keys).toEqual([expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', whpk: endpoint.publicKey })]);

    await finishRequest(api, 'demo.sleep', 'v1a-1');
    const [received] = await hook.waitFor(1);
    expect(String(received!.headers['webhook-signature'])).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(verifiesWith(fromJwk(keys[0]!), received!)).toBe(true);
    expect(verifiesWith(fromWhpk(endpoint.publicKey as string), received!)).toBe(true);
    expect(verifiesWith(generateKeyPairSync('ed25519').publicKey, received!)).toBe(false);
    // The same signature over a changed body fails too.
    expect(verifiesWith(fromJwk(keys[0]!), { ...received!, body: received!.body.replace('succeeded', 'failed') })).toBe(false);
  });

  it('keeps signing with the rotated-out key, and publishing it, for its overlap', async () => {
    const { id: merchantId, api } = await newMerchant();
    const hook = await receiver();
    const endpoint = await register(api, hook.url, { signatureScheme: 'v1a' });
    const rotated = await api('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ signatureScheme: 'v1a', publicKey: expect.stringMatching(/^whpk_/), previousSecretExpiresAt: expect.any(String) });
    expect(rotated.body!.secret).toBeUndefined();
    expect(rotated.body!.publicKey).not.toBe(endpoint.publicKey);

    const keys = await publishedKeys(merchantId);
    expect(keys.map((key) => key.whpk)).toEqual([rotated.body!.publicKey, endpoint.publicKey]);
    expect(keys[1]!.expiresAt).toBe(rotated.body!.previousSecretExpiresAt);

    await finishRequest(api, 'demo.sleep', 'v1a-rotated');
    const [received] = await hook.waitFor(1);
    expect(String(received!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(verifiesWith(fromWhpk(endpoint.publicKey as string), received!)).toBe(true);
    expect(verifiesWith(fromWhpk(rotated.body!.publicKey as string), received!)).toBe(true);
  });

  it('keeps v1 endpoints on HMAC and publishes no key for them', async () => {
    const { id: merchantId, api } = await newMerchant();
    const endpoint = await register(api, 'http://127.0.0.1:9/hook');
    expect(endpoint).toMatchObject({ signatureScheme: 'v1', secret: expect.stringMatching(/^whsec_/) });
    expect(await publishedKeys(merchantId)).toEqual([]);
    const refused = await api('POST', '/v1/webhooks', { body: { url: 'http://127.0.0.1:9/hook', signatureScheme: 'v2' } });
    expect(refused.status).toBe(400);
    expect(refused.body!.errors).toEqual([{ path: '/signatureScheme', message: 'must be one of v1, v1a' }]);
  });
});

describe('per-endpoint delivery rate', () => {
  it('delivers a burst of 20 at rateLimitPerSecond 2 no faster than 2 a second, every one of them, each on its first attempt with its wait logged', async () => {
    const { api } = await newMerchant();
    const hook = await receiver();
    const endpoint = await register(api, hook.url, { rateLimitPerSecond: 2 });
    expect(endpoint.rateLimitPerSecond).toBe(2);

    // Submitted at once, not polled: the requests end close together, so their events make a burst.
    const burstSubmitted = Date.now();
    const ids = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const submitted = await api('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 } }, headers: { 'idempotency-key': `rate-${i}` } });
        expect(submitted.status).toBe(202);
        return submitted.body!.id as string;
      }),
    );
    const arrivals = (await hook.waitFor(20, 60_000)).map((received) => received.receivedAt).sort((a, b) => a - b);

    // At 2 a second, any k + 1 consecutive slots span k half-seconds. An arrival can only be later
    // than its slot, never earlier: a post that leaves late (a busy event loop, a slow connect)
    // lands closer to the next one, which left on time. So short windows get one second of slack
    // for that.
    for (const k of [4, 10]) {
      for (let i = 0; i + k < arrivals.length; i++) expect(arrivals[i + k]! - arrivals[i]!).toBeGreaterThanOrEqual((k - 2) * 500);
    }
    // No slot comes before the burst was submitted, so the i-th arrival is at least i half-seconds
    // after it, however late the first post left (measuring from the first arrival would not hold:
    // a late first post shortens the span without any slot being early).
    arrivals.forEach((arrivedAt, i) => expect(arrivedAt - burstSubmitted).toBeGreaterThanOrEqual(i * 500));
    const ids20 = new Set(hook.received.map((received) => JSON.parse(received.body).data.id));
    expect(ids20).toEqual(new Set(ids));

    const deliveries = await eventually(async () => {
      const all = (await Promise.all(ids.map((id) => deliveriesOf(api, id)))).flat();
      return all.length === 20 && all.every((d) => d.state === 'succeeded') ? all : undefined;
    });
    // Waiting is no attempt: every delivery went out on its first, and most of them waited for it.
    expect(deliveries.every((d) => d.attempts.length === 1 && d.attempts[0]!.attempt === 1)).toBe(true);
    const waits = deliveries.map((d) => (d.attempts[0]!.waitedMs as number | undefined) ?? 0).sort((a, b) => a - b);
    // The last of a burst waits for the nineteen slots before it; how many waited at all depends on
    // how close together the requests ended.
    expect(waits[19]).toBeGreaterThanOrEqual(500);
    expect(waits.filter((w) => w > 0).length).toBeGreaterThan(0);
  }, 90_000);

  it('refuses a rate that is not a whole number from 1 to 1000, and clears one with null', async () => {
    const { api } = await newMerchant();
    const refused = await api('POST', '/v1/webhooks', { body: { url: 'http://127.0.0.1:9/hook', rateLimitPerSecond: 0.5 } });
    expect(refused.status).toBe(400);
    expect(refused.body!.errors).toEqual([{ path: '/rateLimitPerSecond', message: 'must be a whole number of deliveries per second' }]);
    const endpoint = await register(api, 'http://127.0.0.1:9/hook', { rateLimitPerSecond: 5 });
    expect((await api('PATCH', `/v1/webhooks/${endpoint.id}`, { body: { rateLimitPerSecond: 1001 } })).status).toBe(400);
    const cleared = await api('PATCH', `/v1/webhooks/${endpoint.id}`, { body: { rateLimitPerSecond: null } });
    expect(cleared.body!.rateLimitPerSecond).toBeUndefined();
  });
});
