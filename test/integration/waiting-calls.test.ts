import { DynamoWaitingCalls } from '../../lambdas/adapters/dynamo-waiting-calls';
import { dynamoClient } from '../../lambdas/adapters/aws-clients';
import { provisionForTest } from '../support/endpoints';

let calls: DynamoWaitingCalls;

beforeAll(async () => {
  const resources = await provisionForTest('waiting');
  calls = new DynamoWaitingCalls(dynamoClient(), resources.tableName);
});

const NOW = 1_800_000_000_000;

describe('DynamoWaitingCalls', () => {
  it('counts up to the limit per merchant, refuses one more, and counts again once one leaves', async () => {
    expect(await calls.enter('mer_w1', 'a', NOW + 20_000, 2, NOW)).toBe(true);
    expect(await calls.enter('mer_w1', 'b', NOW + 20_000, 2, NOW)).toBe(true);
    expect(await calls.enter('mer_w1', 'c', NOW + 20_000, 2, NOW)).toBe(false);
    expect(await calls.enter('mer_w2', 'a', NOW + 20_000, 2, NOW)).toBe(true);

    await calls.leave('mer_w1', 'a', NOW + 20_000);
    await calls.leave('mer_w1', 'a', NOW + 20_000);
    expect(await calls.enter('mer_w1', 'c', NOW + 20_000, 2, NOW)).toBe(true);
    expect(await calls.enter('mer_w1', 'd', NOW + 20_000, 2, NOW)).toBe(false);
  });

  it('frees the places of calls whose functions died once their wait has passed', async () => {
    expect(await calls.enter('mer_w3', 'dead-1', NOW + 20_000, 2, NOW)).toBe(true);
    expect(await calls.enter('mer_w3', 'dead-2', NOW + 25_000, 2, NOW)).toBe(true);
    expect(await calls.enter('mer_w3', 'live', NOW + 40_000, 2, NOW + 21_000)).toBe(true);
    expect(await calls.enter('mer_w3', 'late', NOW + 41_000, 2, NOW + 21_000)).toBe(false);
  });
});
