import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { provisionForTest, TEST_PUBLIC_BASE_URL } from '../support/endpoints';
import { apiEvent, invoke } from '../support/api-events';
import { dynamoRequestPorts } from '../../lambdas/adapters/dynamo-request-ports';
import { DynamoDeliveryStore } from '../../lambdas/adapters/dynamo-delivery-store';
import { claimRequest } from '../../lambdas/core/requests/claim-request';
import { applyOnce } from '../../lambdas/core/requests/apply-decision';
import { deliveryIdOf } from '../../lambdas/core/webhooks/delivery';
import { firstOutcome } from '../support/core/webhooks/delivery-transitions';

let handlers: { submit: unknown; status: unknown };
let tables: { main: string; secrets: string };
let queueUrl: string;
let sqs: SQSClient;

beforeAll(async () => {
  const resources = await provisionForTest('submit');
  tables = { main: resources.tableName, secrets: resources.secretsTableName };
  queueUrl = resources.queues.requests.url;
  sqs = new SQSClient({ endpoint: resources.endpoints.sqs });
  handlers = {
    submit: (await import('../../lambdas/handlers/submit-request')).handler,
    status: (await import('../../lambdas/handlers/get-request-status')).handler,
  };
});

afterAll(() => sqs.destroy());

const submit = (body: unknown, headers: Record<string, string>, merchantId = 'mer_a') =>
  invoke(
    handlers.submit,
    apiEvent({ method: 'POST', path: '/v1/requests', headers, body: typeof body === 'string' ? body : (body as object), merchantId }),
  );

const status = (id: string, merchantId = 'mer_a', headers: Record<string, string> = {}) =>
  invoke(
    handlers.status,
    apiEvent({ method: 'GET', path: `/v1/requests/${id}`, routeKey: 'GET /v1/requests/{id}', pathParameters: { id }, merchantId, headers }),
  );

async function visibleMessages(): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}

describe('POST /v1/requests', () => {
  it('accepts a request with 202, Location and Retry-After, and enqueues a pointer to it', async () => {
    const before = await visibleMessages();
    const response = await submit({ type: 'demo.sleep', payload: { ms: 10 } }, { 'idempotency-key': 'accept-1' });

    expect(response.status).toBe(202);
    expect(response.body).toEqual({
      id: expect.stringMatching(/^req_[0-9a-z]{26}$/),
      status: 'accepted',
      statusUrl: expect.stringMatching(/^https:\/\/herald\.test\/v1\/status\/[A-Za-z0-9_-]{40,}$/),
    });
    expect(response.headers.Location).toBe(`/v1/requests/${response.body!.id}`);
    expect(Number(response.headers['Retry-After'])).toBeGreaterThan(0);
    expect(await visibleMessages()).toBe(before + 1);
  });

  it('says which header the idempotency key came from, so X-Request-ID as the key is never silent', async () => {
    const byKey = await submit({ type: 'demo.sleep', payload: { ms: 1 } }, { 'idempotency-key': 'source-1', 'x-request-id': 'trace-source-1' });
    const byRequestId = await submit({ type: 'demo.sleep', payload: { ms: 1 } }, { 'x-request-id': 'source-2' });
    const replayed = await submit({ type: 'demo.sleep', payload: { ms: 1 } }, { 'idempotency-key': 'source-2' });

    expect([byKey.status, byRequestId.status, replayed.status]).toEqual([202, 202, 202]);
    expect(byKey.headers['Idempotency-Key-Source']).toBe('Idempotency-Key');
    expect(byRequestId.headers['Idempotency-Key-Source']).toBe('X-Request-ID');
    // The same key under either header names the same request.
    expect(replayed.body!.id).toBe(byRequestId.body!.id);
  });

  it('keeps the status token secret in the secrets table, not in the table every function reads', async () => {
    expect((await submit({ type: 'demo.sleep', payload: { ms: 1 } }, { 'idempotency-key': 'secret-home' })).status).toBe(202);
    const key = { pk: 'CONFIG#status-token-secret', sk: 'CONFIG' };
    const documents = dynamoClient();
    const inSecrets = await documents.send(new GetCommand({ TableName: tables.secrets, Key: key, ConsistentRead: true }));
    const inMain = await documents.send(new GetCommand({ TableName: tables.main, Key: key, ConsistentRead: true }));
    expect(Buffer.from(String(inSecrets.Item?.secret), 'base64')).toHaveLength(32);
    expect(inMain.Item).toBeUndefined();
  });

  it('builds statusUrl on the configured public base URL, whatever Host, X-Forwarded-Proto and the API domain say', async () => {
    const event = apiEvent({
      method: 'POST',
      path: '/v1/requests',
      headers: { 'idempotency-key': 'hostile-link', 'x-forwarded-proto': 'javascript:alert(1)//', host: 'evil.example', 'x-forwarded-host': 'evil.example' },
      body: { type: 'demo.sleep', payload: { ms: 1 } },
      merchantId: 'mer_a',
    });
    (event.requestContext as { domainName: string }).domainName = 'abc123.execute-api.us-east-1.amazonaws.com';
    const response = await invoke(handlers.submit, event);

    expect(response.status).toBe(202);
    const statusUrl = response.body!.statusUrl as string;
    expect(statusUrl.startsWith(`${TEST_PUBLIC_BASE_URL}/v1/status/`)).toBe(true);
    for (const injected of ['javascript', 'evil.example', 'execute-api']) expect(statusUrl).not.toContain(injected);
  });

  it('returns the original response when the same key is replayed, without enqueueing again', async () => {
    const body = { type: 'demo.sleep', payload: { ms: 5, nested: { b: 2, a: 1 } } };
    const first = await submit(body, { 'idempotency-key': 'replay-1' });
    const queued = await visibleMessages();
    const again = await submit({ payload: { nested: { a: 1, b: 2 }, ms: 5 }, type: 'demo.sleep' }, { 'idempotency-key': 'replay-1' });

    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers['Idempotent-Replayed']).toBe('true');
    expect(await visibleMessages()).toBe(queued);
  });

  it('counts RequestsAccepted for a new request, not for its replay', async () => {
    const { metrics } = await import('../../lambdas/handlers/shared/observability');
    const add = jest.spyOn(metrics, 'addMetric');
    try {
      const body = { type: 'demo.sleep', payload: { ms: 1 } };
      await submit(body, { 'idempotency-key': 'count-1' });
      await submit(body, { 'idempotency-key': 'count-1' });
      expect(add.mock.calls.filter(([name]) => name === 'RequestsAccepted')).toHaveLength(1);
    } finally {
      add.mockRestore();
    }
  });

  it('uses X-Request-ID as the key when Idempotency-Key is absent', async () => {
    const first = await submit({ type: 'demo.sleep', payload: {} }, { 'x-request-id': 'client-req-77' });
    const again = await submit({ type: 'demo.sleep', payload: {} }, { 'x-request-id': 'client-req-77' });
    expect(first.status).toBe(202);
    expect(again.body!.id).toBe(first.body!.id);
    expect(again.headers['X-Request-ID']).toBe('client-req-77');
  });

  it('refuses the same key with a different body with 422 idempotency-key-reused', async () => {
    await submit({ type: 'demo.sleep', payload: { ms: 1 } }, { 'idempotency-key': 'reuse-1' });
    const response = await submit({ type: 'demo.sleep', payload: { ms: 2 } }, { 'idempotency-key': 'reuse-1' });
    expect(response.status).toBe(422);
    expect(response.headers['Content-Type']).toBe('application/problem+json');
    expect(response.body!.type).toMatch(/idempotency-key-reused$/);
  });

  it('scopes keys per merchant', async () => {
    const a = await submit({ type: 'demo.sleep', payload: {} }, { 'idempotency-key': 'shared-key' }, 'mer_a');
    const b = await submit({ type: 'demo.sleep', payload: {} }, { 'idempotency-key': 'shared-key' }, 'mer_b');
    expect(b.status).toBe(202);
    expect(b.body!.id).not.toBe(a.body!.id);
  });

  it('creates one request for 50 concurrent identical submissions', async () => {
    const before = await visibleMessages();
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => submit({ type: 'demo.sleep', payload: { ms: 3 } }, { 'idempotency-key': 'burst-1' })),
    );
    const ids = new Set(responses.map((r) => r.body!.id));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(202));
    expect(ids.size).toBe(1);
    expect(await visibleMessages()).toBe(before + 1);
  });

  it.each([
    ['malformed JSON', '{"type":', { 'idempotency-key': 'bad-1' }, 400, 'malformed-json', undefined],
    ['a missing type', { payload: {} }, { 'idempotency-key': 'bad-2' }, 400, 'validation-failed', '/type'],
    ['a payload that is not an object', { type: 'demo.sleep', payload: [1] }, { 'idempotency-key': 'bad-3' }, 400, 'validation-failed', '/payload'],
    ['an unknown field', { type: 'demo.sleep', payload: {}, colour: 'red' }, { 'idempotency-key': 'bad-4' }, 400, 'validation-failed', '/colour'],
    ['a missing Idempotency-Key', { type: 'demo.sleep', payload: {} }, {}, 400, 'idempotency-key-missing', undefined],
    ['an unknown processor type', { type: 'no.such', payload: {} }, { 'idempotency-key': 'bad-5' }, 400, 'unknown-request-type', undefined],
    ['a payload the processor refuses', { type: 'demo.sleep', payload: { ms: -1 } }, { 'idempotency-key': 'bad-6' }, 400, 'validation-failed', '/payload/ms'],
    ['a bad phone number', { type: 'demo.sleep', payload: {}, notify: { sms: '12345' } }, { 'idempotency-key': 'bad-7' }, 400, 'validation-failed', '/notify/sms'],
  ] as [string, unknown, Record<string, string>, number, string, string | undefined][])(
    'answers %s with a problem document and stores nothing',
    async (_, body, headers, statusCode, code, field) => {
    const before = await visibleMessages();
    const response = await submit(body, headers);
    expect(response.status).toBe(statusCode);
    expect(response.headers['Content-Type']).toBe('application/problem+json');
    expect(response.body).toMatchObject({ type: `https://herald.dev/problems/${code}`, status: statusCode, detail: expect.any(String) });
    if (field) expect(response.body!.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: field })]));
    expect(await visibleMessages()).toBe(before);
    // A corrected retry with the same key is accepted: the refused attempt left no record behind.
    if (headers['idempotency-key']) {
      const corrected = await submit({ type: 'demo.sleep', payload: {} }, headers);
      expect(corrected.status).toBe(202);
    }
  },
  );

  it('answers 413 for a body over 256 KiB', async () => {
    const response = await submit({ type: 'demo.sleep', payload: { filler: 'x'.repeat(300 * 1024) } }, { 'idempotency-key': 'big-1' });
    expect(response.status).toBe(413);
    expect(response.body!.type).toMatch(/payload-too-large$/);
  });

  it('answers 401 when the authorizer refused the key', async () => {
    const response = await invoke(
      handlers.submit,
      apiEvent({ method: 'POST', path: '/v1/requests', body: { type: 'demo.sleep', payload: {} }, authError: 'The API key is unknown or has been revoked' }),
    );
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ status: 401, detail: 'The API key is unknown or has been revoked' });
  });
});

describe('GET /v1/requests/{id}', () => {
  it('returns the request with its history, an ETag and Retry-After while not finished', async () => {
    const { body } = await submit({ type: 'demo.sleep', payload: { ms: 1 } }, { 'idempotency-key': 'status-1' });
    const response = await status(body!.id);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: body!.id, type: 'demo.sleep', status: 'accepted', attempts: 0 });
    expect(response.body!.history).toEqual([expect.objectContaining({ from: null, to: 'accepted' })]);
    expect(response.headers.ETag).toMatch(/^".+"$/);
    expect(response.headers['Cache-Control']).toBe('no-store');
    expect(response.headers['Retry-After']).toBeDefined();
  });

  it('answers 304 without a body when If-None-Match carries the current ETag', async () => {
    const { body } = await submit({ type: 'demo.sleep', payload: { ms: 1 } }, { 'idempotency-key': 'etag-1' });
    const first = await status(body!.id);
    const second = await status(body!.id, 'mer_a', { 'if-none-match': first.headers.ETag! });
    expect(second.status).toBe(304);
    expect(second.body).toBeUndefined();
  });

  it('shows a finished request with its delivery from one DynamoDB call', async () => {
    const { body } = await submit({ type: 'demo.sleep', payload: { ms: 1 } }, { 'idempotency-key': 'one-read-1' });
    const id = body!.id as string;
    const now = new Date();
    const requests = dynamoRequestPorts(dynamoClient(), tables.main, 30);
    const claimed = await claimRequest(requests.lifecycle, id, { leaseMs: 60_000, maxAttempts: 5 }, 0, now);
    if (claimed.outcome !== 'claimed') throw new Error('the claim should win');
    await applyOnce(requests.lifecycle, claimed.request, { kind: 'succeed', result: { slept: 1 } }, now);
    const at = now.toISOString();
    const delivery = { id: deliveryIdOf(id, 'ep_one_read', 'request.succeeded'), merchantId: 'mer_a', endpointId: 'ep_one_read', subjectId: id, eventType: 'request.succeeded' as const, eventTimestamp: at, createdAt: at };
    await new DynamoDeliveryStore(dynamoClient(), tables.main).apply(firstOutcome(delivery, { kind: 'deliver', attempts: [{ at, attempt: 1, status: 204, latencyMs: 5 }] }, at));

    const sent: string[] = [];
    dynamoClient().middlewareStack.add((next, context) => async (args) => (sent.push(String(context.commandName)), next(args)), { step: 'initialize', name: 'statusReadCounter' });
    try {
      const response = await status(id);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'succeeded', result: { slept: 1 }, deliveries: { total: 1, delivered: 1 } });
      expect(sent).toEqual(['QueryCommand']);
    } finally {
      dynamoClient().middlewareStack.remove('statusReadCounter');
    }
  });

  it("answers 404 for an unknown id and for another merchant's request alike", async () => {
    const { body } = await submit({ type: 'demo.sleep', payload: {} }, { 'idempotency-key': 'tenant-1' }, 'mer_a');
    const foreign = await status(body!.id, 'mer_b');
    const unknown = await status('req_00000000000000000000000000', 'mer_b');
    expect(foreign.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(foreign.body!.type).toBe(unknown.body!.type);
  });
});
