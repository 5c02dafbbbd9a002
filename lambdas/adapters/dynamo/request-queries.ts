import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { table } from '../../../lib/topology';
import type { ListPosition, RequestListing, RequestPage, RequestReader } from '../../core/ports';
import type { HeraldRequest, RequestStatus } from '../../core/request';
import { indexKeys, keys, requestFromItem, type Item } from './keys';

/** Queries one page of a filtered list may take before answering with a short page and a cursor. */
const LIST_MAX_QUERIES = 5;
/** Items read per query while filtering by status. */
const LIST_FILTERED_READ = 200;

/** Reading requests: one by id, and a merchant's list from the byMerchant index. */
export class DynamoRequestQueries implements RequestReader, RequestListing {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** A request by id, whoever owns it; callers facing merchants use `getForMerchant`. */
  async get(id: string): Promise<HeraldRequest | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.request(id), ConsistentRead: true }));
    return Item ? requestFromItem(Item) : undefined;
  }

  /** A request only if it belongs to the merchant: another tenant's id is indistinguishable from an unknown one. */
  async getForMerchant(merchantId: string, id: string): Promise<HeraldRequest | undefined> {
    const request = await this.get(id);
    return request?.merchantId === merchantId ? request : undefined;
  }

  /**
   * A merchant's requests, newest first. With a status filter, DynamoDB filters after reading,
   * so a page may take several queries; the work per call is capped and a short page then still
   * carries a cursor to continue from.
   */
  async listForMerchant(merchantId: string, query: { status?: RequestStatus; limit: number; after?: ListPosition }): Promise<RequestPage> {
    const index = table.indexes.byMerchant;
    const found: HeraldRequest[] = [];
    let startKey: Item | undefined = query.after
      ? indexKeys.requestListPosition(merchantId, query.after.createdAt, query.after.id)
      : undefined;
    for (let round = 0; round < LIST_MAX_QUERIES; round++) {
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': index.partitionKey, ...(query.status ? { '#status': 'status' } : {}) },
          ExpressionAttributeValues: {
            ':pk': indexKeys.merchantRequests(merchantId),
            ...(query.status ? { ':status': query.status } : {}),
          },
          ...(query.status ? { FilterExpression: '#status = :status' } : {}),
          ScanIndexForward: false,
          // One more than asked tells whether another page exists without a second query.
          Limit: query.status ? LIST_FILTERED_READ : query.limit + 1,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      found.push(...Items.map(requestFromItem));
      if (found.length > query.limit) {
        const requests = found.slice(0, query.limit);
        const last = requests[requests.length - 1]!;
        return { requests, next: { createdAt: last.createdAt, id: last.id } };
      }
      if (!LastEvaluatedKey) return { requests: found };
      startKey = LastEvaluatedKey;
    }
    return { requests: found, next: indexKeys.parsePosition(String(startKey![index.sortKey])) };
  }
}
