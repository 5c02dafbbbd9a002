import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { table } from '../../settings/storage';
import type { StuckQuery, StuckRequests, StuckRequestStore, UnfinishedRequests } from '../../core/requests/ports';
import type { HeraldRequest } from '../../core/requests/request';
import { unlessConditionFails } from './conditions';
import { batchGetInOrder } from './batch-get';
import { indexKeys, keys, requestFromItem, tableKeyOf, type Item } from './keys';
import { queryOpenBefore, randomStart, readPartitions } from './shard-reads';

/**
 * Queries one sweep may make per byStatus partition; with `table.shards.byStatus` shards and the
 * unsharded key, a run makes at most (shards + 1) × this many per partition family it reads (the
 * open requests' family, and the drained `processing` family below), and reads no further
 * partition once it holds its batches.
 */
const SWEEP_MAX_QUERIES_PER_SHARD = 2;

/**
 * The open requests' entries. A request enters them at submit and moves only when it goes back
 * to `accepted` (a retry, a redrive); the claim leaves it in place, so a `processing` request
 * sits here under the sort key of the time it was last accepted (docs/data-model.md).
 */
const OPEN = 'accepted';
/**
 * Where a `processing` request's entry went before the claim stopped moving it. A table written
 * before then still holds entries here; they leave as their requests finish or go back to
 * `accepted`, and until then the sweeper and `findUnfinished` read this family too.
 */
const DRAINED = 'processing';

type Found = { request: HeraldRequest; sortKey: string };

/** What the sweeper reads from the byStatus index, and the one mark it writes; unfinished work read from the same index. */
export class DynamoRequestSweeperStore implements StuckRequestStore, UnfinishedRequests {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * One query family for both kinds: the open entries sorted before the later of the two
   * cutoffs (`changedBefore` for an unqueued request, `claimedBefore` for one whose lease ended:
   * its entry keeps the time it had before its claim). An `accepted` request is stuck when its
   * sort key is before `changedBefore` and its enqueue mark is absent or older than
   * `enqueuedBefore`; a `processing` one when its lease ended before `leaseEndedBefore`. A request
   * claimed while its entry's time was still ahead (a retry claimed before it was due) is found
   * once that time passes. The drained `processing` family is read as before, by lease end.
   */
  async findStuck(query: StuckQuery): Promise<StuckRequests> {
    const { changedBefore, enqueuedBefore, leaseEndedBefore, claimedBefore, limit } = query;
    const cutoff = changedBefore > claimedBefore ? changedBefore : claimedBefore;
    const unqueued: Found[] = [];
    const leaseExpired: Found[] = [];
    const leaseOver = (request: HeraldRequest) => request.status === 'processing' && !!request.leaseUntil && request.leaseUntil < leaseEndedBefore;
    await Promise.all([
      this.readFamily(OPEN, cutoff, limit, () => unqueued.length >= limit && leaseExpired.length >= limit, (found) => {
        const { request, sortKey } = found;
        if (request.status === 'accepted' && sortKey < changedBefore && (!request.enqueuedAt || request.enqueuedAt < enqueuedBefore)) unqueued.push(found);
        else if (leaseOver(request)) leaseExpired.push(found);
      }),
      this.readFamily(DRAINED, leaseEndedBefore, limit, () => leaseExpired.length >= limit, (found) => {
        if (leaseOver(found.request)) leaseExpired.push(found);
      }),
    ]);
    return { unqueued: oldest(unqueued, limit), leaseExpired: oldest(leaseExpired, limit) };
  }

  /**
   * Every `accepted` or `processing` request, however recent, oldest sort key first: the index is
   * sparse (finished requests leave it), so this reads only unfinished work. Both statuses share
   * the open family, so each read skips the other's entries. Bounded by `limit`, and per
   * partition by the sweeper's query cap.
   */
  async findUnfinished(status: 'accepted' | 'processing', limit: number): Promise<HeraldRequest[]> {
    const found: Found[] = [];
    const keep = (entry: Found) => {
      if (entry.request.status === status) found.push(entry);
    };
    const enough = () => found.length >= limit;
    await Promise.all([
      this.readFamily(OPEN, undefined, limit, enough, keep),
      ...(status === 'processing' ? [this.readFamily(DRAINED, undefined, limit, enough, keep)] : []),
    ]);
    return oldest(found, limit);
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
   * Every partition of a family is queried (side by side, bounded; a run starts at a random
   * shard and starts no further shard once `enough` holds). The index holds keys only: each page
   * is fetched by key, and what comes back is checked again, because the index lags the table. A
   * request that left the family, moved its sort key past `before`, or was deleted between the
   * index read and the fetch is not handed to `take`; the conditional writes that follow guard the rest.
   */
  private async readFamily(
    family: typeof OPEN | typeof DRAINED,
    before: string | undefined,
    limit: number,
    enough: () => boolean,
    take: (found: Found) => void,
  ): Promise<void> {
    const index = table.indexes.byStatus;
    const partitions = indexKeys.statusPartitions(family);
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
            take({ request: requestFromItem(item), sortKey: String(item[index.sortKey]) });
          }
          startKey = page.LastEvaluatedKey;
          pages++;
          // Open work that is not stuck (a recent request, a long healthy attempt) is read only to be
          // passed over: the cap keeps one run short, and a stuck request behind it is reached as
          // the entries ahead of it (older rows) finish.
        } while (startKey && !enough() && pages < SWEEP_MAX_QUERIES_PER_SHARD);
      },
      { enough, startAt: randomStart(partitions) },
    );
  }
}

function oldest(found: Found[], limit: number): HeraldRequest[] {
  return found
    .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
    .slice(0, limit)
    .map(({ request }) => request);
}
