import { GetCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { table } from '../../settings/storage';
import type { ListPosition, RequestListing, RequestPage, RequestReader } from '../../core/requests/ports';
import type { HeraldRequest, RequestStatus } from '../../core/requests/request';
import { BATCH_GET_MAX_KEYS, batchGetInOrder } from './batch-get';
import { readPartitions } from './shard-reads';
import { indexKeys, keys, requestFromItem, tableKeyOf, type Item } from './keys';
import type { RequestBodies } from './request-bodies';

/**
 * Rounds one page of a filtered list may take before answering with a short page and a cursor;
 * each round queries every shard of the merchant's list once.
 */
const LIST_MAX_ROUNDS = 5;
const SORT_KEY = table.indexes.byMerchant.sortKey;
/** Index keys read per query while filtering by status: one BatchGetItem fetches them all. */
const LIST_FILTERED_READ = BATCH_GET_MAX_KEYS;

/** Reading requests: one by id, and a merchant's list from the byMerchant index. */
export class DynamoRequestQueries implements RequestReader, RequestListing {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly bodies: RequestBodies,
  ) {}

  /**
   * A request by id, whoever owns it; callers facing merchants use `getForMerchant`. Its result
   * comes along (one more read when stored apart); its payload does not when stored apart: no
   * reader of a status needs it.
   */
  async get(id: string): Promise<HeraldRequest | undefined> {
    const item = await this.item(id);
    return item ? this.bodies.withResult(item) : undefined;
  }

  /**
   * A request only if it belongs to the merchant: another tenant's id is indistinguishable from an
   * unknown one. Ownership is checked on the item, before its result is read from wherever it is kept.
   */
  async getForMerchant(merchantId: string, id: string): Promise<HeraldRequest | undefined> {
    const item = await this.item(id);
    return item?.merchantId === merchantId ? this.bodies.withResult(item) : undefined;
  }

  private async item(id: string): Promise<Item | undefined> {
    return (await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.request(id), ConsistentRead: true }))).Item;
  }

  /**
   * A merchant's request as submitted, its payload included even when stored apart: for the local
   * console's request detail, which shows what the client sent.
   */
  async getSubmittedForMerchant(merchantId: string, id: string): Promise<HeraldRequest | undefined> {
    const item = await this.item(id);
    if (!item || item.merchantId !== merchantId) return undefined;
    return this.bodies.withPayload(item);
  }

  /**
   * A merchant's requests, newest first. They are spread over the shards of byMerchant, so each
   * round queries every shard (side by side, bounded) for its newest entries before the position
   * reached, merges them by sort key and fetches the page's requests by key (BatchGetItem: the
   * index holds keys only). One position, the sort key of the last request returned, resumes
   * every shard: the list is ordered by it across shards. A status filter is applied to the
   * fetched items, since the index no longer carries the status: a page may then take several
   * rounds, capped per call, and a short page still carries a cursor to continue from. A request
   * the index lists but the table no longer holds (expired meanwhile) is left out.
   */
  async listForMerchant(merchantId: string, query: { status?: RequestStatus; limit: number; after?: ListPosition }): Promise<RequestPage> {
    const partitions = indexKeys.merchantRequestPartitions(merchantId);
    const found: HeraldRequest[] = [];
    let before: string | undefined = query.after ? indexKeys.listPosition(query.after.createdAt, query.after.id) : undefined;
    for (let round = 0; round < LIST_MAX_ROUNDS; round++) {
      const room = query.limit - found.length;
      // One more than room from each shard tells whether another page exists; that one is not fetched.
      const perShard = query.status ? LIST_FILTERED_READ : room + 1;
      const pages = await readPartitions(partitions, (partition) => this.newestEntries(partition, perShard, before));
      const merged = pages
        .flatMap((page) => page?.items ?? [])
        .sort((a, b) => (String(a[SORT_KEY]) < String(b[SORT_KEY]) ? 1 : -1));
      const considered = merged.slice(0, query.status ? LIST_FILTERED_READ : room);
      for (const item of await batchGetInOrder(this.client, this.tableName, considered.map(tableKeyOf))) {
        if (!item) continue;
        const request = requestFromItem(item);
        if (!query.status || request.status === query.status) found.push(request);
      }
      const unread = merged.length > considered.length || pages.some((page) => page?.more);
      if (found.length >= query.limit) {
        const requests = found.slice(0, query.limit);
        const last = requests[requests.length - 1]!;
        const more = found.length > query.limit || unread;
        return more ? { requests, next: { createdAt: last.createdAt, id: last.id } } : { requests };
      }
      // Short of the limit (a request expired between the index and the fetch, or the filter
      // left some out): continue after the last entry looked at.
      if (!unread || considered.length === 0) return { requests: found };
      before = String(considered[considered.length - 1]![SORT_KEY]);
    }
    return { requests: found, next: indexKeys.parsePosition(before!) };
  }

  /**
   * Requests that finished (succeeded or failed) within `windowMs` before the table's last
   * change, at most `limit`: the local runtime's recovery announces their end again. No index
   * holds finished requests by time (the status index is sparse: terminal rows leave it), so this
   * scans the table once, projecting a few fields: only for the local runtime, whose table is small.
   */
  async recentlyFinished(windowMs: number, limit: number): Promise<Pick<HeraldRequest, 'id' | 'merchantId' | 'type' | 'updatedAt' | 'traceId'>[]> {
    const finished: Pick<HeraldRequest, 'id' | 'merchantId' | 'type' | 'updatedAt' | 'traceId'>[] = [];
    let latest = '';
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'sk = :request',
          ProjectionExpression: 'id, merchantId, #type, #status, updatedAt, traceId',
          ExpressionAttributeNames: { '#type': 'type', '#status': 'status' },
          ExpressionAttributeValues: { ':request': keys.request('').sk },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const updatedAt = String(item.updatedAt ?? '');
        if (updatedAt > latest) latest = updatedAt;
        if (item.status === 'succeeded' || item.status === 'failed') finished.push(item as (typeof finished)[number]);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    if (!latest) return [];
    const since = new Date(Date.parse(latest) - windowMs).toISOString();
    return finished.filter((request) => request.updatedAt >= since).slice(0, limit);
  }

  /** Up to `limit` entries of one byMerchant partition, newest first, strictly before `before` when given. */
  private async newestEntries(partition: string, limit: number, before: string | undefined): Promise<{ items: Item[]; more: boolean }> {
    const index = table.indexes.byMerchant;
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: before ? '#pk = :pk AND #sk < :before' : '#pk = :pk',
        ExpressionAttributeNames: { '#pk': index.partitionKey, ...(before ? { '#sk': index.sortKey } : {}) },
        ExpressionAttributeValues: { ':pk': partition, ...(before ? { ':before': before } : {}) },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return { items: Items, more: LastEvaluatedKey !== undefined };
  }
}
