import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { table } from '../../../lib/topology';
import type { ListPosition, RequestListing, RequestPage, RequestReader } from '../../core/ports';
import type { HeraldRequest, RequestStatus } from '../../core/request';
import { BATCH_GET_MAX_KEYS, batchGetInOrder } from './batch-get';
import { indexKeys, keys, requestFromItem, tableKeyOf, type Item } from './keys';
import type { RequestBodies } from './request-bodies';

/** Queries one page of a filtered list may take before answering with a short page and a cursor. */
const LIST_MAX_QUERIES = 5;
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
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.request(id), ConsistentRead: true }));
    return Item ? this.bodies.withResult(Item) : undefined;
  }

  /** A request only if it belongs to the merchant: another tenant's id is indistinguishable from an unknown one. */
  async getForMerchant(merchantId: string, id: string): Promise<HeraldRequest | undefined> {
    const request = await this.get(id);
    return request?.merchantId === merchantId ? request : undefined;
  }

  /**
   * A merchant's requests, newest first. The index holds keys only, so each page fetches its
   * requests by key (BatchGetItem) after the query. A status filter is applied to the fetched
   * items, since the index no longer carries the status: a page may then take several queries,
   * capped per call, and a short page still carries a cursor to continue from. A request the
   * index lists but the table no longer holds (expired meanwhile) is left out.
   */
  async listForMerchant(merchantId: string, query: { status?: RequestStatus; limit: number; after?: ListPosition }): Promise<RequestPage> {
    const index = table.indexes.byMerchant;
    const found: HeraldRequest[] = [];
    let startKey: Item | undefined = query.after
      ? indexKeys.requestListPosition(merchantId, query.after.createdAt, query.after.id)
      : undefined;
    for (let round = 0; round < LIST_MAX_QUERIES; round++) {
      const room = query.limit - found.length;
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': index.partitionKey },
          ExpressionAttributeValues: { ':pk': indexKeys.merchantRequests(merchantId) },
          ScanIndexForward: false,
          // One more than room tells whether another page exists; that one is not fetched.
          Limit: query.status ? LIST_FILTERED_READ : room + 1,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      const considered = query.status ? Items : Items.slice(0, room);
      for (const item of await batchGetInOrder(this.client, this.tableName, considered.map(tableKeyOf))) {
        if (!item) continue;
        const request = requestFromItem(item);
        if (!query.status || request.status === query.status) found.push(request);
      }
      const unread = Items.length > considered.length;
      if (found.length >= query.limit) {
        const requests = found.slice(0, query.limit);
        const last = requests[requests.length - 1]!;
        const more = found.length > query.limit || unread || LastEvaluatedKey !== undefined;
        return more ? { requests, next: { createdAt: last.createdAt, id: last.id } } : { requests };
      }
      // Short of the limit (a request expired between the index and the fetch, or the filter
      // left some out): continue after the last key looked at.
      const resumeAt = unread ? indexPosition(considered[considered.length - 1]!) : LastEvaluatedKey;
      if (!resumeAt) return { requests: found };
      startKey = resumeAt;
    }
    return { requests: found, next: indexKeys.parsePosition(String(startKey![index.sortKey])) };
  }
}

/** Exactly the key attributes a query of byMerchant resumes from, whatever else the index item carries. */
function indexPosition(item: Item): Item {
  const index = table.indexes.byMerchant;
  return { ...tableKeyOf(item), [index.partitionKey]: item[index.partitionKey], [index.sortKey]: item[index.sortKey] };
}
