import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoWebhookEndpointStore } from '../../lambdas/adapters/dynamo-webhook-endpoint-store';
import { generateSigningSecret } from '../../lambdas/core/webhooks';
import { provisionForTest } from '../support/endpoints';

/** A document client of its own that counts the requests it sends to DynamoDB. */
function countingClient(): { client: DynamoDBDocumentClient; sent: () => number } {
  const base = new DynamoDBClient({});
  let sent = 0;
  base.middlewareStack.add(
    (next) => async (args) => {
      sent++;
      return next(args);
    },
    { step: 'finalizeRequest', name: 'countRequests' },
  );
  return { client: DynamoDBDocumentClient.from(base), sent: () => sent };
}

let tableName: string;
let secretsTableName: string;

beforeAll(async () => {
  const resources = await provisionForTest('endpoint-cache');
  tableName = resources.tableName;
  secretsTableName = resources.secretsTableName;
  const at = new Date().toISOString();
  const store = new DynamoWebhookEndpointStore(countingClient().client, tableName, 0, secretsTableName);
  await store.create(
    { id: 'wh_cached', merchantId: 'mer_cache', url: 'https://receiver.example/hooks', status: 'enabled', secret: { secret: generateSigningSecret(), createdAt: at }, version: 1, createdAt: at, updatedAt: at },
    20,
  );
});

describe('the delivery path’s endpoint cache', () => {
  it('serves reads of one endpoint made at once, as a batch’s records make them, with the requests of a single read', async () => {
    const uncached = countingClient();
    const single = await new DynamoWebhookEndpointStore(uncached.client, tableName, 0, secretsTableName).getCached('mer_cache', 'wh_cached');
    expect(single?.id).toBe('wh_cached');

    const cached = countingClient();
    const store = new DynamoWebhookEndpointStore(cached.client, tableName, 10, secretsTableName);
    const reads = await Promise.all(Array.from({ length: 10 }, () => store.getCached('mer_cache', 'wh_cached')));

    expect(reads.map((endpoint) => endpoint?.id)).toEqual(Array(10).fill('wh_cached'));
    expect(cached.sent()).toBe(uncached.sent());
  });

  it('serves a later read of the same endpoint from the cache, without a request', async () => {
    const counted = countingClient();
    const store = new DynamoWebhookEndpointStore(counted.client, tableName, 10, secretsTableName);
    await store.getCached('mer_cache', 'wh_other_key_first');
    const before = counted.sent();
    await store.getCached('mer_cache', 'wh_other_key_first');
    expect(counted.sent()).toBe(before);
  });
});
