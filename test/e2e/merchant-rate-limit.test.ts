import { DynamoMerchantStore } from '../../lambdas/adapters/dynamo-merchant-store';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import type { LocalRuntime } from '../../lib/local/runtime';
import { merchantRateLimit } from '../../lib/topology';
import { apiClient, startTestRuntime } from '../support/local-runtime';

let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startTestRuntime('ratelimit', { merchantRateLimit: 3 });
});

afterAll(() => runtime?.stop());

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
});
