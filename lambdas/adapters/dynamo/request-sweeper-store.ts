import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { table } from '../../settings/storage';
import type { StuckRequestStore, UnfinishedRequests } from '../../core/requests/ports';
import type { HeraldRequest, RequestStatus } from '../../core/requests/request';
import { unlessConditionFails } from './conditions';
import { batchGetInOrder } from './batch-get';
import { indexKeys, keys, requestFromItem, tableKeyOf, type Item } from './keys';
import { queryOpenBefore, randomStart, readPartitions } from './shard-reads';

/**
 * Queries one sweep may make per shard of a status; with `table.shards.byStatus` shards and the
 * unsharded key, a run makes at most (shards + 1) × this many per status, and reads no further
 * shard once it holds its batch.
 */
const SWEEP_MAX_QUERIES_PER_SHARD = 2;

/** What the sweeper reads from the byStatus index, and the one mark it writes; unfinished work read from the same index. */
export class DynamoRequestSweeperStore implements StuckRequestStore, UnfinishedRequests {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** `accepted` requests changed before `changedBefore`, never enqueued or enqueued before `enqueuedBefore`. */
  async findUnqueued(query: { changedBefore: string; enqueuedBefore: string; limit: number }): Promise<HeraldRequest[]> {
    return this.queryByStatus('accepted', query.changedBefore, query.limit, (request) => !request.enqueuedAt || request.enqueuedAt < query.enqueuedBefore);
  }

  /** `processing` requests whose lease ended before `before`: the index sorts them by lease end. */
  async findLeaseExpired(query: { before: string; limit: number }): Promise<HeraldRequest[]> {
    return this.queryByStatus('processing', query.before, query.limit);
  }

  /**
   * Every `accepted` or `processing` request, however recent, oldest sweep time first: the index
   * is sparse (finished requests leave it), so this reads only unfinished work. Bounded by
   * `limit`, and per shard by the sweeper's query cap.
   */
  async findUnfinished(status: 'accepted' | 'processing', limit: number): Promise<HeraldRequest[]> {
    return this.queryByStatus(status, undefined, limit);
  }

  /** Marks a still-`accepted` request as enqueued at `at`; a request that moved on meanwhile is left alone. */
  async markResent(id: string, at: string): Promise<void> {
    await unlessConditionFails(
      () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.request(id),
            ConditionExpression: '#status = :accepted',
            UpdateExpression: 'SET enqueuedAt = :at',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':accepted': 'accepted', ':at': at },
          }),
        ),
      () => undefined,
    );
  }

  /**
   * Every shard of the status is queried (side by side, bounded; a run starts at a random shard
   * and starts no further shard once it holds `limit` requests). The index holds keys only: each
   * page is fetched by key, and what comes back is checked again, because the index lags the
   * table. A request that left the status, moved its sweep time past `before`, or was deleted
   * between the index read and the fetch is not returned; the conditional writes that follow
   * guard the rest. The oldest `limit` of what the shards gave are returned.
   */
  private async queryByStatus(
    status: RequestStatus,
    before: string | undefined,
    limit: number,
    matches: (request: HeraldRequest) => boolean = () => true,
  ): Promise<HeraldRequest[]> {
    const index = table.indexes.byStatus;
    const partitions = indexKeys.statusPartitions(status);
    const found: { request: HeraldRequest; sortKey: string }[] = [];
    await readPartitions(
      partitions,
      async (partition) => {
        let startKey: Item | undefined;
        let pages = 0;
        do {
          const page = await queryOpenBefore(this.client, this.tableName, { partition, before, limit, ...(startKey ? { startKey } : {}) });
          const items = await batchGetInOrder(this.client, this.tableName, (page.Items ?? []).map(tableKeyOf), { consistentRead: true });
          for (const item of items) {
            if (!item || item[index.partitionKey] !== partition || (before !== undefined && !(String(item[index.sortKey]) < before))) continue;
            const request = requestFromItem(item);
            if (!matches(request)) continue;
            found.push({ request, sortKey: String(item[index.sortKey]) });
          }
          startKey = page.LastEvaluatedKey;
          pages++;
          // A long healthy backlog is read only to be filtered out: the cap keeps one run short, and
          // a stuck request behind it is reached as the backlog ahead of it (older rows) drains.
        } while (startKey && found.length < limit && pages < SWEEP_MAX_QUERIES_PER_SHARD);
      },
      { enough: () => found.length >= limit, startAt: randomStart(partitions) },
    );
    return found
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
      .slice(0, limit)
      .map(({ request }) => request);
  }
}
