import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import type { LocalRuntime } from '../../lib/local/runtime';
import { merchantRateLimit } from '../../lambdas/settings/api';
import { apiClient, startTestRuntime } from '../support/local-runtime';

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('ratelimit', { merchantRateLimit: LIMIT });
});

afterAll(() => runtime?.stop());

/** A merchant of its own with a fresh window, so each test counts from zero. */
async function newMerchantKey(name: string): Promise<string> {
  const merchants = new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName);
  const merchant = await merchants.createMerchant({ name });
  return (await merchants.createApiKey(merchant.id)).key;
}

const LIMIT = 3;

describe('the per-merchant rate limit of the local gateway', () => {
  it('answers 429 with Retry-After and a problem once a key used its requests of the window, and leaves other merchants alone', async () => {
    const api = apiClient(runtime);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await api('GET', '/v1/requests')).status);

    const refused = await api('POST', '/v1/requests', { headers: { 'idempotency-key': 'over-the-limit' }, body: { type: 'demo.sleep', payload: { ms: 1 } } });

    expect(statuses).toEqual([200, 200, 200]);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(merchantRateLimit.windowSeconds);
    expect(refused.body).toMatchObject({ type: 'https://herald.dev/problems/rate-limited', status: 429, detail: expect.stringMatching(/more than 3 requests in 300 seconds/) });
    // Refused before the handler ran: nothing was stored under that key.
    expect((await apiClient(runtime)('GET', '/v1/requests')).status).toBe(429);

    const merchants = new DynamoMerchantStore(dynamoClient(), runtime.resources.tableName);
    const other = await merchants.createMerchant({ name: 'Other merchant' });
    const { key } = await merchants.createApiKey(other.id);
    expect((await apiClient(runtime, key)('GET', '/v1/requests')).status).toBe(200);
  });

  it('counts a merchant once whatever the spelling of its header: seven spellings times seven calls give at most the limit', async () => {
    const key = await newMerchantKey('Spellings');
    const spellings = [`Bearer ${key}`, `bearer ${key}`, `BEARER ${key}`, `bEaReR ${key}`, `Bearer  ${key}`, `Bearer\t${key}`, `Bearer   ${key}`];
    const statuses: Record<string, number[]> = {};
    for (const authorization of spellings) {
      for (let call = 0; call < 7; call++) {
        const response = await fetch(`${runtime.url}/v1/requests`, { headers: { authorization } });
        await response.arrayBuffer();
        (statuses[authorization] ??= []).push(response.status);
      }
    }

    const all = Object.values(statuses).flat();
    expect(all.filter((status) => status === 200)).toHaveLength(LIMIT);
    // The malformed spellings are refused before any count, with the reason, and never answered 200.
    for (const malformed of spellings.slice(4)) expect(statuses[malformed]).toEqual(Array(7).fill(401));
    expect(all.filter((status) => status === 429)).toHaveLength(4 * 7 - LIMIT);
    const refused = await fetch(`${runtime.url}/v1/requests`, { headers: { authorization: `Bearer\t${key}` } });
    expect(await refused.json()).toMatchObject({ status: 401, detail: expect.stringContaining('exactly one space') });
  });

  it('counts the event stream like every other route, and refuses a stream once the window is full', async () => {
    const key = await newMerchantKey('Streams');
    const api = apiClient(runtime, key);
    const submitted = await api('POST', '/v1/requests', { headers: { 'idempotency-key': 'counted' }, body: { type: 'demo.sleep', payload: { ms: 1 } } });
    expect(submitted.status).toBe(202);
    const stream = await fetch(`${runtime.url}/v1/requests/${submitted.body!.id}/events`, { headers: { authorization: `Bearer ${key}` } });
    await stream.text();
    expect(stream.status).toBe(200);
    expect((await api('GET', `/v1/requests/${submitted.body!.id}`)).status).toBe(200);

    const overTheLimit = await fetch(`${runtime.url}/v1/requests/${submitted.body!.id}/events`, { headers: { authorization: `Bearer ${key}` } });
    expect(overTheLimit.status).toBe(429);
    expect(await overTheLimit.json()).toMatchObject({ type: 'https://herald.dev/problems/rate-limited' });
  });
});
