import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Item, KeyRange } from './keys';

/**
 * Every item of one key range (a partition key and a sort-key prefix), following DynamoDB's pages
 * to the end. The ranges read this way are small by construction (a merchant's API keys and
 * endpoints, a request's notifications, one ledger reference's entries), so one page is the usual
 * case; following the rest keeps a range that outgrows 1 MB from being cut off silently.
 */
export async function queryKeyRange(
  client: DynamoDBDocumentClient,
  tableName: string,
  range: KeyRange,
  options: { readonly consistentRead?: boolean } = {},
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': range.pk, ':prefix': range.skPrefix },
        ...(options.consistentRead ? { ConsistentRead: true } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
