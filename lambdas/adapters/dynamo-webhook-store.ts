import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { table } from '../../lib/topology';
import type { AttemptRecord, CreateEndpointOutcome, DeliveryStore, WebhookEndpointStore } from '../core/webhook-ports';
import { parseDeliveryId, TEST_EVENT_TYPE, type Delivery, type WebhookEndpoint, type WebhookEventType } from '../core/webhooks';

const endpointKey = (merchantId: string, id: string) => ({ pk: `MER#${merchantId}`, sk: `WH#${id}` });
// One counter per merchant makes the endpoint limit a condition instead of a read-then-write.
const endpointCounterKey = (merchantId: string) => ({ pk: `MER#${merchantId}`, sk: 'WHCOUNT' });

const subjectPartition = (subjectId: string, eventType: WebhookEventType) =>
  eventType === TEST_EVENT_TYPE ? `EVT#${subjectId}` : `REQ#${subjectId}`;
const deliveryKey = (subjectId: string, endpointId: string, eventType: WebhookEventType) => ({
  pk: subjectPartition(subjectId, eventType),
  sk: `DLV#${endpointId}#${eventType}`,
});
/** Pending deliveries share one sparse index partition, sorted by when their next attempt is due. */
const PENDING_PARTITION = 'DLV#pending';
const byEndpoint = (endpointId: string) => `WH#${endpointId}`;

const INTERNAL = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'];

function strip<T>(item: Record<string, unknown>): T {
  const copy = { ...item };
  for (const attribute of INTERNAL) delete copy[attribute];
  return copy as T;
}

interface CacheEntry<T> {
  readonly expires: number;
  readonly value: T;
}

/**
 * Webhook endpoints under their merchant's partition. Reads for deliveries go through a short
 * per-container cache (the endpoint read is the one call of the delivery budget that repeats for
 * every event); every write through this process drops the cached copies.
 */
export class DynamoWebhookEndpointStore implements WebhookEndpointStore {
  private static readonly cache = new Map<string, CacheEntry<unknown>>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cacheSeconds: number,
  ) {}

  async create(endpoint: WebhookEndpoint, maxPerMerchant: number): Promise<CreateEndpointOutcome> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: endpointCounterKey(endpoint.merchantId),
                UpdateExpression: 'ADD endpoints :one',
                ConditionExpression: 'attribute_not_exists(endpoints) OR endpoints < :max',
                ExpressionAttributeValues: { ':one': 1, ':max': maxPerMerchant },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...endpointKey(endpoint.merchantId, endpoint.id), ...endpoint },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
      this.forget(endpoint.merchantId, endpoint.id);
      return 'created';
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
        return 'limit-reached';
      }
      throw error;
    }
  }

  async get(merchantId: string, id: string): Promise<WebhookEndpoint | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: endpointKey(merchantId, id), ConsistentRead: true }),
    );
    return Item ? strip<WebhookEndpoint>(Item) : undefined;
  }

  async list(merchantId: string): Promise<WebhookEndpoint[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': `MER#${merchantId}`, ':prefix': 'WH#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items.map((item) => strip<WebhookEndpoint>(item)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  getCached(merchantId: string, id: string): Promise<WebhookEndpoint | undefined> {
    return this.cached(`${merchantId}#${id}`, () => this.get(merchantId, id));
  }

  listCached(merchantId: string): Promise<WebhookEndpoint[]> {
    return this.cached(`${merchantId}#*`, () => this.list(merchantId));
  }

  async replace(endpoint: WebhookEndpoint, expectedVersion: number): Promise<WebhookEndpoint | undefined> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...endpointKey(endpoint.merchantId, endpoint.id), ...endpoint },
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
      return endpoint;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    } finally {
      this.forget(endpoint.merchantId, endpoint.id);
    }
  }

  async delete(merchantId: string, id: string): Promise<boolean> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            { Delete: { TableName: this.tableName, Key: endpointKey(merchantId, id), ConditionExpression: 'attribute_exists(pk)' } },
            {
              Update: {
                TableName: this.tableName,
                Key: endpointCounterKey(merchantId),
                UpdateExpression: 'ADD endpoints :minusOne',
                ExpressionAttributeValues: { ':minusOne': -1 },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof TransactionCanceledException && error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
      throw error;
    } finally {
      this.forget(merchantId, id);
    }
  }

  async disable(merchantId: string, id: string, reason: string, at: string): Promise<WebhookEndpoint | undefined> {
    return this.update(
      merchantId,
      id,
      'SET #status = :disabled, disabledReason = :reason, disabledAt = :at, updatedAt = :at, version = version + :one',
      '#status = :enabled',
      { ':disabled': 'disabled', ':enabled': 'enabled', ':reason': reason, ':at': at, ':one': 1 },
    );
  }

  async markFailing(merchantId: string, id: string, at: string): Promise<WebhookEndpoint | undefined> {
    return this.update(merchantId, id, 'SET failingSince = if_not_exists(failingSince, :at)', 'attribute_exists(pk)', { ':at': at });
  }

  async markSucceeded(merchantId: string, id: string, at: string): Promise<void> {
    await this.update(merchantId, id, 'SET lastSuccessAt = :at REMOVE failingSince', 'attribute_exists(pk)', { ':at': at });
  }

  private async update(
    merchantId: string,
    id: string,
    expression: string,
    condition: string,
    values: Record<string, unknown>,
  ): Promise<WebhookEndpoint | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: endpointKey(merchantId, id),
          UpdateExpression: expression,
          ConditionExpression: condition,
          ...(expression.includes('#status') || condition.includes('#status') ? { ExpressionAttributeNames: { '#status': 'status' } } : {}),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? strip<WebhookEndpoint>(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    } finally {
      this.forget(merchantId, id);
    }
  }

  private async cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const cache = DynamoWebhookEndpointStore.cache;
    const hit = cache.get(key);
    if (hit && hit.expires > Date.now()) return hit.value as T;
    const value = await load();
    if (this.cacheSeconds > 0) cache.set(key, { expires: Date.now() + this.cacheSeconds * 1000, value });
    return value;
  }

  private forget(merchantId: string, id: string): void {
    DynamoWebhookEndpointStore.cache.delete(`${merchantId}#${id}`);
    DynamoWebhookEndpointStore.cache.delete(`${merchantId}#*`);
  }
}

/**
 * Deliveries next to the request they announce (`REQ#<id>`, `DLV#<endpoint>#<type>`), so a
 * request's deliveries are one query. The index on (merchant, createdAt) doubles as the endpoint's
 * delivery log (`WH#<endpoint>`), and the status index holds pending deliveries by due time.
 */
export class DynamoDeliveryStore implements DeliveryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createIfAbsent(delivery: Delivery): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...deliveryKey(delivery.subjectId, delivery.endpointId, delivery.eventType),
            ...delivery,
            gsi1pk: byEndpoint(delivery.endpointId),
            gsi1sk: `${delivery.createdAt}#${delivery.id}`,
            gsi2pk: PENDING_PARTITION,
            gsi2sk: `${delivery.nextAttemptAt ?? delivery.createdAt}#${delivery.id}`,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async get(id: string): Promise<Delivery | undefined> {
    const parts = parseDeliveryId(id);
    if (!parts) return undefined;
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: deliveryKey(parts.subjectId, parts.endpointId, parts.eventType),
        ConsistentRead: true,
      }),
    );
    return Item ? strip<Delivery>(Item) : undefined;
  }

  async listForSubject(subjectId: string): Promise<Delivery[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `REQ#${subjectId}`, ':prefix': 'DLV#' },
        ConsistentRead: true,
      }),
    );
    return Items.map((item) => strip<Delivery>(item));
  }

  async listForEndpoint(endpointId: string, query: { since?: string; limit: number }): Promise<Delivery[]> {
    const index = table.indexes.byMerchant;
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: query.since ? '#pk = :pk AND #sk >= :since' : '#pk = :pk',
        ExpressionAttributeNames: { '#pk': index.partitionKey, ...(query.since ? { '#sk': index.sortKey } : {}) },
        ExpressionAttributeValues: { ':pk': byEndpoint(endpointId), ...(query.since ? { ':since': query.since } : {}) },
        ScanIndexForward: false,
        Limit: query.limit,
      }),
    );
    return Items.map((item) => strip<Delivery>(item));
  }

  async record(id: string, round: number, record: AttemptRecord, at: string): Promise<boolean> {
    const parts = parseDeliveryId(id);
    if (!parts) return false;
    const sets = ['#state = :state', 'updatedAt = :at'];
    const removes: string[] = [];
    const values: Record<string, unknown> = { ':state': record.state, ':at': at, ':round': round, ':pending': 'pending' };
    if (record.attempt) {
      sets.push('attempts = list_append(attempts, :attempt)');
      values[':attempt'] = [record.attempt];
    }
    if (record.reason) {
      sets.push('reason = :reason');
      values[':reason'] = record.reason;
    } else {
      removes.push('reason');
    }
    if (record.state === 'pending' && record.nextAttemptAt) {
      sets.push('nextAttemptAt = :next', 'gsi2pk = :partition', 'gsi2sk = :due');
      values[':next'] = record.nextAttemptAt;
      values[':partition'] = PENDING_PARTITION;
      values[':due'] = `${record.nextAttemptAt}#${id}`;
    } else if (record.state !== 'pending') {
      // A finished delivery leaves the sweeper's index.
      removes.push('nextAttemptAt', 'gsi2pk', 'gsi2sk');
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deliveryKey(parts.subjectId, parts.endpointId, parts.eventType),
          UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: '#state = :pending AND round = :round',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async resend(id: string, at: string, expected?: { round: number; nextAttemptAt?: string }): Promise<Delivery | undefined> {
    const parts = parseDeliveryId(id);
    if (!parts) return undefined;
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: deliveryKey(parts.subjectId, parts.endpointId, parts.eventType),
          UpdateExpression:
            'SET #state = :pending, round = round + :one, nextAttemptAt = :at, updatedAt = :at, gsi2pk = :partition, gsi2sk = :due REMOVE reason',
          // The sweeper's resend holds only if nothing happened since it looked (no attempt, no newer round).
          ConditionExpression:
            expected === undefined
              ? 'attribute_exists(pk)'
              : `round = :expected AND #state = :pending AND ${expected.nextAttemptAt ? 'nextAttemptAt = :seen' : 'attribute_not_exists(nextAttemptAt)'}`,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':pending': 'pending',
            ':one': 1,
            ':at': at,
            ':partition': PENDING_PARTITION,
            ':due': `${at}#${id}`,
            ...(expected === undefined ? {} : { ':expected': expected.round }),
            ...(expected?.nextAttemptAt ? { ':seen': expected.nextAttemptAt } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? strip<Delivery>(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async findOverdue(before: string, limit: number): Promise<Delivery[]> {
    const index = table.indexes.byStatus;
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk AND #sk < :before',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: { ':pk': PENDING_PARTITION, ':before': before },
        Limit: limit,
      }),
    );
    return Items.map((item) => strip<Delivery>(item));
  }
}
