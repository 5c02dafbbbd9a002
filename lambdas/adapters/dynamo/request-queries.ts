import { GetCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { table } from '../../settings/storage';
import { webhookDefaults } from '../../settings/webhooks';
import type { ListPosition, RequestListing, RequestPage, RequestReader, RequestStatusReader, RequestWithRecords } from '../../core/requests/ports';
import type { HeraldRequest, RequestStatus } from '../../core/requests/request';
import { DELIVERY_ITEM_BOUND_BYTES } from '../../core/webhooks/delivery';
import { REQUEST_EVENT_TYPES } from '../../core/webhooks/endpoint';
import { BATCH_GET_MAX_KEYS, batchGetInOrder } from './batch-get';
import { readPartitions } from './shard-reads';
import { deliveryFromItem, indexKeys, keys, notificationFromItem, requestFromItem, tableKeyOf, type Item } from './keys';
import type { RequestBodies } from './request-bodies';

/**
 * Rounds one page of a filtered list may take before answering with a short page and a cursor;
 * each round queries every shard of the merchant's list once.
 */
const LIST_MAX_ROUNDS = 5;
const SORT_KEY = table.indexes.byMerchant.sortKey;
/** Index keys read per query while filtering by status: one BatchGetItem fetches them all. */
const LIST_FILTERED_READ = BATCH_GET_MAX_KEYS;

/** What one Query page reads at most (DynamoDB's limit). */
const QUERY_PAGE_BYTES = 1024 * 1024;
/**
 * The most a request's deliveries can hold: one per request event type to each of the merchant's
 * endpoints and to its callback, each within its bound (21 × 2 × 32 KB, about 1.3 MB).
 */
const REQUEST_DELIVERIES_MAX_BYTES = (webhookDefaults.maxEndpointsPerMerchant + 1) * REQUEST_EVENT_TYPES.length * DELIVERY_ITEM_BOUND_BYTES;
/**
 * Pages a status read takes at most: the deliveries' pages, and one more for the notification
 * slots (a handful of small items per request) and the request item. A 1 KB request with a
 * delivery or two is one page of one read unit.
 */
export const STATUS_READ_MAX_PAGES = Math.ceil(REQUEST_DELIVERIES_MAX_BYTES / QUERY_PAGE_BYTES) + 1;

/** Reading requests: one by id, one with its records for a status, and a merchant's list from the byMerchant index. */
export class DynamoRequestQueries implements RequestReader, RequestStatusReader, RequestListing {
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

  /**
   * A request and its records in one Query of its partition, strongly consistent. The partition
   * sorts `DLV#…` (deliveries), `NTF#…` (notification slots), `PAYLOAD#…` (payloads kept as items:
   * only without a bodies bucket, or written before it), `REQ`, `RESULT#…`, so the range from the
   * first delivery to `REQ` takes the records and the request and no result item; a result kept
   * apart is read as `get` reads it. Payload items in the range are filtered out: they still cost
   * their read units, but are never sent back. Once a page ends among them (every record read),
   * the request item alone is fetched by key rather than paging on through large bodies. Ownership
   * is known only once the request item is read, last: another merchant's request answers
   * undefined, and the records read with it are dropped, never handed out. Bounded by
   * `STATUS_READ_MAX_PAGES`.
   */
  async getWithRecordsForMerchant(merchantId: string, id: string): Promise<RequestWithRecords | undefined> {
    const requestKey = keys.request(id);
    const payloadsFrom = keys.requestPayload(id, '').sk;
    const deliveriesFrom = keys.requestDeliveries(id).skPrefix;
    const notificationsFrom = keys.requestNotifications(id).skPrefix;
    let item: Item | undefined;
    const records: Item[] = [];
    let startKey: Item | undefined;
    for (let page = 0; ; page++) {
      if (startKey && String(startKey.sk) >= payloadsFrom) {
        item = await this.item(id);
        break;
      }
      if (page === STATUS_READ_MAX_PAGES) throw new RequestRecordsOverBoundError(id, STATUS_READ_MAX_PAGES);
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :request',
          // A filter may not name the sort key: a payload item is the one item of the range with a
          // payload and no owner (the request item has both; deliveries and slots no payload).
          FilterExpression: 'attribute_not_exists(#payload) OR attribute_exists(#owner)',
          ExpressionAttributeNames: { '#payload': 'payload', '#owner': 'merchantId' },
          ExpressionAttributeValues: { ':pk': requestKey.pk, ':first': deliveriesFrom, ':request': requestKey.sk },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const found of Items) {
        if (found.sk === requestKey.sk) item = found;
        else records.push(found);
      }
      startKey = LastEvaluatedKey;
      // The request item ends the range: once it is read, nothing is left to page.
      if (!startKey || item) break;
    }
    if (item?.merchantId !== merchantId) return undefined;
    const skOf = (record: Item) => String(record.sk);
    return {
      request: await this.bodies.withResult(item),
      deliveries: records.filter((record) => skOf(record).startsWith(deliveriesFrom)).map(deliveryFromItem),
      notifications: records.filter((record) => skOf(record).startsWith(notificationsFrom)).map(notificationFromItem),
    };
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

/** A request's partition held more records than its deliveries' bound allows: the bound no longer matches the limits. */
export class RequestRecordsOverBoundError extends Error {
  constructor(requestId: string, pages: number) {
    super(`Request ${requestId} has more records than ${pages} pages of its partition hold`);
    this.name = 'RequestRecordsOverBoundError';
  }
}
