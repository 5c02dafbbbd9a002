import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import { provision, type ResourceNames } from '../../lib/local/provision';
import type { LocalRuntime } from '../../lib/local/runtime';
import { ENV } from '../../lambdas/settings/environment';
import { eventStreams } from '../../lambdas/settings/api';
import { routes, streamingRoutes } from '../../lib/topology';
import { sharedEndpoints, uniqueNames } from '../support/endpoints';
import { eventually, startTestRuntime } from '../support/local-runtime';
import { startReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * docs/openapi.yaml is the contract: every response the real handlers give, through the local
 * HTTP API, must validate against it (status, content type, body schema, documented headers),
 * and every documented response must be seen here, but for the few listed as unreachable.
 */
type Operation = { responses: Record<string, unknown> };
const document = parse(readFileSync(join(__dirname, '..', '..', 'docs', 'openapi.yaml'), 'utf8')) as {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
};
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(document, 'openapi');

/** Responses that no test can provoke on purpose (an unexpected failure) or only by racing the store. */
const UNREACHABLE = new Set([
  'POST /v1/requests 500',
  'GET /v1/requests 500',
  'GET /v1/requests/{id} 500',
  'GET /v1/requests/{id}/events 500',
  'GET /v1/status/{token} 500',
  'POST /v1/requests/{id}/cancel 500',
  'PUT /v1/notifications 500',
  'POST /v1/webhooks 500',
  'GET /v1/webhooks 500',
  'GET /v1/webhooks/{id} 500',
  'PATCH /v1/webhooks/{id} 409',
  'PATCH /v1/webhooks/{id} 500',
  'DELETE /v1/webhooks/{id} 500',
  'POST /v1/webhooks/{id}/rotate-secret 409',
  'POST /v1/webhooks/{id}/rotate-secret 500',
  'POST /v1/webhooks/{id}/test 500',
  'GET /v1/webhooks/{id}/deliveries 500',
  'POST /v1/webhooks/{id}/recover 500',
  'GET /v1/requests/{id}/deliveries 500',
  'POST /v1/deliveries/{id}/retry 500',
  'POST /v1/webhooks/filter-test 500',
  'GET /v1/webhook-keys/{merchantId} 500',
  'GET /v1/callback-secret 409',
  'GET /v1/callback-secret 500',
  'POST /v1/callback-secret/rotate 500',
]);

const seen = new Set<string>();
let runtime: LocalRuntime;
let names: ResourceNames;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  names = uniqueNames('openapi');
  runtime = await startTestRuntime('openapi', { names, consumers: false });
});

afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await runtime?.stop();
});

let merchants = 0;
/** A merchant of its own, so that its endpoints hear nothing of the other tests' requests. */
async function newMerchantKey(): Promise<string> {
  const store = new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName);
  const merchant = await store.createMerchant({ name: `Contract merchant ${++merchants}` });
  return (await store.createApiKey(merchant.id)).key;
}

/** The merchant an API key belongs to, as the operator's store knows it. */
async function merchantOf(apiKey: string): Promise<string> {
  const store = new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName);
  return (await store.findActiveApiKey(apiKey))!.merchantId;
}

async function receiver(...args: Parameters<typeof startReceiver>): Promise<WebhookReceiver> {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}

const pointer = (...segments: string[]) => segments.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');

/** Follows a local `$ref`, returning the target and its JSON pointer in the document. */
function resolve(value: unknown, at: string): { value: Record<string, any>; at: string } {
  const ref = (value as { $ref?: string }).$ref;
  if (!ref) return { value: value as Record<string, any>, at };
  const target = ref
    .slice(2)
    .split('/')
    .reduce((node: any, key) => node[key.replace(/~1/g, '/').replace(/~0/g, '~')], document);
  return { value: target, at: ref.slice(1) };
}

function templateOf(path: string): string {
  const template = Object.keys(document.paths).find((candidate) =>
    new RegExp(`^${candidate.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path),
  );
  if (!template) throw new Error(`${path} is not documented`);
  return template;
}

function check(schemaAt: string, value: unknown, what: string): void {
  const validate = ajv.getSchema(`openapi#${schemaAt}`);
  if (!validate) throw new Error(`No schema at ${schemaAt}`);
  if (!validate(value)) throw new Error(`${what} does not match ${schemaAt}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
}

/** Calls the API and validates the response against the operation's documented response. */
async function call(
  method: string,
  path: string,
  options: { body?: string | object; headers?: Record<string, string>; apiKey?: string | null } = {},
) {
  const url = new URL(path, runtime.url);
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.apiKey === null ? {} : { authorization: `Bearer ${options.apiKey ?? runtime.apiKey}` }),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  const template = templateOf(url.pathname);
  const operationAt = pointer('paths', template, method.toLowerCase());
  const operation = document.paths[template]![method.toLowerCase()];
  if (!operation) throw new Error(`${method} ${template} is not documented`);
  const documented = operation.responses[String(response.status)];
  if (!documented) throw new Error(`${method} ${template} answered ${response.status}, which is not documented: ${text}`);
  const { value: spec, at } = resolve(documented, operationAt + pointer('responses', String(response.status)));

  for (const [name, header] of Object.entries((spec.headers ?? {}) as Record<string, unknown>)) {
    const { value: headerSpec, at: headerAt } = resolve(header, at + pointer('headers', name));
    const actual = response.headers.get(name);
    if (actual === null) {
      if (headerSpec.required) throw new Error(`${method} ${template} ${response.status} lacks the required header ${name}`);
      continue;
    }
    check(headerAt + '/schema', actual, `Header ${name}`);
  }
  if (spec.content) {
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
    if (!spec.content[mediaType]) throw new Error(`${method} ${template} ${response.status} is ${mediaType}, documented: ${Object.keys(spec.content)}`);
    const body = mediaType.startsWith('text/') ? text : JSON.parse(text);
    check(at + pointer('content', mediaType, 'schema'), body, `${method} ${template} ${response.status} body`);
  } else if (text !== '') {
    throw new Error(`${method} ${template} ${response.status} has a body, but none is documented`);
  }
  seen.add(`${method} ${template} ${response.status}`);
  const parsed = text && !(response.headers.get('content-type') ?? '').startsWith('text/') ? JSON.parse(text) : undefined;
  return { status: response.status, headers: response.headers, body: parsed };
}

describe('docs/openapi.yaml', () => {
  it('is OpenAPI 3.1 and documents exactly the routes the topology serves', () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    const served = new Set([...routes, ...streamingRoutes].map((r) => `${r.method} ${r.path}`));
    const documented = Object.entries(document.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.filter((route) => !served.has(route))).toEqual([]);
    expect(documented.sort()).toEqual([...served].sort());
  });

  it('describes the submit responses', async () => {
    const body = { type: 'demo.sleep', payload: { ms: 1 } };
    const accepted = await call('POST', '/v1/requests', { body, headers: { 'idempotency-key': 'oa-1', 'x-request-id': 'oa-trace-1' } });
    expect(accepted.status).toBe(202);
    expect((await call('POST', '/v1/requests', { body, headers: { 'idempotency-key': 'oa-1' } })).headers.get('idempotent-replayed')).toBe('true');
    expect((await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 2 } }, headers: { 'idempotency-key': 'oa-1' } })).status).toBe(422);
    expect((await call('POST', '/v1/requests', { body: { type: 1, payload: [], extra: true }, headers: { 'idempotency-key': 'oa-2' } })).status).toBe(400);
    expect((await call('POST', '/v1/requests', { body: '{"type":', headers: { 'idempotency-key': 'oa-3' } })).status).toBe(400);
    expect((await call('POST', '/v1/requests', { body })).status).toBe(400);
    expect((await call('POST', '/v1/requests', { body: { type: 'no.such', payload: {} }, headers: { 'idempotency-key': 'oa-4' } })).status).toBe(400);
    expect((await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { s: 'x'.repeat(300_000) } }, headers: { 'idempotency-key': 'oa-5' } })).status).toBe(413);
    expect((await call('POST', '/v1/requests', { body, apiKey: null })).status).toBe(401);
    expect((await call('POST', '/v1/requests', { body, apiKey: 'hrld_unknown_key_000000000000000000' })).status).toBe(401);
  });

  it('describes the 503 of a submit whose queue is gone', async () => {
    const sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
    try {
      await sqs.send(new DeleteQueueCommand({ QueueUrl: runtime.resources.queues.requests.url }));
      const refused = await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: {} }, headers: { 'idempotency-key': 'oa-503' } });
      expect(refused.status).toBe(503);
    } finally {
      await provision(sharedEndpoints(), names);
      sqs.destroy();
    }
  });

  it('describes the 429 of a merchant over its quota of requests in flight', async () => {
    const apiKey = await newMerchantKey();
    Object.assign(process.env, { [ENV.maxRequestsInFlight]: '1', [ENV.maxSmsPerDay]: '1' });
    try {
      const body = { type: 'demo.sleep', payload: {} };
      expect((await call('POST', '/v1/requests', { body, apiKey, headers: { 'idempotency-key': 'oa-quota-1' } })).status).toBe(202);
      const refused = await call('POST', '/v1/requests', { body, apiKey, headers: { 'idempotency-key': 'oa-quota-2' } });
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ quota: 'requests-in-flight', limit: 1 });
    } finally {
      delete process.env[ENV.maxRequestsInFlight];
      delete process.env[ENV.maxSmsPerDay];
    }
  });

  it('describes polling, listing and cancelling', async () => {
    const { body } = await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: {} }, headers: { 'idempotency-key': 'oa-poll' } });
    const polled = await call('GET', `/v1/requests/${body.id}`);
    expect(polled.status).toBe(200);
    expect((await call('GET', `/v1/requests/${body.id}`, { headers: { 'if-none-match': polled.headers.get('etag')! } })).status).toBe(304);
    expect((await call('GET', '/v1/requests/req_00000000000000000000000000')).status).toBe(404);
    expect((await call('GET', `/v1/requests/${body.id}`, { apiKey: null })).status).toBe(401);

    const page = await call('GET', '/v1/requests?limit=2');
    expect(page.status).toBe(200);
    expect((await call('GET', `/v1/requests?limit=2&cursor=${page.body.nextCursor}&status=accepted`)).status).toBe(200);
    expect((await call('GET', '/v1/requests?limit=500&status=nope')).status).toBe(400);
    expect((await call('GET', '/v1/requests', { apiKey: null })).status).toBe(401);

    expect((await call('POST', `/v1/requests/${body.id}/cancel`)).status).toBe(200);
    const conflict = await call('POST', `/v1/requests/${body.id}/cancel`);
    expect(conflict.status).toBe(409);
    expect(conflict.body.currentStatus).toBe('cancelled');
    expect((await call('POST', '/v1/requests/req_00000000000000000000000000/cancel')).status).toBe(404);
    expect((await call('POST', `/v1/requests/${body.id}/cancel`, { apiKey: null })).status).toBe(401);
    // A finished request has a result and no Retry-After; polled once the worker is done.
    await runtime.stop();
    runtime = await startTestRuntime('openapi', { names });
    const done = await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 }, orderingKey: 'oa-order' }, headers: { 'idempotency-key': 'oa-done' } });
    const finished = await eventually(async () => {
      const response = await call('GET', `/v1/requests/${done.body.id}`);
      return response.body.status === 'succeeded' ? response : undefined;
    });
    expect(finished.headers.get('retry-after')).toBeNull();
    expect(finished.body.orderingKey).toBe('oa-order');

    // A submit that waits for its end, and a long-poll that sees it unchanged.
    const waited = await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 } }, headers: { 'idempotency-key': 'oa-wait', prefer: 'respond-async, wait=10' } });
    expect(waited.status).toBe(200);
    expect(waited.headers.get('preference-applied')).toBe('wait=10');
    const unchanged = await call('GET', `/v1/requests/${waited.body.id}`, { headers: { prefer: 'wait=1', 'if-none-match': waited.headers.get('etag')! } });
    expect([200, 304]).toContain(unchanged.status);
  });

  it('describes setting the operations contacts', async () => {
    const set = await call('PUT', '/v1/notifications', { body: { email: 'ops@example.com', sms: '+15555550177', events: ['request.failed'] } });
    expect(set.status).toBe(200);
    expect((await call('PUT', '/v1/notifications', { body: { sms: '12', events: ['nope'] } })).status).toBe(400);
    expect((await call('PUT', '/v1/notifications', { body: { events: [] }, apiKey: null })).status).toBe(401);
  });

  // Runs on the runtime with consumers that the polling test left behind: a request must finish for its delivery to exist.
  it('describes registering, reading, changing, testing and deleting webhook endpoints', async () => {
    const apiKey = await newMerchantKey();
    const ok = await receiver(() => ({ status: 200 }));
    const failing = await receiver(() => ({ status: 500, body: 'nope' }));
    const unknown = '/v1/webhooks/ep_00000000000000000000000000';

    const created = await call('POST', '/v1/webhooks', { apiKey, body: { url: ok.url, description: 'contract', eventTypes: ['request.succeeded'] } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/webhooks/${created.body.id}`);
    const id = created.body.id as string;
    expect((await call('POST', '/v1/webhooks', { apiKey, body: { description: 1 } })).status).toBe(400);
    expect((await call('POST', '/v1/webhooks', { apiKey, body: '{"url":' })).status).toBe(400);
    const unsafe = await call('POST', '/v1/webhooks', { apiKey, body: { url: 'https://10.0.0.1/hook' } });
    expect([unsafe.status, unsafe.body.type]).toEqual([400, 'https://herald.dev/problems/unsafe-webhook-url']);
    expect((await call('POST', '/v1/webhooks', { apiKey, body: { url: ok.url, description: 'x'.repeat(17 * 1024) } })).status).toBe(413);
    expect((await call('POST', '/v1/webhooks', { apiKey: null, body: { url: ok.url } })).status).toBe(401);

    // The schema forbids `secret` on these: a listing or a read never shows one.
    const listed = await call('GET', '/v1/webhooks', { apiKey });
    expect(listed.body.data.map((endpoint: { id: string }) => endpoint.id)).toEqual([id]);
    expect((await call('GET', '/v1/webhooks', { apiKey: null })).status).toBe(401);
    expect((await call('GET', `/v1/webhooks/${id}`, { apiKey })).status).toBe(200);
    expect((await call('GET', unknown, { apiKey })).status).toBe(404);
    expect((await call('GET', `/v1/webhooks/${id}`)).status).toBe(404); // another merchant's endpoint
    expect((await call('GET', `/v1/webhooks/${id}`, { apiKey: null })).status).toBe(401);

    const disabled = await call('PATCH', `/v1/webhooks/${id}`, { apiKey, body: { disabled: true, description: null } });
    expect([disabled.status, disabled.body.disabled, disabled.body.disabledReason]).toEqual([200, true, 'disabled by the merchant']);
    expect((await call('PATCH', `/v1/webhooks/${id}`, { apiKey, body: { disabled: false, eventTypes: null } })).body.eventTypes).toHaveLength(2);
    expect((await call('PATCH', `/v1/webhooks/${id}`, { apiKey, body: {} })).status).toBe(400);
    expect((await call('PATCH', `/v1/webhooks/${id}`, { apiKey, body: { url: 'ftp://example.com/hook' } })).status).toBe(400);
    expect((await call('PATCH', `/v1/webhooks/${id}`, { apiKey, body: { description: 'x'.repeat(17 * 1024) } })).status).toBe(413);
    expect((await call('PATCH', unknown, { apiKey, body: { disabled: true } })).status).toBe(404);
    expect((await call('PATCH', `/v1/webhooks/${id}`, { apiKey: null, body: { disabled: true } })).status).toBe(401);

    const rotated = await call('POST', `/v1/webhooks/${id}/rotate-secret`, { apiKey });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect((await call('POST', `${unknown}/rotate-secret`, { apiKey })).status).toBe(404);
    expect((await call('POST', `/v1/webhooks/${id}/rotate-secret`, { apiKey: null })).status).toBe(401);

    const tested = await call('POST', `/v1/webhooks/${id}/test`, { apiKey });
    expect([tested.status, tested.body.succeeded, tested.body.attempt.status]).toEqual([200, true, 200]);
    const other = await call('POST', '/v1/webhooks', { apiKey, body: { url: failing.url } });
    expect((await call('POST', `/v1/webhooks/${other.body.id}/test`, { apiKey })).body).toMatchObject({ succeeded: false, attempt: { status: 500, responseBody: 'nope' } });
    expect((await call('POST', `${unknown}/test`, { apiKey })).status).toBe(404);
    expect((await call('POST', `/v1/webhooks/${id}/test`, { apiKey: null })).status).toBe(401);

    expect((await call('DELETE', `/v1/webhooks/${other.body.id}`, { apiKey })).status).toBe(204);
    expect((await call('DELETE', `/v1/webhooks/${other.body.id}`, { apiKey })).status).toBe(404);
    expect((await call('DELETE', `/v1/webhooks/${id}`, { apiKey: null })).status).toBe(401);

    // The 21st endpoint of a merchant is refused.
    for (let n = (await call('GET', '/v1/webhooks', { apiKey })).body.data.length; n < 20; n++) {
      expect((await call('POST', '/v1/webhooks', { apiKey, body: { url: `${ok.url}/${n}` } })).status).toBe(201);
    }
    const full = await call('POST', '/v1/webhooks', { apiKey, body: { url: ok.url } });
    expect([full.status, full.body.type]).toEqual([409, 'https://herald.dev/problems/endpoint-limit-reached']);
  });

  it('describes delivery logs, retries and recovery', async () => {
    const apiKey = await newMerchantKey();
    const hook = await receiver(() => ({ status: 200 }));
    const failing = await receiver(() => ({ status: 500 }));
    const endpoint = (await call('POST', '/v1/webhooks', { apiKey, body: { url: hook.url } })).body.id as string;
    const unknown = 'ep_00000000000000000000000000';

    const submitted = await call('POST', '/v1/requests', { apiKey, body: { type: 'demo.sleep', payload: { ms: 1 } }, headers: { 'idempotency-key': 'oa-dlv' } });
    const requestId = submitted.body.id as string;
    const [delivery] = await eventually(async () => {
      const listed = await call('GET', `/v1/requests/${requestId}/deliveries`, { apiKey });
      return listed.body.data[0]?.state === 'succeeded' ? listed.body.data : undefined;
    }, 30_000);
    expect(delivery.attempts).toEqual([expect.objectContaining({ attempt: 1, status: 200 })]);
    expect((await call('GET', '/v1/requests/req_00000000000000000000000000/deliveries', { apiKey })).status).toBe(404);
    expect((await call('GET', `/v1/requests/${requestId}/deliveries`)).status).toBe(404); // another merchant's request
    expect((await call('GET', `/v1/requests/${requestId}/deliveries`, { apiKey: null })).status).toBe(401);

    expect((await call('GET', `/v1/webhooks/${endpoint}/deliveries?limit=5`, { apiKey })).body.data.map((d: { id: string }) => d.id)).toEqual([delivery.id]);
    expect((await call('GET', `/v1/webhooks/${unknown}/deliveries`, { apiKey })).status).toBe(404);
    expect((await call('GET', `/v1/webhooks/${endpoint}/deliveries`, { apiKey: null })).status).toBe(401);

    const retried = await call('POST', `/v1/deliveries/${delivery.id}/retry`, { apiKey });
    expect([retried.status, retried.body.state]).toEqual([202, 'pending']);
    expect((await call('POST', `/v1/deliveries/${delivery.id}/retry`)).status).toBe(404); // another merchant's delivery
    expect((await call('POST', '/v1/deliveries/dlv_nothing/retry', { apiKey })).status).toBe(404);
    expect((await call('POST', `/v1/deliveries/${delivery.id}/retry`, { apiKey: null })).status).toBe(401);

    // A failed test delivery is dead at once, so there is something to recover.
    const broken = (await call('POST', '/v1/webhooks', { apiKey, body: { url: failing.url } })).body.id as string;
    const test = await call('POST', `/v1/webhooks/${broken}/test`, { apiKey });
    const since = new Date(Date.now() - 60_000).toISOString();
    const recovered = await call('POST', `/v1/webhooks/${broken}/recover`, { apiKey, body: { since } });
    expect([recovered.status, recovered.body.deliveryIds]).toEqual([202, [test.body.deliveryId]]);
    expect((await call('POST', `/v1/webhooks/${broken}/recover`, { apiKey, body: { since: '2000-01-01T00:00:00Z' } })).status).toBe(400);
    expect((await call('POST', `/v1/webhooks/${broken}/recover`, { apiKey, body: { since: 'yesterday' } })).status).toBe(400);
    expect((await call('POST', `/v1/webhooks/${broken}/recover`, { apiKey, body: { since, pad: 'x'.repeat(17 * 1024) } })).status).toBe(413);
    expect((await call('POST', `/v1/webhooks/${unknown}/recover`, { apiKey, body: { since } })).status).toBe(404);
    expect((await call('POST', `/v1/webhooks/${broken}/recover`, { apiKey: null, body: { since } })).status).toBe(401);
  });

  it('describes callbacks and their signing secret', async () => {
    const apiKey = await newMerchantKey();
    const hook = await receiver(() => ({ status: 200 }));
    const body = { type: 'demo.sleep', payload: { ms: 1 }, callbackUrl: hook.url };
    const missing = await call('POST', '/v1/requests', { apiKey, body, headers: { 'idempotency-key': 'oa-cb-missing' } });
    expect([missing.status, missing.body.type]).toEqual([409, 'https://herald.dev/problems/callback-secret-missing']);
    expect((await call('POST', '/v1/callback-secret/rotate', { apiKey })).status).toBe(409);

    expect((await call('GET', '/v1/callback-secret', { apiKey })).status).toBe(201);
    expect((await call('GET', '/v1/callback-secret', { apiKey })).status).toBe(200);
    expect((await call('POST', '/v1/callback-secret/rotate', { apiKey })).status).toBe(200);
    expect((await call('GET', '/v1/callback-secret', { apiKey: null })).status).toBe(401);
    expect((await call('POST', '/v1/callback-secret/rotate', { apiKey: null })).status).toBe(401);

    const unsafe = await call('POST', '/v1/requests', { apiKey, body: { ...body, callbackUrl: 'https://10.0.0.1/cb' }, headers: { 'idempotency-key': 'oa-cb-unsafe' } });
    expect([unsafe.status, unsafe.body.type]).toEqual([400, 'https://herald.dev/problems/unsafe-webhook-url']);
    const submitted = await call('POST', '/v1/requests', { apiKey, body, headers: { 'idempotency-key': 'oa-cb' } });
    expect(submitted.status).toBe(202);
    const [delivery] = await eventually(async () => {
      const listed = await call('GET', `/v1/requests/${submitted.body.id}/deliveries`, { apiKey });
      return listed.body.data[0]?.state === 'succeeded' ? listed.body.data : undefined;
    }, 30_000);
    expect(delivery.endpointId).toBe('callback');
    expect((await call('GET', `/v1/requests/${submitted.body.id}`, { apiKey })).body.callback).toEqual({ url: hook.url, events: ['request.succeeded', 'request.failed'] });
  });

  it('describes the payload filter dry run', async () => {
    const filter = { 'data.type': { $eq: 'order.process' }, 'data.result.total': { $gte: 100 } };
    const event = { type: 'request.succeeded', data: { type: 'order.process', result: { total: 40 } } };
    const failed = await call('POST', '/v1/webhooks/filter-test', { body: { filter, event } });
    expect(failed.body).toEqual({ matches: false, failedAt: 'data.result.total' });
    const matched = await call('POST', '/v1/webhooks/filter-test', { body: { filter, event: { ...event, data: { type: 'order.process', result: { total: 100 } } } } });
    expect(matched.body).toEqual({ matches: true });
    expect((await call('POST', '/v1/webhooks/filter-test', { body: { filter: { 'data.type': { $like: 'x' } }, event } })).status).toBe(400);
    expect((await call('POST', '/v1/webhooks/filter-test', { body: { filter, event }, apiKey: null })).status).toBe(401);
    expect((await call('POST', '/v1/webhooks/filter-test', { body: { filter, event: { blob: 'x'.repeat(70_000) } } })).status).toBe(413);
    expect((await call('POST', '/v1/webhooks/filter-test', { body: 'filter=1', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
  });

  it('describes the public keys of v1a endpoints', async () => {
    const apiKey = await newMerchantKey();
    const created = await call('POST', '/v1/webhooks', { apiKey, body: { url: 'http://127.0.0.1:9/hook', signatureScheme: 'v1a', payloadMode: 'thin' } });
    expect(created.status).toBe(201);
    const merchantId = await merchantOf(apiKey);
    expect((await call('POST', `/v1/webhooks/${created.body.id}/rotate-secret`, { apiKey })).status).toBe(200);
    const keys = await call('GET', `/v1/webhook-keys/${merchantId}`, { apiKey: null });
    expect(keys.body.keys).toHaveLength(2);
    expect((await call('GET', '/v1/webhook-keys/not-a-merchant', { apiKey: null })).status).toBe(404);
  });

  it('describes the status stream', async () => {
    const done = await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 } }, headers: { 'idempotency-key': 'oa-events' } });
    const stream = await call('GET', `/v1/requests/${done.body.id}/events`);
    expect(stream.status).toBe(200);
    expect((await call('GET', `/v1/requests/${done.body.id}/events`, { apiKey: null })).status).toBe(401);
    expect((await call('GET', '/v1/requests/req_00000000000000000000000000/events')).status).toBe(404);
  });

  it('describes the end of a stream (204) and the per-merchant stream limit (429)', async () => {
    const ended = await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 1 } }, headers: { 'idempotency-key': 'oa-events-end' } });
    const whole = await (await fetch(`${runtime.url}/v1/requests/${ended.body.id}/events`, { headers: { authorization: `Bearer ${runtime.apiKey}` } })).text();
    const lastEventId = [...whole.matchAll(/^id: (.+)$/gm)].at(-1)![1]!;
    expect((await call('GET', `/v1/requests/${ended.body.id}/events`, { headers: { 'last-event-id': lastEventId } })).status).toBe(204);

    const running = await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: { ms: 20_000 } }, headers: { 'idempotency-key': 'oa-events-busy' } });
    const controllers = Array.from({ length: eventStreams.maxOpenPerMerchant }, () => new AbortController());
    try {
      for (const controller of controllers) {
        const open = await fetch(`${runtime.url}/v1/requests/${running.body.id}/events`, { headers: { authorization: `Bearer ${runtime.apiKey}` }, signal: controller.signal });
        expect(open.status).toBe(200);
      }
      expect((await call('GET', `/v1/requests/${running.body.id}/events`)).status).toBe(429);
    } finally {
      controllers.forEach((controller) => controller.abort());
    }
  });

  it('describes the public status page', async () => {
    const { body } = await call('POST', '/v1/requests', { body: { type: 'demo.sleep', payload: {} }, headers: { 'idempotency-key': 'oa-status-page' } });
    const path = new URL(body.statusUrl).pathname;
    expect((await call('GET', path, { apiKey: null })).status).toBe(200);
    expect((await call('GET', path, { apiKey: null, headers: { accept: 'text/html' } })).status).toBe(200);
    expect((await call('GET', '/v1/status/not-a-token', { apiKey: null })).status).toBe(404);
  });

  it('describes the 415 of a body sent as another media type, and the 413 of oversized contacts', async () => {
    const asText = { headers: { 'content-type': 'text/plain' }, body: '{}' };
    const someEndpoint = 'ep_00000000000000000000000000';
    expect((await call('POST', '/v1/requests', { ...asText, headers: { ...asText.headers, 'idempotency-key': 'contract-415' } })).status).toBe(415);
    expect((await call('PUT', '/v1/notifications', asText)).status).toBe(415);
    expect((await call('POST', '/v1/webhooks', asText)).status).toBe(415);
    expect((await call('PATCH', `/v1/webhooks/${someEndpoint}`, asText)).status).toBe(415);
    expect((await call('POST', `/v1/webhooks/${someEndpoint}/recover`, asText)).status).toBe(415);
    expect((await call('PUT', '/v1/notifications', { body: { events: [], pad: 'x'.repeat(5 * 1024) } })).status).toBe(413);
  });

  it('has been checked against a real response for every documented response', () => {
    const documented = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) => Object.keys(op.responses).map((status) => `${method.toUpperCase()} ${path} ${status}`)),
    );
    expect(documented.filter((response) => !seen.has(response) && !UNREACHABLE.has(response))).toEqual([]);
  });
});
