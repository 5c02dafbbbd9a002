import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { table } from '../../settings/storage';
import type { Item } from './keys';

/**
 * Reading every shard of a key: queries run side by side, but never more than
 * `SHARD_QUERY_CONCURRENCY` at once, so a reader of 129 partitions neither waits for them one by
 * one nor opens 129 connections (the SDK's agent keeps 50 sockets) and bursts the table.
 */
export const SHARD_QUERY_CONCURRENCY = 16;

/**
 * Runs `read` on each partition, at most `concurrency` at a time, and returns the results in the
 * partitions' order (undefined for a partition not read). With `enough`, no further partition is started once it answers true: a
 * reader that needs a bounded number of items stops early, and each run starts at a random
 * partition so that no shard is always read last.
 */
export async function readPartitions<T>(
  partitions: readonly string[],
  read: (partition: string) => Promise<T>,
  options: { readonly concurrency?: number; readonly enough?: () => boolean; readonly startAt?: number } = {},
): Promise<(T | undefined)[]> {
  const concurrency = Math.max(1, options.concurrency ?? SHARD_QUERY_CONCURRENCY);
  const start = options.startAt ?? 0;
  const results: (T | undefined)[] = new Array<T | undefined>(partitions.length);
  let next = 0;
  const worker = async () => {
    while (next < partitions.length && !options.enough?.()) {
      const index = (start + next++) % partitions.length;
      results[index] = await read(partitions[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, partitions.length) }, worker));
  return results;
}

/** A random partition to start from, so that an early stop does not always spare the same shards. */
export function randomStart(partitions: readonly string[]): number {
  return Math.floor(Math.random() * partitions.length);
}

/**
 * One page of a byStatus partition's entries older than `before`: both sweepers read open work
 * this way. The sort key is `<time>#<id>`, so comparing it with a bare time selects everything
 * strictly earlier; without `before`, every entry of the partition, oldest first.
 */
export async function queryOpenBefore(
  client: DynamoDBDocumentClient,
  tableName: string,
  page: { readonly partition: string; readonly before?: string; readonly limit: number; readonly startKey?: Item },
): Promise<{ Items?: Item[]; LastEvaluatedKey?: Item }> {
  const index = table.indexes.byStatus;
  return client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: index.name,
      KeyConditionExpression: page.before === undefined ? '#pk = :pk' : '#pk = :pk AND #sk < :before',
      ExpressionAttributeNames: { '#pk': index.partitionKey, ...(page.before === undefined ? {} : { '#sk': index.sortKey }) },
      ExpressionAttributeValues: { ':pk': page.partition, ...(page.before === undefined ? {} : { ':before': page.before }) },
      Limit: page.limit,
      ...(page.startKey ? { ExclusiveStartKey: page.startKey } : {}),
    }),
  );
}
