import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import type { LocalRuntime } from '../../lib/local/runtime';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';
import { startReceiver, verifyWebhook, type ReceivedWebhook, type Reply, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * A callback per request (`callbackUrl` on POST /v1/requests), through the whole local runtime:
 * real HTTP receivers on loopback, the real handlers, DynamoDB Local and fauxqs.
 */
const RETRY_SCALE = 0.0001;

let runtime: LocalRuntime;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime('request-callbacks', { retryScale: RETRY_SCALE });
}, 60_000);

afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await runtime?.stop();
});

async function receiver(reply?: (n: number) => Reply): Promise<WebhookReceiver> {
  const started = await startReceiver(reply);
  receivers.push(started);
  return started;
}

type Api = ReturnType<typeof apiClient>;

let merchants = 0;
/** A merchant of its own per test, so that one test's secret and requests never meet another's. */
async function newMerchant(): Promise<Api> {
  const store = new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName);
  const merchant = await store.createMerchant({ name: `Callback merchant ${++merchants}` });
  const { key } = await store.createApiKey(merchant.id);
  return apiClient(runtime, key);
}

async function createSecret(api: Api): Promise<string> {
  const created = await api('GET', '/v1/callback-secret');
  expect(created.status).toBe(201);
  return created.body!.secret as string;
}

function submit(api: Api, key: string, body: Record<string, unknown>) {
  return api('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 }, ...body }, headers: { 'idempotency-key': key } });
}

async function deliveriesOf(api: Api, requestId: string) {
  const listed = await api('GET', `/v1/requests/${requestId}/deliveries`);
  expect(listed.status).toBe(200);
  return listed.body!.data as { id: string; state: string; endpointId: string; attempts: { status?: number }[] }[];
}

describe('a callback per request', () => {
  it('posts the request\'s end to its callbackUrl, signed so that standardwebhooks verifies it with the merchant\'s callback secret', async () => {
    const api = await newMerchant();
    const secret = await createSecret(api);
    const hook = await receiver();

    const submitted = await submit(api, 'cb-1', { callbackUrl: hook.url });
    expect(submitted.status).toBe(202);
    const id = submitted.body!.id as string;

    const [received] = await hook.waitFor(1, 30_000);
    const event = verifyWebhook(received!, secret) as { type: string; data: { id: string } };
    expect(event).toMatchObject({ type: 'request.succeeded', data: { id, status: 'succeeded' } });
    expect(received!.headers['webhook-id']).toBe(`dlv_${id}.callback.succeeded`);

    const status = await api('GET', `/v1/requests/${id}`);
    expect(status.body!.callback).toEqual({ url: hook.url, events: ['request.succeeded', 'request.failed'] });
    const deliveries = await eventually(async () => {
      const listed = await deliveriesOf(api, id);
      return listed.length === 1 && listed[0]!.state === 'succeeded' ? listed : undefined;
    });
    expect(deliveries[0]).toMatchObject({ endpointId: 'callback', state: 'succeeded' });
  }, 60_000);

  it('adds no second callback when the submit is replayed, and refuses the key with another callbackUrl', async () => {
    const api = await newMerchant();
    await createSecret(api);
    const hook = await receiver();
    const first = await submit(api, 'cb-replay', { callbackUrl: hook.url });
    await hook.waitFor(1, 30_000);

    const replay = await submit(api, 'cb-replay', { callbackUrl: hook.url });
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body!.id).toBe(first.body!.id);
    const reused = await submit(api, 'cb-replay', { callbackUrl: `${hook.url}/other` });
    expect(reused.status).toBe(422);

    // A later request's callback to the same receiver: had the replay sent one, it would have arrived first.
    const later = await submit(api, 'cb-later', { callbackUrl: hook.url });
    const received = await hook.waitFor(2, 30_000);
    expect(received.map((r) => JSON.parse(r.body).data.id)).toEqual([first.body!.id, later.body!.id]);
    expect((await deliveriesOf(api, first.body!.id as string)).filter((d) => d.endpointId === 'callback')).toHaveLength(1);
  }, 60_000);

  it('refuses a callbackUrl the SSRF rules refuse, and a callback without a secret, storing nothing', async () => {
    const api = await newMerchant();
    const missing = await submit(api, 'cb-no-secret', { callbackUrl: 'http://127.0.0.1:9/cb' });
    expect(missing.status).toBe(409);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(missing.body).toMatchObject({ type: expect.stringMatching(/callback-secret-missing$/), detail: expect.stringContaining('GET /v1/callback-secret') });

    await createSecret(api);
    const metadata = await submit(api, 'cb-ssrf', { callbackUrl: 'https://169.254.169.254/latest/meta-data' });
    expect(metadata.status).toBe(400);
    expect(metadata.body).toMatchObject({ type: expect.stringMatching(/unsafe-webhook-url$/), detail: expect.stringMatching(/^callbackUrl is refused: .*non-public-address/) });
    const orphanEvents = await submit(api, 'cb-events', { callbackEvents: ['request.failed'] });
    expect(orphanEvents.status).toBe(400);
    expect(orphanEvents.body!.errors).toEqual([{ path: '/callbackEvents', message: 'callbackEvents needs a callbackUrl to send them to' }]);
    const unknownEvent = await submit(api, 'cb-unknown', { callbackUrl: 'http://127.0.0.1:9/cb', callbackEvents: ['request.started'] });
    expect(unknownEvent.status).toBe(400);
    expect(unknownEvent.body!.errors[0].path).toBe('/callbackEvents/0');

    expect((await api('GET', '/v1/requests')).body!.items).toEqual([]);
  }, 60_000);

  it('signs with the old and the new secret during a rotation\'s overlap, and shows a secret only when it is made', async () => {
    const api = await newMerchant();
    const old = await createSecret(api);
    const shownAgain = await api('GET', '/v1/callback-secret');
    expect(shownAgain.status).toBe(200);
    expect(shownAgain.body).toEqual({ secretHint: `whsec_…${old.slice(-4)}`, createdAt: expect.any(String) });

    const rotated = await api('POST', '/v1/callback-secret/rotate');
    expect(rotated.status).toBe(200);
    expect(rotated.body!.secret).not.toBe(old);
    expect(Date.parse(rotated.body!.previousSecretExpiresAt)).toBeGreaterThan(Date.now() + 23 * 3_600_000);

    const hook = await receiver();
    await submit(api, 'cb-rotated', { callbackUrl: hook.url });
    const [received] = await hook.waitFor(1, 30_000);
    expect(verifyWebhook(received!, old)).toBeTruthy();
    expect(verifyWebhook(received!, rotated.body!.secret)).toBeTruthy();
  }, 60_000);

  it('keeps each merchant\'s secret its own: another merchant neither reads nor rotates it', async () => {
    const alice = await newMerchant();
    const bob = await newMerchant();
    const aliceSecret = await createSecret(alice);

    const bobSecret = await createSecret(bob);
    expect(bobSecret).not.toBe(aliceSecret);
    await bob('POST', '/v1/callback-secret/rotate');
    const aliceView = await alice('GET', '/v1/callback-secret');
    expect(aliceView.body).toEqual({ secretHint: `whsec_…${aliceSecret.slice(-4)}`, createdAt: expect.any(String) });

    const hook = await receiver();
    await submit(alice, 'cb-alice', { callbackUrl: hook.url });
    const [received] = await hook.waitFor(1, 30_000);
    expect(verifyWebhook(received!, aliceSecret)).toBeTruthy();
    expect(() => verifyWebhook(received!, bobSecret)).toThrow();
  }, 60_000);

  it('retries a failing callback and shows every attempt in the request\'s deliveries', async () => {
    const api = await newMerchant();
    await createSecret(api);
    const hook = await receiver((n) => (n <= 2 ? { status: 503, body: 'busy' } : { status: 200 }));
    const submitted = await submit(api, 'cb-retry', { callbackUrl: hook.url });
    const id = submitted.body!.id as string;

    await hook.waitFor(3, 45_000);
    const [delivery] = await eventually(async () => {
      const listed = await deliveriesOf(api, id);
      return listed[0]?.state === 'succeeded' ? listed : undefined;
    }, 30_000);
    expect(delivery).toMatchObject({ endpointId: 'callback', state: 'succeeded' });
    expect(delivery!.attempts.map((a) => a.status)).toEqual([503, 503, 200]);

    // The operator sees the callback, its delivery and every attempt in `herald requests show`.
    const { stdout } = await promisify(execFile)(process.execPath, ['bin/herald.cjs', 'requests', 'show', id, '--local'], {
      cwd: process.cwd(),
      env: { ...process.env, PORT: String(runtime.port) },
      timeout: 30_000,
    });
    expect(stdout).toContain(`callback     ${hook.url}  request.succeeded, request.failed`);
    expect(stdout).toMatch(/^ {4}callback {2}request\.succeeded {2}succeeded {2}round 1$/m);
    expect(stdout.match(/#\d+ {2}HTTP 503/g)).toHaveLength(2);
  }, 90_000);
});
