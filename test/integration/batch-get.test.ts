import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetInOrder } from '../../lambdas/adapters/dynamo/batch-get';
import { provisionForTest } from '../support/endpoints';

let tableName: string;
let dynamo: DynamoDBDocumentClient;

beforeAll(async () => {
  const resources = await provisionForTest('batchget');
  tableName = resources.tableName;
  dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: resources.endpoints.dynamodb }));
});

afterAll(() => dynamo.destroy());

const keyOf = (n: number) => ({ pk: `ITEM#${n}`, sk: 'ITEM' });

it('answers more keys than one call takes, in the order asked, with a gap for a missing item', async () => {
  const stored = Array.from({ length: 150 }, (_, n) => n);
  for (let start = 0; start < stored.length; start += 25) {
    await dynamo.send(
      new BatchWriteCommand({
        RequestItems: { [tableName]: stored.slice(start, start + 25).map((n) => ({ PutRequest: { Item: { ...keyOf(n), n } } })) },
      }),
    );
  }
  // Reversed, with a key that holds nothing and one asked twice.
  const asked = [...stored].reverse().map(keyOf);
  asked.splice(10, 0, keyOf(999), keyOf(3));

  const items = await batchGetInOrder(dynamo, tableName, asked);

  expect(items).toHaveLength(asked.length);
  expect(items[10]).toBeUndefined();
  expect(items.map((item) => item?.n)).toEqual(asked.map((key) => (key.pk === 'ITEM#999' ? undefined : Number(key.pk.slice(5)))));
});
