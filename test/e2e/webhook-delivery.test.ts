import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import type { EndpointDisabledNotice } from '../../lambdas/core/merchants/ports';
import { useMerchantNotifier, useResolver } from '../../lambdas/handlers/shared/dependencies';
import type { LocalRuntime } from '../../lib/local/runtime';
import { ENV } from '../../lambdas/settings/environment';
import { queues } from '../../lib/topology';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';
import { sealedDeliveryBody } from '../support/sqs-records';
import { startReceiver, verifyWebhook, type WebhookReceiver } from '../support/webhook-receiver';

// Shrinks the 27-hour webhook schedule to about ten seconds: 0, 0, 0, 1, 2, 4, 4 s between attempts.
const RETRY_SCALE = 0.0001;

let runtime: LocalRuntime;
const receivers: WebhookReceiver[] = [];
const notices: EndpointDisabledNotice[] = [];

beforeAll(async () => {
  // These tests count every attempt of the plain retry path; the circuit breaker, which skips a
  // failing endpoint's attempts for a while, is tested in test/integration/circuit-breaker.test.ts.
  process.env[ENV.circuitFailureThreshold] = '0';
  runtime = await startTestRuntime('webhooks', { retryScale: RETRY_SCALE });
  useMerchantNotifier({ endpointDisabled: async (notice) => void notices.push(notice) });
});

afterAll(async () => {
  useMerchantNotifier(undefined);
  useResolver(undefined);
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
  const merchant = await store.createMerchant({ name: `Webhook merchant ${++merchants}` });
  const { key } = await store.createApiKey(merchant.id);
  return { id: merchant.id, api: apiClient(runtime, key) };
}

type Api = ReturnType<typeof apiClient>;

async function register(api: Api, url: string, extra: Record<string, unknown> = {}) {
  const created = await api('POST', '/v1/webhooks', { body: { url, ...extra } });
  expect(created.status).toBe(201);
  return created.body as { id: string; secret: string };
}

async function finishRequest(api: Api, type: 'demo.sleep' | 'demo.fail', key: string) {
  const submitted = await api('POST', '/v1/requests', {
    body: { type, payload: type === 'demo.sleep' ? { ms: 1 } : {} },
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
  return listed.body!.data as { id: string; state: string; endpointId: string; attempts: { status?: number; error?: string }[] }[];
}

describe('webhook delivery', () => {
  it('delivers a signed event that verifies with the standardwebhooks package', async () => {
    const { api } = await newMerchant();
    const hook = await receiver();
    const endpoint = await register(api, hook.url);
    const requestId = await finishRequest(api, 'demo.sleep', 'signed-1');

    const [received] = await hook.waitFor(1);
    const event = verifyWebhook(received!, endpoint.secret) as Record<string, any>;
    expect(event).toMatchObject({
      type: 'request.succeeded',
      timestamp: expect.any(String),
      data: { id: requestId, type: 'demo.sleep', status: 'succeeded', result: { sleptMs: expect.any(Number) } },
    });
    expect(received!.headers['content-type']).toBe('application/json');
    expect(received!.headers['user-agent']).toMatch(/^Herald-Webhooks\/\d+\.\d+\.\d+/);
    expect(received!.headers['x-request-id']).toBeDefined();
    expect(received!.headers['webhook-id']).toMatch(/^dlv_/);

    const [delivery] = await eventually(async () => {
      const listed = await deliveriesOf(api, requestId);
      return listed[0]?.state === 'succeeded' ? listed : undefined;
    });
    expect(delivery!.id).toBe(received!.headers['webhook-id']);
    expect(delivery!.attempts).toEqual([expect.objectContaining({ status: 200, attempt: 1, latencyMs: expect.any(Number), responseBody: 'ok' })]);
  });

  it('delivers on the third attempt to a receiver that fails twice, with the same webhook-id', async () => {
    const { api } = await newMerchant();
    const hook = await receiver((n) => (n <= 2 ? { status: 500, body: `failure ${n}` } : { status: 204 }));
    await register(api, hook.url);
    const requestId = await finishRequest(api, 'demo.sleep', 'flaky-1');

    const attempts = await hook.waitFor(3);
    expect(new Set(attempts.map((a) => a.headers['webhook-id'])).size).toBe(1);
    const [delivery] = await eventually(async () => {
      const listed = await deliveriesOf(api, requestId);
      return listed[0]?.state === 'succeeded' ? listed : undefined;
    });
    expect(delivery!.attempts.map((a) => a.status)).toEqual([500, 500, 204]);
    expect(delivery!.attempts[0]).toMatchObject({ responseBody: 'failure 1' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(hook.received).toHaveLength(3);
  });

  it('marks a delivery dead after every attempt failed, moves its message to the DLQ, and disables the endpoint after N dead deliveries', async () => {
    process.env[ENV.webhookDeadStreakLimit] = '1';
    try {
      const { id: merchantId, api } = await newMerchant();
      const hook = await receiver(() => ({ status: 503, body: 'down' }));
      const endpoint = await register(api, hook.url);
      const requestId = await finishRequest(api, 'demo.sleep', 'dead-1');
      const maxAttempts = queues.deliveries.retry.maxAttempts;

      const [delivery] = await eventually(async () => {
        const listed = await deliveriesOf(api, requestId);
        return listed[0]?.state === 'dead' ? listed : undefined;
      }, 45_000);
      expect(delivery!.attempts).toHaveLength(maxAttempts);
      expect(hook.received).toHaveLength(maxAttempts);

      const sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
      try {
        const dead = await eventually(async () => {
          const { Messages } = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: runtime.resources.queues.deliveries.deadLetterUrl, WaitTimeSeconds: 1, VisibilityTimeout: 0 }),
          );
          return Messages?.find((m) => JSON.parse(m.Body!).deliveryId === delivery!.id);
        }, 20_000);
        expect(dead).toBeDefined();
      } finally {
        sqs.destroy();
      }

      // The worker checks the streak after it hands the message to the DLQ, so the DLQ may show it first.
      const shown = await eventually(async () => {
        const read = await api('GET', `/v1/webhooks/${endpoint.id}`);
        return (read.body as { disabled?: boolean }).disabled ? read : undefined;
      }, 20_000);
      expect(shown.body).toMatchObject({ disabled: true, disabledReason: expect.stringMatching(/consecutive/) });
      await eventually(async () => (notices.some((n) => n.endpointId === endpoint.id) ? true : undefined), 10_000);
      expect(notices).toContainEqual(expect.objectContaining({ merchantId, endpointId: endpoint.id, url: hook.url }));
    } finally {
      delete process.env[ENV.webhookDeadStreakLimit];
    }
  }, 90_000);

  it('signs with both secrets for a day after a rotation', async () => {
    const { api } = await newMerchant();
    const hook = await receiver();
    const endpoint = await register(api, hook.url);
    const rotated = await api('POST', `/v1/webhooks/${endpoint.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body!.secret).toMatch(/^whsec_/);
    expect(rotated.body!.secret).not.toBe(endpoint.secret);

    await finishRequest(api, 'demo.sleep', 'rotate-1');
    const [received] = await hook.waitFor(1);
    const signatures = String(received!.headers['webhook-signature']).split(' ');
    expect(signatures).toHaveLength(2);
    expect(signatures.every((s) => s.startsWith('v1,'))).toBe(true);
    expect(() => verifyWebhook(received!, endpoint.secret)).not.toThrow();
    expect(() => verifyWebhook(received!, rotated.body!.secret)).not.toThrow();
    expect(() => verifyWebhook(received!, `whsec_${Buffer.alloc(32, 7).toString('base64')}`)).toThrow();
  });

  it('disables an endpoint at once when it answers 410 Gone, and drops later events for it', async () => {
    const { id: merchantId, api } = await newMerchant();
    const hook = await receiver(() => ({ status: 410 }));
    const endpoint = await register(api, hook.url);
    const first = await finishRequest(api, 'demo.sleep', 'gone-1');

    const shown = await eventually(async () => {
      const polled = await api('GET', `/v1/webhooks/${endpoint.id}`);
      return polled.body?.disabled ? polled.body : undefined;
    });
    expect(shown.disabledReason).toMatch(/410/);
    expect(hook.received).toHaveLength(1);
    expect((await deliveriesOf(api, first))[0]).toMatchObject({ state: 'dead' });
    expect(notices).toContainEqual(expect.objectContaining({ merchantId, endpointId: endpoint.id, reason: expect.stringMatching(/410/) }));

    const second = await finishRequest(api, 'demo.sleep', 'gone-2');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(hook.received).toHaveLength(1);
    expect(await deliveriesOf(api, second)).toEqual([]);
  });

  it('routes only the event types an endpoint subscribed to', async () => {
    const { api } = await newMerchant();
    const failuresOnly = await receiver();
    const everything = await receiver();
    await register(api, failuresOnly.url, { eventTypes: ['request.failed'] });
    await register(api, everything.url);

    await finishRequest(api, 'demo.sleep', 'filter-ok');
    const failedId = await finishRequest(api, 'demo.fail', 'filter-fail');

    const both = await everything.waitFor(2, 30_000);
    expect(both.map((r) => JSON.parse(r.body).type).sort()).toEqual(['request.failed', 'request.succeeded']);
    const [failure] = await failuresOnly.waitFor(1);
    expect(JSON.parse(failure!.body)).toMatchObject({ type: 'request.failed', data: { id: failedId, status: 'failed', error: expect.any(Object) } });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(failuresOnly.received).toHaveLength(1);
  }, 60_000);

  it('sends nothing for a request submitted with webhookEvents: false', async () => {
    const { api } = await newMerchant();
    const hook = await receiver();
    await register(api, hook.url);
    const submitted = await api('POST', '/v1/requests', {
      body: { type: 'demo.sleep', payload: { ms: 1 }, webhookEvents: false },
      headers: { 'idempotency-key': 'quiet-1' },
    });
    await eventually(async () => ((await api('GET', `/v1/requests/${submitted.body!.id}`)).body?.status === 'succeeded' ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(hook.received).toHaveLength(0);
  });

  it('answers POST /test with the outcome of one attempt', async () => {
    const { api } = await newMerchant();
    const hook = await receiver((n) => (n === 1 ? { status: 200, body: 'hello' } : { status: 500 }));
    const endpoint = await register(api, hook.url);

    const ok = await api('POST', `/v1/webhooks/${endpoint.id}/test`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ succeeded: true, attempt: { status: 200, responseBody: 'hello' } });
    expect(verifyWebhook(hook.received[0]!, endpoint.secret)).toMatchObject({ type: 'webhook.test' });

    const failing = await api('POST', `/v1/webhooks/${endpoint.id}/test`);
    expect(failing.body).toMatchObject({ succeeded: false, attempt: { status: 500 } });

    const closed = await startReceiver();
    await closed.close();
    const refused = await register(api, closed.url);
    const unreachable = await api('POST', `/v1/webhooks/${refused.id}/test`);
    expect(unreachable.body).toMatchObject({ succeeded: false, attempt: { error: 'connection_refused' } });

    const log = await api('GET', `/v1/webhooks/${endpoint.id}/deliveries`);
    expect(log.body!.data.map((d: { eventType: string; state: string }) => [d.eventType, d.state])).toEqual([
      ['webhook.test', 'dead'],
      ['webhook.test', 'succeeded'],
    ]);
  });

  it('sends a dead delivery again on POST /v1/deliveries/{id}/retry, and every failed one on /recover', async () => {
    const { api } = await newMerchant();
    let healthy = false;
    const hook = await receiver(() => (healthy ? { status: 200 } : { status: 410 }));
    const endpoint = await register(api, hook.url);
    const requestId = await finishRequest(api, 'demo.sleep', 'retry-1');
    const [dead] = await eventually(async () => {
      const listed = await deliveriesOf(api, requestId);
      return listed[0]?.state === 'dead' ? listed : undefined;
    });

    healthy = true;
    expect((await api('PATCH', `/v1/webhooks/${endpoint.id}`, { body: { disabled: false } })).body).toMatchObject({ disabled: false });
    const retried = await api('POST', `/v1/deliveries/${dead!.id}/retry`);
    expect(retried.status).toBe(202);
    const again = await hook.waitFor(2);
    expect(again[1]!.headers['webhook-id']).toBe(dead!.id);
    await eventually(async () => ((await deliveriesOf(api, requestId))[0]?.state === 'succeeded' ? true : undefined));

    healthy = false;
    const second = await finishRequest(api, 'demo.sleep', 'retry-2');
    const [deadAgain] = await eventually(async () => {
      const listed = await deliveriesOf(api, second);
      return listed[0]?.state === 'dead' ? listed : undefined;
    });
    healthy = true;
    await api('PATCH', `/v1/webhooks/${endpoint.id}`, { body: { disabled: false } });
    const recover = await api('POST', `/v1/webhooks/${endpoint.id}/recover`, { body: { since: new Date(Date.now() - 3600_000).toISOString() } });
    expect(recover.status).toBe(202);
    // Only the dead one: the first delivery succeeded on its retry.
    expect(recover.body).toMatchObject({ recovered: 1, deliveryIds: [deadAgain!.id] });
    const all = await hook.waitFor(4);
    expect(all[3]!.headers['webhook-id']).toBe(deadAgain!.id);
    await eventually(async () => ((await deliveriesOf(api, second))[0]?.state === 'succeeded' ? true : undefined));
    const tooOld = await api('POST', `/v1/webhooks/${endpoint.id}/recover`, { body: { since: new Date(Date.now() - 15 * 86_400_000).toISOString() } });
    expect(tooOld.status).toBe(400);
  });

  it('re-checks the address at every delivery and blocks a host that now resolves to a private address', async () => {
    const { api } = await newMerchant();
    let address = '93.184.216.34';
    useResolver(async () => [{ address, family: 4 }]);
    try {
      const endpoint = await register(api, 'https://rebinding.example/hook');
      address = '10.0.0.7';
      const requestId = await finishRequest(api, 'demo.sleep', 'rebind-1');
      const [delivery] = await eventually(async () => {
        const listed = await deliveriesOf(api, requestId);
        return listed[0]?.attempts.length ? listed : undefined;
      });
      expect(delivery).toMatchObject({ endpointId: endpoint.id });
      expect(delivery!.attempts[0]).toMatchObject({ error: 'unsafe_address', errorMessage: expect.stringMatching(/10\.0\.0\.7.*private/) });
      await api('DELETE', `/v1/webhooks/${endpoint.id}`);
    } finally {
      useResolver(undefined);
    }
  });

  it('posts no message that a Herald function did not seal, or that changed after it was sealed', async () => {
    const merchant = await newMerchant();
    const hook = await receiver();
    const endpoint = await register(merchant.api, hook.url);
    const requestId = await finishRequest(merchant.api, 'demo.sleep', 'sealed-1');
    await hook.waitFor(1);

    const sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
    const messageFor = (marker: string) => ({
      deliveryId: `dlv_${marker}`,
      merchantId: merchant.id,
      endpointId: endpoint.id,
      subjectId: requestId,
      eventType: 'request.succeeded',
      eventTimestamp: new Date().toISOString(),
      round: 1,
      payload: JSON.stringify({ type: 'request.succeeded', data: { marker } }),
    });
    const sealedThenChanged = JSON.parse(await sealedDeliveryBody(messageFor('changed'))) as Record<string, unknown>;
    const bodies = [
      JSON.stringify(messageFor('unsealed')),
      JSON.stringify({ ...messageFor('wrongseal'), seal: 'A'.repeat(43) }),
      JSON.stringify({ ...sealedThenChanged, payload: JSON.stringify({ type: 'request.succeeded', data: { marker: 'forged' } }) }),
      // The control: the same hand-made message, sealed with the key, is posted, so the refusals above are the seal's.
      await sealedDeliveryBody(messageFor('genuine')),
    ];
    try {
      for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: runtime.resources.queues.deliveries.url, MessageBody: body }));
      const received = await hook.waitFor(2);
      expect(received[1]!.body).toContain('"genuine"');
      // Give the refused ones every chance to arrive late.
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const markers = hook.received.map((r) => (JSON.parse(r.body) as { data: { marker?: string } }).data.marker).filter(Boolean);
      expect(markers).toEqual(['genuine']);
    } finally {
      sqs.destroy();
    }
  });

  it('shows the request its delivery counts', async () => {
    const { api } = await newMerchant();
    const hook = await receiver();
    await register(api, hook.url);
    const requestId = await finishRequest(api, 'demo.sleep', 'summary-1');
    await hook.waitFor(1);
    const status = await eventually(async () => {
      const polled = await api('GET', `/v1/requests/${requestId}`);
      return polled.body?.deliveries?.delivered === 1 ? polled.body : undefined;
    });
    expect(status.deliveries).toMatchObject({ total: 1, delivered: 1, pending: 0, failed: 0 });
  });
});
