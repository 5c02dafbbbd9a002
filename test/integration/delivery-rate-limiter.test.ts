import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDeliveryRateLimiter } from '../../lambdas/adapters/dynamo-delivery-rate-limiter';
import { provisionForTest } from '../support/endpoints';

let limiter: DynamoDeliveryRateLimiter;
let dynamo: DynamoDBDocumentClient;

beforeAll(async () => {
  const resources = await provisionForTest('rate');
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: resources.endpoints.dynamodb }));
  limiter = new DynamoDeliveryRateLimiter(dynamo, resources.tableName);
});

afterAll(() => dynamo.destroy());

// One clock for every caller, so the slots depend on the writes alone, not on timing.
const NOW = Date.parse('2026-03-10T12:00:00Z');

describe('DynamoDeliveryRateLimiter', () => {
  it('gives 20 concurrent workers at 2 a second distinct slots half a second apart, and sends those past the horizon back later', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => limiter.reserve('ep_concurrent', 2, NOW, 5_000)));
    const slots = answers.flatMap((answer) => (answer.kind === 'slot' ? [answer.at - NOW] : [])).sort((a, b) => a - b);
    // Slots at 0, 500, … 5000 ms: the horizon is 5 s, so 11 fit and 9 must come back.
    expect(slots).toEqual(Array.from({ length: 11 }, (_, i) => i * 500));
    const later = answers.filter((answer) => answer.kind === 'later');
    expect(later).toHaveLength(9);
    // Each is told to come back when the next free slot is within the horizon again.
    for (const answer of later) expect(answer).toEqual({ kind: 'later', retryAt: NOW + 5_500 - 5_000 });
  });

  it('starts an idle endpoint at once, and keeps endpoints apart', async () => {
    expect(await limiter.reserve('ep_idle', 1, NOW, 10_000)).toEqual({ kind: 'slot', at: NOW });
    expect(await limiter.reserve('ep_idle', 1, NOW + 5_000, 10_000)).toEqual({ kind: 'slot', at: NOW + 5_000 });
    expect(await limiter.reserve('ep_idle', 1, NOW + 5_000, 10_000)).toEqual({ kind: 'slot', at: NOW + 6_000 });
    expect(await limiter.reserve('ep_other', 1, NOW + 5_000, 10_000)).toEqual({ kind: 'slot', at: NOW + 5_000 });
  });
});
