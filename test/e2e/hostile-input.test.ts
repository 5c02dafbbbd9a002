import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { request as httpRequest } from 'node:http';
import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import { keys as itemKeys } from '../../lambdas/adapters/dynamo/keys';
import { RequestBodies } from '../../lambdas/adapters/dynamo/request-bodies';
import { S3RequestBodies } from '../../lambdas/adapters/s3-request-bodies';
import { S3Client } from '@aws-sdk/client-s3';
import { JSON_BODY_LIMITS } from '../../lambdas/core/shared/json-body';
import { MAX_BODY_BYTES } from '../../lambdas/core/requests/submission';
import type { LocalRuntime } from '../../lib/local/runtime';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/local/provision';
import { apiClient, startTestRuntime } from '../support/local-runtime';

/**
 * Every route against input a careless or hostile client sends: each row names the status and
 * problem type it must get, and after each one the table holds no new item and no queue holds a
 * new message. Runs over real HTTP through the local gateway, so path decoding and the
 * authorizer are part of it. The consumers are off, so that nothing takes a message away.
 */

const OTHER_MERCHANT = 'mer_hostile_other';
const OTHER_KEY = 'hrld_hostile_other_0123456789abcdef';
const REVOKED_KEY = 'hrld_hostile_revoked_0123456789abcdef';

let runtime: LocalRuntime;
let dynamo: DynamoDBClient;
let sqs: SQSClient;
let requestId: string;
let endpointId: string;
let otherRequestId: string;
let otherEndpointId: string;

beforeAll(async () => {
  runtime = await startTestRuntime('hostile', { consumers: false, schedules: false, localWebhookHosts: 'localhost' });
  const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  dynamo = new DynamoDBClient({ ...common, endpoint: runtime.endpoints.dynamodb });
  sqs = new SQSClient({ ...common, endpoint: runtime.endpoints.sqs });
  const merchants = new DynamoMerchantStore(DynamoDBDocumentClient.from(dynamo), runtime.resources.tableName);
  await merchants.createMerchant({ id: OTHER_MERCHANT, name: 'Another merchant' });
  await merchants.createApiKey(OTHER_MERCHANT, OTHER_KEY);
  const revoked = await merchants.createApiKey(OTHER_MERCHANT, REVOKED_KEY);
  await merchants.revokeApiKey(OTHER_MERCHANT, revoked.record.keyId);

  const mine = apiClient(runtime);
  const theirs = apiClient(runtime, OTHER_KEY);
  const valid = { type: 'demo.sleep', payload: { ms: 1 } };
  requestId = (await mine('POST', '/v1/requests', { body: valid, headers: { 'idempotency-key': 'hostile-own' } })).body!.id;
  otherRequestId = (await theirs('POST', '/v1/requests', { body: valid, headers: { 'idempotency-key': 'hostile-theirs' } })).body!.id;
  endpointId = (await mine('POST', '/v1/webhooks', { body: { url: 'http://localhost:9/mine' } })).body!.id;
  otherEndpointId = (await theirs('POST', '/v1/webhooks', { body: { url: 'http://localhost:9/theirs' } })).body!.id;
});

afterAll(async () => {
  await runtime?.stop();
  dynamo?.destroy();
  sqs?.destroy();
});

interface Hostile {
  readonly method: string;
  /** A function when it needs the ids made in beforeAll. */
  readonly path: string | (() => string);
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  /** Whose key authenticates: the demo merchant's by default; `none` sends no Authorization. */
  readonly auth?: 'mine' | 'theirs' | 'none' | { readonly header: string };
  readonly status: number;
  /** The problem type's last segment; absent where API Gateway itself answers (no problem document). */
  readonly type?: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const submit = (body: string | Buffer, status: number, type: string, headers: Record<string, string> = {}): Hostile => ({
  method: 'POST',
  path: '/v1/requests',
  body,
  headers: { ...JSON_TYPE, 'idempotency-key': `hostile-${Math.random().toString(36).slice(2)}`, ...headers },
  status,
  type,
});
const submitJson = (value: unknown, status: number, type: string) => submit(JSON.stringify(value), status, type);
const nested = (levels: number, inner = '1') => '['.repeat(levels) + inner + ']'.repeat(levels);
const bodyOfSize = (bytes: number) => {
  const base = '{"type":"demo.sleep","payload":{"pad":""}}';
  return base.replace('"pad":""', `"pad":"${'x'.repeat(bytes - base.length)}"`);
};

const malformed: [string, Hostile][] = [
  '{',
  '{"type":',
  '{"type":"demo.sleep","payload":{}',
  '{"type":"demo.sleep","payload":{}}}',
  '{"type":"demo.sleep","payload":{}} trailing',
  "{'type':'demo.sleep','payload':{}}",
  '{"type":"demo.sleep","payload":{},}',
  '{type:"demo.sleep",payload:{}}',
  'nul',
  '[1,2',
  '"unterminated',
  '{"type":"demo.sleep","payload":{"ms":01}}',
  '{"type":"demo.sleep","payload":{"ms":NaN}}',
  '{"type":"demo.sleep","payload":{"ms":Infinity}}',
  '{"type":"demo.sleep","payload":{"s":"\\x41"}}',
  '{"type":"demo.sleep","payload":{"s":"tab\tinside"}}',
  '\uFEFF{"type":"demo.sleep","payload":{}}',
  '{"type":"demo.sleep","type":"demo.fail","payload":{}}',
  '{"type":"demo.sleep","payload":{"ms":1,"ms":2}}',
  '{"type":"demo.sleep","payload":{},"\\u0074ype":"demo.fail"}',
  '   ',
  '',
].map((text) => [`malformed or ambiguous JSON ${JSON.stringify(text.slice(0, 40))}`, submit(text, 400, 'malformed-json')]);

const mediaTypes: [string, Hostile][] = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'text/json',
  'application/jsonx',
].map((type) => [`Content-Type ${type}`, submit('{"type":"demo.sleep","payload":{}}', 415, 'unsupported-media-type', { 'content-type': type })]);

const sizes: [string, Hostile][] = [
  [`a body one byte over ${MAX_BODY_BYTES} bytes`, submit(bodyOfSize(MAX_BODY_BYTES + 1), 413, 'payload-too-large')],
  ['a body of 1 MB', submit(bodyOfSize(1024 * 1024), 413, 'payload-too-large')],
  ['a body over the gateway limit of 10 MB', { method: 'POST', path: '/v1/requests', body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20), headers: JSON_TYPE, status: 413 }],
  ['a webhook body over 16 KiB', { method: 'POST', path: '/v1/webhooks', body: JSON.stringify({ url: 'http://localhost:9/x', description: 'd'.repeat(17_000) }), headers: JSON_TYPE, status: 413, type: 'payload-too-large' }],
  ['a notification body over 4 KiB', { method: 'PUT', path: '/v1/notifications', body: JSON.stringify({ email: 'a@example.com', events: [], pad: 'x'.repeat(5_000) }), headers: JSON_TYPE, status: 413, type: 'payload-too-large' }],
];

const depth = JSON_BODY_LIMITS.maxDepth;
const nesting: [string, Hostile][] = [
  [`payload nesting one level over ${depth}`, submit(`{"type":"demo.sleep","payload":{"a":${nested(depth - 1)}}}`, 400, 'validation-failed')],
  ['payload nesting of 5,000 levels', submit(`{"type":"demo.sleep","payload":{"a":${nested(5_000)}}}`, 400, 'validation-failed')],
  ['payload nesting of 100,000 levels', submit(`{"type":"demo.sleep","payload":{"a":${nested(100_000)}}}`, 400, 'validation-failed')],
  ['nested objects 40 deep', submit(`{"type":"demo.sleep","payload":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`, 400, 'validation-failed')],
  ['a webhook body nested 40 deep', { method: 'POST', path: '/v1/webhooks', body: `{"url":"http://localhost:9/x","description":${nested(40, '"d"')}}`, headers: JSON_TYPE, status: 400, type: 'validation-failed' }],
  ['an unclosed nesting of 50,000 levels', submit('['.repeat(50_000), 400, 'validation-failed')],
];

const numbers: [string, Hostile][] = ['1e126', '-1e126', '1e300', '1e400', '-1e400', '1e-131', '-5e-200', '1.7976931348623157e308'].map((n) => [
  `the number ${n} in the payload`,
  submit(`{"type":"demo.sleep","payload":{"ms":1,"n":${n}}}`, 400, 'validation-failed'),
]);

const strings: [string, Hostile][] = [
  ['a type of 100,000 characters', submitJson({ type: 't'.repeat(100_000), payload: {} }, 400, 'validation-failed')],
  ['an idempotency key of 10,000 characters', submit('{"type":"demo.sleep","payload":{}}', 400, 'idempotency-key-missing', { 'idempotency-key': 'k'.repeat(10_000) })],
  ['an idempotency key of 256 characters', submit('{"type":"demo.sleep","payload":{}}', 400, 'idempotency-key-missing', { 'idempotency-key': 'k'.repeat(256) })],
  ['a webhook description of 10,000 characters', { method: 'POST', path: '/v1/webhooks', body: JSON.stringify({ url: 'http://localhost:9/x', description: 'd'.repeat(10_000) }), headers: JSON_TYPE, status: 400, type: 'validation-failed' }],
  ['an email of 5,000 characters', submitJson({ type: 'demo.sleep', payload: {}, notify: { email: `${'a'.repeat(5_000)}@example.com` } }, 400, 'validation-failed')],
  ['a fail message of 10,000 characters', submitJson({ type: 'demo.fail', payload: { message: 'm'.repeat(10_000) } }, 400, 'validation-failed')],
];

const wrongTypes: [string, Hostile][] = [
  ...[1, null, [], {}, true, ''].map((type): [string, Hostile] => [`type ${JSON.stringify(type)}`, submitJson({ type, payload: {} }, 400, 'validation-failed')]),
  ...['x', 1, [], null, true].map((payload): [string, Hostile] => [`payload ${JSON.stringify(payload)}`, submitJson({ type: 'demo.sleep', payload }, 400, 'validation-failed')]),
  ...['x', 1, [], null, { sms: 1 }, { email: [] }, { extra: 1 }].map((notify): [string, Hostile] => [
    `notify ${JSON.stringify(notify)}`,
    submitJson({ type: 'demo.sleep', payload: {}, notify }, 400, 'validation-failed'),
  ]),
  ...['yes', 1, null, {}].map((webhookEvents): [string, Hostile] => [
    `webhookEvents ${JSON.stringify(webhookEvents)}`,
    submitJson({ type: 'demo.sleep', payload: {}, webhookEvents }, 400, 'validation-failed'),
  ]),
  ...['10', -1, 1.5, 1e9, null, [], {}].map((ms): [string, Hostile] => [`demo.sleep ms ${JSON.stringify(ms)}`, submitJson({ type: 'demo.sleep', payload: { ms } }, 400, 'validation-failed')]),
  ...[[], '"text"', '1', 'null', 'true'].map((body): [string, Hostile] => [`a body of ${JSON.stringify(body)}`, submit(typeof body === 'string' ? body : JSON.stringify(body), 400, 'validation-failed')]),
  ['an unknown top-level field', submitJson({ type: 'demo.sleep', payload: {}, priority: 'high' }, 400, 'validation-failed')],
  ['no payload', submitJson({ type: 'demo.sleep' }, 400, 'validation-failed')],
  ['an unknown request type', submitJson({ type: 'demo.unknown', payload: {} }, 400, 'unknown-request-type')],
  ...[1, null, [], { href: 'x' }].map((url): [string, Hostile] => [
    `webhook url ${JSON.stringify(url)}`,
    { method: 'POST', path: '/v1/webhooks', body: JSON.stringify({ url }), headers: JSON_TYPE, status: 400, type: 'validation-failed' },
  ]),
  ...['request.succeeded', [], ['request.nope'], [1], null].map((eventTypes): [string, Hostile] => [
    `webhook eventTypes ${JSON.stringify(eventTypes)}`,
    { method: 'POST', path: '/v1/webhooks', body: JSON.stringify({ url: 'http://localhost:9/x', eventTypes }), headers: JSON_TYPE, status: 400, type: 'validation-failed' },
  ]),
  ...[{ email: 1 }, { events: 'all' }, { events: ['nope'] }, { sms: [] }, { extra: true }, []].map((body): [string, Hostile] => [
    `notification contacts ${JSON.stringify(body)}`,
    { method: 'PUT', path: '/v1/notifications', body: JSON.stringify(body), headers: JSON_TYPE, status: 400, type: 'validation-failed' },
  ]),
];

const unicode: [string, Hostile][] = [
  ['a right-to-left mark in the type', submitJson({ type: 'demo.sleep\u200f', payload: {} }, 400, 'unknown-request-type')],
  ['a right-to-left override in the type', submitJson({ type: '\u202edemo.sleep', payload: {} }, 400, 'unknown-request-type')],
  ['a NUL in the type', submitJson({ type: 'demo.sleep\u0000', payload: {} }, 400, 'unknown-request-type')],
  ['a zero-width joiner in the type', submitJson({ type: 'demo\u200d.sleep', payload: {} }, 400, 'unknown-request-type')],
  ['fullwidth letters in the type', submitJson({ type: 'ｄｅｍｏ.sleep', payload: {} }, 400, 'unknown-request-type')],
  ['a lone high surrogate in a payload string', submit('{"type":"demo.sleep","payload":{"s":"\\ud800"}}', 400, 'validation-failed')],
  ['a lone low surrogate in a payload string', submit('{"type":"demo.sleep","payload":{"s":"x\\udfffy"}}', 400, 'validation-failed')],
  ['a lone surrogate in a member name', submit('{"type":"demo.sleep","payload":{"\\ud83d":1}}', 400, 'validation-failed')],
  ['a lone surrogate in the type', submit('{"type":"demo.sleep\\ud800","payload":{}}', 400, 'validation-failed')],
  ['invalid UTF-8 bytes in the type', submit(Buffer.concat([Buffer.from('{"type":"demo.sl'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('eep","payload":{}}')]), 400, 'unknown-request-type')],
  ['a non-ASCII idempotency key', submit('{"type":"demo.sleep","payload":{}}', 400, 'idempotency-key-missing', { 'idempotency-key': Buffer.from('clé-1', 'utf8').toString('latin1') })],
  ['an idempotency key with a control character', submit('{"type":"demo.sleep","payload":{}}', 400, 'idempotency-key-missing', { 'idempotency-key': 'key\u0080' })],
  ['a right-to-left mark in a webhook URL host', { method: 'POST', path: '/v1/webhooks', body: JSON.stringify({ url: 'https://exa\u200fmple.com/hook' }), headers: JSON_TYPE, status: 400, type: 'unsafe-webhook-url' }],
  ['a NUL in a webhook URL', { method: 'POST', path: '/v1/webhooks', body: JSON.stringify({ url: 'https://example.com/\u0000hook' }), headers: JSON_TYPE, status: 400, type: 'unsafe-webhook-url' }],
];

const badPhones = ['123', '+1', 'abc', '+999999999999999999', '15551234567', '+1 (555) 123-4567', '+44', '+1555123456789012', '+0123456789', '+1555\u00001234567'];
const badEmails = ['a', 'a@', '@b.com', 'a@b', 'a b@c.com', 'a@b.c\r\nBcc: x@y.z', 'a@@b.com', '<a@b.com>', 'a@b.com,c@d.com', '"a"@[127.0.0.1]'];
const contacts: [string, Hostile][] = [
  ...badPhones.map((sms): [string, Hostile] => [`notify.sms ${JSON.stringify(sms)}`, submitJson({ type: 'demo.sleep', payload: {}, notify: { sms } }, 400, 'validation-failed')]),
  ...badEmails.map((email): [string, Hostile] => [`notify.email ${JSON.stringify(email)}`, submitJson({ type: 'demo.sleep', payload: {}, notify: { email } }, 400, 'validation-failed')]),
  ...badPhones.slice(0, 4).map((sms): [string, Hostile] => [
    `operations contact sms ${JSON.stringify(sms)}`,
    { method: 'PUT', path: '/v1/notifications', body: JSON.stringify({ sms, events: [] }), headers: JSON_TYPE, status: 400, type: 'validation-failed' },
  ]),
  ...badEmails.slice(0, 4).map((email): [string, Hostile] => [
    `operations contact email ${JSON.stringify(email)}`,
    { method: 'PUT', path: '/v1/notifications', body: JSON.stringify({ email, events: [] }), headers: JSON_TYPE, status: 400, type: 'validation-failed' },
  ]),
];

const ssrfUrls = [
  'http://127.0.0.1:9/hook',
  'https://127.0.0.1/hook',
  'https://10.0.0.1/hook',
  'https://172.16.0.1/hook',
  'https://192.168.1.1/hook',
  'https://169.254.169.254/latest/meta-data/',
  'https://100.64.0.1/hook',
  'https://0.0.0.0/hook',
  'https://224.0.0.1/hook',
  'https://255.255.255.255/hook',
  'https://[::1]/hook',
  'https://[fd00::1]/hook',
  'https://[fe80::1]/hook',
  'https://[::ffff:127.0.0.1]/hook',
  'https://[::ffff:a9fe:a9fe]/hook',
  'https://2130706433/hook',
  'https://0x7f.0.0.1/hook',
  'https://0177.0.0.1/hook',
  'https://127.1/hook',
  'https://user:pass@example.com/hook',
  'http://example.com/hook',
  'ftp://example.com/hook',
  'file:///etc/passwd',
  'gopher://example.com/',
  'javascript:alert(1)',
  'data:text/plain,hello',
  'not a url',
  '//example.com/hook',
  `https://example.com/${'a'.repeat(3_000)}`,
  'https://metadata.google.internal/computeMetadata/v1/',
  'https://unresolvable.invalid/hook',
  'https://localhost.localdomain/hook',
];
const ssrf: [string, Hostile][] = [
  ...ssrfUrls.map((url): [string, Hostile] => [
    `webhook URL ${url.slice(0, 60)}`,
    { method: 'POST', path: '/v1/webhooks', body: JSON.stringify({ url }), headers: JSON_TYPE, status: 400, type: 'unsafe-webhook-url' },
  ]),
  ...ssrfUrls.slice(0, 6).map((url): [string, Hostile] => [
    `webhook URL changed to ${url}`,
    { method: 'PATCH', path: () => `/v1/webhooks/${endpointId}`, body: JSON.stringify({ url }), headers: JSON_TYPE, status: 400, type: 'unsafe-webhook-url' },
  ]),
];

/** Every route with an id in its path, with a body it would otherwise accept. */
const idRoutes: { method: string; path: (id: string) => string; body?: string }[] = [
  { method: 'GET', path: (id) => `/v1/requests/${id}` },
  { method: 'POST', path: (id) => `/v1/requests/${id}/cancel` },
  { method: 'GET', path: (id) => `/v1/requests/${id}/deliveries` },
  { method: 'GET', path: (id) => `/v1/requests/${id}/events` },
  { method: 'GET', path: (id) => `/v1/webhooks/${id}` },
  { method: 'PATCH', path: (id) => `/v1/webhooks/${id}`, body: '{"description":"changed"}' },
  { method: 'DELETE', path: (id) => `/v1/webhooks/${id}` },
  { method: 'POST', path: (id) => `/v1/webhooks/${id}/rotate-secret` },
  { method: 'POST', path: (id) => `/v1/webhooks/${id}/test` },
  { method: 'GET', path: (id) => `/v1/webhooks/${id}/deliveries` },
  { method: 'POST', path: (id) => `/v1/webhooks/${id}/recover`, body: JSON.stringify({ since: new Date(Date.now() - 3_600_000).toISOString() }) },
  { method: 'POST', path: (id) => `/v1/deliveries/${id}/retry` },
];
const badIds = [
  'x',
  `req_${'a'.repeat(5_000)}`,
  `ep_${'0'.repeat(2_000)}`,
  `dlv_${'b'.repeat(3_000)}`,
  'REQ_01ARZ3NDEKTSV4RRFFQ69G5FAV',
  'req_01arz3ndektsv4rrffq69g5fa',
  '%ff',
  '%',
  '%e0%80%80',
  '%00',
  '..%2F..%2Fetc',
  'req_%C3%A9' + 'a'.repeat(24),
];
const ids: [string, Hostile][] = idRoutes.flatMap((route) =>
  badIds.map((id): [string, Hostile] => [
    `${route.method} ${route.path('{id}')} with id ${id.slice(0, 30)}${id.length > 30 ? `… (${id.length} characters)` : ''}`,
    { method: route.method, path: route.path(id), ...(route.body ? { body: route.body, headers: JSON_TYPE } : {}), status: 404, type: 'not-found' },
  ]),
);

const tenants: [string, Hostile][] = [
  ...idRoutes.slice(0, 4).map((route): [string, Hostile] => [`another merchant's request on ${route.method} ${route.path('{id}')}`, { method: route.method, path: () => route.path(otherRequestId), status: 404, type: 'not-found' }]),
  ...idRoutes.slice(4, 11).map((route): [string, Hostile] => [
    `another merchant's endpoint on ${route.method} ${route.path('{id}')}`,
    { method: route.method, path: () => route.path(otherEndpointId), ...(route.body ? { body: route.body, headers: JSON_TYPE } : {}), status: 404, type: 'not-found' },
  ]),
];

const keys: [string, Hostile][] = [
  ['no Authorization header', { method: 'GET', path: () => `/v1/requests/${requestId}`, auth: 'none', status: 401, type: 'unauthorized' }],
  ...[
    'Bearer',
    'Bearer ',
    'Bearer x',
    'Basic dXNlcjpwYXNz',
    'bearer hrld_not_a_key_0123456789abcdef',
    `Bearer ${'k'.repeat(8_000)}`,
    `Bearer ${REVOKED_KEY}`,
    'Bearer hrld_a b',
    'Bearer\thrld_tabbed_0123456789abcdefg',
    'Token hrld_hostile_other_0123456789abcdef',
  ].map((header): [string, Hostile] => [
    `Authorization ${JSON.stringify(header.slice(0, 40))}`,
    { ...submit('{"type":"demo.sleep","payload":{}}', 401, 'unauthorized'), auth: { header } },
  ]),
];

const queries: [string, Hostile][] = ['limit=-1', 'limit=abc', 'limit=100000', 'limit=0', 'status=bogus', 'cursor=garbage', 'cursor=%ff', 'unknown=1', `cursor=${'A'.repeat(600)}`].map((query) => [
  `GET /v1/requests?${query.slice(0, 40)}`,
  { method: 'GET', path: `/v1/requests?${query}`, status: 400, type: 'validation-failed' },
]);

/** Numbers that would not be read back as sent: beyond ±(2^53 − 1), below 1E-130, or with more digits than a double keeps. */
const unstorableNumbers = [
  '1e20',
  '9007199254740993',
  '123456789012345678901234567890',
  '-1e100',
  '9.99e125',
  '9007199254740992',
  '-9007199254740992',
  '18446744073709551616',
  '-9223372036854775808',
  '1e16',
  '-1E+21',
  '99999999999999999999999999999999999999',
  '9007199254740991.5',
  '1e-140',
  '-1e-300',
  '4.9e-324',
  '2.2250738585072014e-308',
  '1.00000000000000001',
  '0.1000000000000000000001',
  '3.14159265358979323846264338327950288',
  '123456789.123456789123',
  '-0.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001',
];
const numberPaths: [string, Hostile][] = [
  ...unstorableNumbers.map((n): [string, Hostile] => [`the number ${n.slice(0, 40)} in a demo.fail payload`, submit(`{"type":"demo.fail","payload":{"n":${n}}}`, 400, 'validation-failed')]),
  ['1e20 in a list in the payload', submit('{"type":"demo.fail","payload":{"list":[1,2,1e20]}}', 400, 'validation-failed')],
  ['-1e100 three objects deep', submit('{"type":"demo.fail","payload":{"a":{"b":{"c":-1e100}}}}', 400, 'validation-failed')],
  ['9007199254740993 as demo.sleep ms', submit('{"type":"demo.sleep","payload":{"ms":9007199254740993}}', 400, 'validation-failed')],
  ['a 30-digit integer in a list of lists', submit('{"type":"demo.fail","payload":{"m":[[0],[123456789012345678901234567890]]}}', 400, 'validation-failed')],
  ['1e20 as the whole body', submit('1e20', 400, 'validation-failed')],
  ['1e20 in a webhook body', { method: 'POST', path: '/v1/webhooks', body: '{"url":"http://localhost:9/x","description":"d","n":1e20}', headers: JSON_TYPE, status: 400, type: 'validation-failed' }],
  ['9007199254740993 in notification contacts', { method: 'PUT', path: '/v1/notifications', body: '{"events":[],"n":9007199254740993}', headers: JSON_TYPE, status: 400, type: 'validation-failed' }],
];

/** Member names DynamoDB refuses, or that could not be read back: empty, over 255 characters, or __proto__. */
const memberNames: [string, Hostile][] = [
  ['an empty member name in the payload', submit('{"type":"demo.fail","payload":{"":1}}', 400, 'validation-failed')],
  ['an empty member name two levels down', submit('{"type":"demo.fail","payload":{"a":{"":"x"}}}', 400, 'validation-failed')],
  ['an empty member name in an object in a list', submit('{"type":"demo.fail","payload":{"list":[{"ok":1},{"":null}]}}', 400, 'validation-failed')],
  ['an empty member name at the top of the body', submit('{"type":"demo.fail","payload":{},"":1}', 400, 'validation-failed')],
  ['an empty member name written as an escape', submit('{"type":"demo.fail","payload":{"\u0000":1,"":2}}', 400, 'validation-failed')],
  ['a member name of 70 KB', submit(`{"type":"demo.fail","payload":{"${'k'.repeat(70 * 1024)}":1}}`, 400, 'validation-failed')],
  ['a member name of 256 characters', submit(`{"type":"demo.fail","payload":{"${'k'.repeat(256)}":1}}`, 400, 'validation-failed')],
  ['a member name of 1,000 characters, nested', submit(`{"type":"demo.fail","payload":{"a":[{"${'n'.repeat(1_000)}":true}]}}`, 400, 'validation-failed')],
  ['a member name of 256 emoji', submit(`{"type":"demo.fail","payload":{"${'😀'.repeat(256)}":1}}`, 400, 'validation-failed')],
  ['a member name of 256 escaped characters', submit(`{"type":"demo.fail","payload":{"${'\\u00e9'.repeat(256)}":1}}`, 400, 'validation-failed')],
  ['__proto__ holding an object', submit('{"type":"demo.fail","payload":{"__proto__":{"polluted":true}}}', 400, 'validation-failed')],
  ['__proto__ holding a number', submit('{"type":"demo.fail","payload":{"__proto__":1}}', 400, 'validation-failed')],
  ['__proto__ holding null', submit('{"type":"demo.fail","payload":{"__proto__":null}}', 400, 'validation-failed')],
  ['__proto__ spelled with escapes', submit('{"type":"demo.fail","payload":{"\u005f\u005fproto\u005f\u005f":{"x":1}}}', 400, 'validation-failed')],
  ['__proto__ deep in a list', submit('{"type":"demo.fail","payload":{"a":[[{"b":{"__proto__":[]}}]]}}', 400, 'validation-failed')],
  ['__proto__ at the top of the body', submit('{"type":"demo.fail","payload":{},"__proto__":{"type":"x"}}', 400, 'validation-failed')],
  ['__proto__ in a webhook body', { method: 'POST', path: '/v1/webhooks', body: '{"url":"http://localhost:9/x","__proto__":{"status":"disabled"}}', headers: JSON_TYPE, status: 400, type: 'validation-failed' }],
  ['an empty member name in notification contacts', { method: 'PUT', path: '/v1/notifications', body: '{"events":[],"":1}', headers: JSON_TYPE, status: 400, type: 'validation-failed' }],
];

const table: [string, Hostile][] = [...malformed, ...mediaTypes, ...sizes, ...nesting, ...numbers, ...numberPaths, ...memberNames, ...strings, ...wrongTypes, ...unicode, ...contacts, ...ssrf, ...ids, ...tenants, ...keys, ...queries];

async function snapshot(): Promise<{ items: number; messages: number[] }> {
  const { Count = 0 } = await dynamo.send(new ScanCommand({ TableName: runtime.resources.tableName, Select: 'COUNT' }));
  const urls = Object.values(runtime.resources.queues).flatMap((queue) => [queue.url, queue.deadLetterUrl]);
  const messages = await Promise.all(
    urls.map(async (QueueUrl) => {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
      );
      return Object.values(Attributes).reduce((sum, value) => sum + Number(value), 0);
    }),
  );
  return { items: Count, messages };
}

/** Raw HTTP, so that bodies, header bytes and paths go out exactly as written (fetch would normalize them). */
function send(hostile: Hostile): Promise<{ status: number; contentType: string; body: string }> {
  const path = typeof hostile.path === 'function' ? hostile.path() : hostile.path;
  const auth = hostile.auth ?? 'mine';
  const authorization =
    auth === 'none' ? undefined : auth === 'mine' ? `Bearer ${runtime.apiKey}` : auth === 'theirs' ? `Bearer ${OTHER_KEY}` : auth.header;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: runtime.port, method: hostile.method, path, headers: { ...(authorization !== undefined ? { authorization } : {}), ...hostile.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(hostile.body);
  });
}

describe('hostile input', () => {
  it('covers at least 150 hostile inputs across every route', () => {
    expect(table.length).toBeGreaterThanOrEqual(150);
    const routes = new Set(table.map(([, h]) => `${h.method} ${(typeof h.path === 'string' ? h.path : '/{id}').split('?')[0]!.replace(/\/(req_|ep_|dlv_|x|%|REQ|\.\.)[^/]*/g, '/{id}')}`));
    expect(routes.size).toBeGreaterThanOrEqual(12);
  });

  it.each(table)('answers %s with its documented 4xx and stores nothing', async (_, hostile) => {
    const before = await snapshot();
    const response = await send(hostile);
    expect({ status: response.status, body: response.body.slice(0, 300) }).toEqual({ status: hostile.status, body: expect.anything() });
    if (hostile.type) {
      expect(response.contentType).toBe('application/problem+json');
      const problem = JSON.parse(response.body) as { type: string; status: number; detail: string };
      expect(problem).toMatchObject({ type: `https://herald.dev/problems/${hostile.type}`, status: hostile.status, detail: expect.any(String) });
      // A detail repeats at most a bounded excerpt of what was sent.
      expect(problem.detail.length).toBeLessThan(1_000);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('still accepts a body exactly at the size limit and nesting exactly at the depth limit', async () => {
    const api = apiClient(runtime);
    const atSize = await api('POST', '/v1/requests', { body: bodyOfSize(MAX_BODY_BYTES), headers: { 'idempotency-key': 'hostile-at-size' } });
    expect(atSize.status).toBe(202);
    const atDepth = await api('POST', '/v1/requests', {
      body: `{"type":"demo.sleep","payload":{"a":${nested(depth - 2)}}}`,
      headers: { 'idempotency-key': 'hostile-at-depth' },
    });
    expect(atDepth.status).toBe(202);
    expect((await api('GET', `/v1/requests/${atDepth.body!.id}`)).status).toBe(200);
  });
});

/**
 * Payloads a hostile client sends that are valid JSON Herald accepts: each must be stored and read
 * back as sent (member order aside, which JSON leaves without meaning). Member names that other
 * layers read as types, numbers at the edges of the accepted range, and names DynamoDB
 * expressions or attribute values would treat specially.
 */
const acceptedHostile: [string, string][] = [
  ['constructor holding a number', '{"constructor":1}'],
  ['constructor named Map', '{"constructor":{"name":"Map"}}'],
  ['constructor named Set', '{"constructor":{"name":"Set"}}'],
  ['constructor named String', '{"constructor":{"name":"String"}}'],
  ['constructor named Boolean', '{"constructor":{"name":"Boolean"}}'],
  ['constructor named Uint8Array', '{"constructor":{"name":"Uint8Array"}}'],
  ['constructor named Number', '{"constructor":{"name":"Number"},"n":5}'],
  ['constructor named Object with a prototype', '{"constructor":{"name":"Object","prototype":null}}'],
  ['constructor named Buffer, deep in a list', '{"list":[{"a":{"constructor":{"name":"Buffer"}}}]}'],
  ['constructor holding a string', '{"constructor":"String"}'],
  ['toString, valueOf and hasOwnProperty as members', '{"toString":1,"valueOf":{"x":[]},"hasOwnProperty":"yes","isPrototypeOf":null}'],
  ['prototype as a member', '{"prototype":{"constructor":{"name":"Set"}}}'],
  ['members shaped like DynamoDB attribute values', '{"S":"x","N":"1","M":{"L":[{"NULL":true}],"BOOL":false},"SS":["a"],"B":"AA=="}'],
  ['members shaped like expression placeholders', '{"#name":1,":value":2,"a.b":3,"c[0]":4,"size(x)":5}'],
  ['the largest accepted integers', '{"max":9007199254740991,"min":-9007199254740991}'],
  ['the smallest accepted magnitudes', '{"tiny":1e-130,"negativeTiny":-1e-130}'],
  ['numbers a double keeps exactly', '{"a":0.1,"b":0.30000000000000004,"c":1.5e-7,"d":1E+15,"e":3.141592653589793,"f":-0.5}'],
  ['zeros written every way', '{"a":0,"b":-0,"c":0.0,"d":0e10}'],
  ['numbers written with trailing zeros and exponents', '{"a":1.50,"b":15e-1,"c":100E-2}'],
  ['a member name of 255 characters', `{"${'k'.repeat(255)}":1}`],
  ['a member name of 255 emoji', `{"${'😀'.repeat(255)}":true}`],
  ['a member name of one NUL character', '{"\\u0000":"nul"}'],
  ['member names of spaces and punctuation', '{" ":1,"  ":2,"-":3,"~0/1":4}'],
  ['empty strings, lists and objects', '{"s":"","l":[],"o":{},"n":null,"nested":[[],[{}],[""]]}'],
  ['a payload stored apart, with a constructor member', `{"constructor":{"name":"String"},"pad":"${'x'.repeat(6_000)}"}`],
];

/** JSON text with every object's members in name order: equal texts mean equal JSON values. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, member: unknown) =>
    member !== null && typeof member === 'object' && !Array.isArray(member)
      ? Object.fromEntries(Object.entries(member).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : member,
  );
}

describe('accepted hostile payloads', () => {
  it.each(acceptedHostile)('stores %s and reads it back as sent', async (_, payloadText) => {
    const response = await send(submit(`{"type":"demo.fail","payload":${payloadText}}`, 202, ''));
    expect(response.status).toBe(202);
    const { id } = JSON.parse(response.body) as { id: string };

    const documents = DynamoDBDocumentClient.from(dynamo);
    const { Item } = await documents.send(new GetCommand({ TableName: runtime.resources.tableName, Key: itemKeys.request(id), ConsistentRead: true }));
    const s3 = new S3Client({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: runtime.endpoints.s3, forcePathStyle: true });
    const objects = new S3RequestBodies(s3, runtime.resources.bodiesBucket);
    const stored = await new RequestBodies(documents, runtime.resources.tableName, 30, objects).withPayload(Item!).finally(() => s3.destroy());

    expect(canonical(stored.payload)).toBe(canonical(JSON.parse(payloadText)));
  });
});
