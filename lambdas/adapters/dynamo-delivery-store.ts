import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { defaults } from '../settings/requests';
import { table } from '../settings/storage';
import type { DeliveryStore } from '../core/webhooks/ports';
import { parseDeliveryId, type Delivery } from '../core/webhooks/delivery';
import type { DeliveryTransition } from '../core/webhooks/delivery-lifecycle';
import { unlessConditionFails } from './dynamo/conditions';
import { batchGetInOrder } from './dynamo/batch-get';
import { deliveryFromItem, deliveryToItem, indexKeys, keys, tableKeyOf, type Item } from './dynamo/keys';
import { queryOpenBefore, readPartitions } from './dynamo/shard-reads';

/**
 * Deliveries next to the request they announce, so a request's deliveries are one query. The
 * index on (merchant, createdAt) doubles as the endpoint's delivery log, and the status index
 * holds pending deliveries by due time (`keys.delivery`, `indexKeys` in `dynamo/keys.ts`).
 *
 * A delivery expires with its request: every write that records an outcome, or starts a new
 * round, sets its TTL `retentionDays` after that moment, so it outlives the request it announces
 * (which expires `retentionDays` after it finished, before any delivery began) and every queue
 * message that could still name it (SQS keeps a message at most 14 days).
 */
export class DynamoDeliveryStore implements DeliveryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number = defaults.requestRetentionDays,
  ) {}

  /** The TTL of a delivery whose latest outcome or round began at `at`. */
  private expiryAfter(at: string): number {
    return Math.floor(Date.parse(at) / 1000) + this.retentionDays * 86_400;
  }

  /**
   * One conditional write of a decided transition: a PutItem creating the record (first outcome),
   * or an UpdateItem of what it changes, on the round (and state, due time) it was decided on.
   */
  async apply(transition: DeliveryTransition): Promise<Delivery | undefined> {
    const parts = parseDeliveryId(transition.id);
    if (!parts) return undefined;
    const { expected, changes, at } = transition;
    if (expected.absent) {
      const item = { ...deliveryToItem(transition.next), expiresAt: this.expiryAfter(at) };
      return unlessConditionFails(
        async () => {
          await this.client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
          return transition.next;
        },
        () => undefined,
      );
    }
    const state = transition.rule.to;
    const sets = ['#state = :state', 'updatedAt = :at', 'expiresAt = :expiresAt'];
    const removes: string[] = [];
    const values: Record<string, unknown> = { ':state': state, ':at': at, ':expiresAt': this.expiryAfter(at), ':round': expected.round };
    const conditions = ['round = :round'];
    if (expected.state) {
      conditions.push('#state = :expectedState');
      values[':expectedState'] = expected.state;
    }
    if (expected.nextAttemptAt === null) conditions.push('attribute_not_exists(nextAttemptAt)');
    else if (expected.nextAttemptAt !== undefined) {
      conditions.push('nextAttemptAt = :seen');
      values[':seen'] = expected.nextAttemptAt;
    }
    if (changes.round !== undefined) {
      sets.push('round = :nextRound');
      values[':nextRound'] = changes.round;
    }
    if (changes.attempts) {
      // The caller read the log and trimmed it: the item holds at most ATTEMPT_LOG_LIMIT attempts.
      sets.push('attempts = :attempts');
      values[':attempts'] = changes.attempts;
    }
    if (changes.deadAtRedrive !== undefined) {
      sets.push('deadAtRedrive = :deadAtRedrive');
      values[':deadAtRedrive'] = changes.deadAtRedrive;
    }
    if (changes.reason) {
      sets.push('reason = :reason');
      values[':reason'] = changes.reason;
    } else {
      removes.push('reason');
    }
    if (state === 'pending' && changes.nextAttemptAt) {
      sets.push('nextAttemptAt = :next');
      values[':next'] = changes.nextAttemptAt;
      for (const [attribute, value] of Object.entries(indexKeys.pendingDelivery(transition.id, changes.nextAttemptAt))) {
        sets.push(`${attribute} = :${attribute}`);
        values[`:${attribute}`] = value;
      }
    } else if (state !== 'pending') {
      // A finished delivery leaves the sweeper's index.
      removes.push('nextAttemptAt', ...indexKeys.statusAttributes);
    }
    return unlessConditionFails(
      async () => {
        const { Attributes } = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.delivery(parts.subjectId, parts.endpointId, parts.eventType),
            UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
        return Attributes ? deliveryFromItem(Attributes) : transition.next;
      },
      () => undefined,
    );
  }

  async get(id: string): Promise<Delivery | undefined> {
    const parts = parseDeliveryId(id);
    if (!parts) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.delivery(parts.subjectId, parts.endpointId, parts.eventType),
        ConsistentRead: true,
      }),
    );
    return Item ? deliveryFromItem(Item) : undefined;
  }

  async listForSubject(subjectId: string): Promise<Delivery[]> {
    const range = keys.requestDeliveries(subjectId);
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': range.pk, ':prefix': range.skPrefix },
        ConsistentRead: true,
      }),
    );
    return Items.map(deliveryFromItem);
  }

  /**
   * The log is spread over the endpoint's byMerchant shards: each shard gives its newest `limit`
   * entries, the newest `limit` of them all are fetched by key (the index holds keys only) in
   * index order; a delivery gone meanwhile is left out.
   */
  async listForEndpoint(endpointId: string, query: { since?: string; limit: number }): Promise<Delivery[]> {
    const index = table.indexes.byMerchant;
    const pages = await readPartitions(indexKeys.endpointDeliveryPartitions(endpointId), async (partition) => {
      const { Items = [] } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: query.since ? '#pk = :pk AND #sk >= :since' : '#pk = :pk',
          ExpressionAttributeNames: { '#pk': index.partitionKey, ...(query.since ? { '#sk': index.sortKey } : {}) },
          ExpressionAttributeValues: { ':pk': partition, ...(query.since ? { ':since': query.since } : {}) },
          ScanIndexForward: false,
          Limit: query.limit,
        }),
      );
      return Items;
    });
    const newest = bySortKey(pages.flatMap((items) => items ?? []), index.sortKey).reverse().slice(0, query.limit);
    return this.fetchDeliveries(newest);
  }

  /**
   * Oldest first across the endpoint's shards. The position `after` is the sort key of the last
   * delivery of the previous page: entries are ordered by it in every shard, so it resumes all
   * of them at once.
   */
  async pageForEndpoint(endpointId: string, query: { since: string; limit: number; after?: string }): Promise<{ deliveries: Delivery[]; next?: string }> {
    const index = table.indexes.byMerchant;
    // A position is always at or after `since`; a page resumes strictly after it.
    const from = query.after && query.after >= query.since ? { condition: '#sk > :from', value: query.after } : { condition: '#sk >= :from', value: query.since };
    const pages = await readPartitions(indexKeys.endpointDeliveryPartitions(endpointId), async (partition) => {
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: `#pk = :pk AND ${from.condition}`,
          ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
          ExpressionAttributeValues: { ':pk': partition, ':from': from.value },
          Limit: query.limit,
        }),
      );
      return { items: Items, more: LastEvaluatedKey !== undefined };
    });
    const merged = bySortKey(pages.flatMap((page) => page?.items ?? []), index.sortKey);
    const oldest = merged.slice(0, query.limit);
    const more = merged.length > oldest.length || pages.some((page) => page?.more);
    const deliveries = await this.fetchDeliveries(oldest);
    return { deliveries, ...(more && oldest.length > 0 ? { next: String(oldest[oldest.length - 1]![index.sortKey]) } : {}) };
  }

  /**
   * Pending deliveries due before `before`, the oldest first. Every shard of the pending index
   * gives its oldest `limit` keys (side by side, bounded); the oldest `limit` of them all are
   * fetched. The index lags the table and holds keys only: what the fetch returns is checked
   * again, so a delivery finished or rescheduled since the index read is not returned (the
   * sweeper's conditional resend guards the rest).
   */
  async findOverdue(before: string, limit: number): Promise<Delivery[]> {
    const index = table.indexes.byStatus;
    const pages = await readPartitions(indexKeys.pendingDeliveryPartitions(), async (partition) => {
      const { Items = [] } = await queryOpenBefore(this.client, this.tableName, { partition, before, limit });
      return Items;
    });
    const oldest = bySortKey(pages.flatMap((items) => items ?? []), index.sortKey).slice(0, limit);
    const items = await batchGetInOrder(this.client, this.tableName, oldest.map(tableKeyOf), { consistentRead: true });
    return items
      .filter((item, at): item is Item => item !== undefined && item[index.partitionKey] === oldest[at]![index.partitionKey] && String(item[index.sortKey]) < before)
      .map(deliveryFromItem);
  }

  private async fetchDeliveries(indexItems: readonly Item[]): Promise<Delivery[]> {
    const items = await batchGetInOrder(this.client, this.tableName, indexItems.map(tableKeyOf));
    return items.filter((item): item is Item => item !== undefined).map(deliveryFromItem);
  }
}

/** Index entries in ascending order of their sort key. */
function bySortKey(items: Item[], sortKey: string): Item[] {
  return items.sort((a, b) => (String(a[sortKey]) < String(b[sortKey]) ? -1 : String(a[sortKey]) > String(b[sortKey]) ? 1 : 0));
}
