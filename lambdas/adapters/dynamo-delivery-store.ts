import {
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { table } from '../../lib/topology';
import type { AttemptRecord, DeliveryStore } from '../core/webhook-ports';
import { parseDeliveryId, type Delivery } from '../core/webhooks';
import { unlessConditionFails } from './dynamo/conditions';
import { deliveryFromItem, deliveryToItem, indexKeys, keys } from './dynamo/keys';

/**
 * Deliveries next to the request they announce, so a request's deliveries are one query. The
 * index on (merchant, createdAt) doubles as the endpoint's delivery log, and the status index
 * holds pending deliveries by due time (`keys.delivery`, `indexKeys` in `dynamo/keys.ts`).
 */
export class DynamoDeliveryStore implements DeliveryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createIfAbsent(delivery: Delivery): Promise<boolean> {
    return unlessConditionFails(
      async () => {
        await this.client.send(
          new PutCommand({ TableName: this.tableName, Item: deliveryToItem(delivery), ConditionExpression: 'attribute_not_exists(pk)' }),
        );
        return true;
      },
      () => false,
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

  async listForEndpoint(endpointId: string, query: { since?: string; limit: number }): Promise<Delivery[]> {
    const index = table.indexes.byMerchant;
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: query.since ? '#pk = :pk AND #sk >= :since' : '#pk = :pk',
        ExpressionAttributeNames: { '#pk': index.partitionKey, ...(query.since ? { '#sk': index.sortKey } : {}) },
        ExpressionAttributeValues: { ':pk': indexKeys.endpointDeliveries(endpointId), ...(query.since ? { ':since': query.since } : {}) },
        ScanIndexForward: false,
        Limit: query.limit,
      }),
    );
    return Items.map(deliveryFromItem);
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
      sets.push('nextAttemptAt = :next');
      values[':next'] = record.nextAttemptAt;
      for (const [attribute, value] of Object.entries(indexKeys.pendingDelivery(id, record.nextAttemptAt))) {
        sets.push(`${attribute} = :${attribute}`);
        values[`:${attribute}`] = value;
      }
    } else if (record.state !== 'pending') {
      // A finished delivery leaves the sweeper's index.
      removes.push('nextAttemptAt', ...indexKeys.statusAttributes);
    }
    return unlessConditionFails(
      async () => {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.delivery(parts.subjectId, parts.endpointId, parts.eventType),
            UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
            ConditionExpression: '#state = :pending AND round = :round',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: values,
          }),
        );
        return true;
      },
      () => false,
    );
  }

  async resend(id: string, at: string, expected?: { round: number; nextAttemptAt?: string }): Promise<Delivery | undefined> {
    const parts = parseDeliveryId(id);
    if (!parts) return undefined;
    return unlessConditionFails(
      async () => {
        const { Attributes } = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.delivery(parts.subjectId, parts.endpointId, parts.eventType),
            UpdateExpression:
              'SET #state = :pending, round = round + :one, nextAttemptAt = :at, updatedAt = :at, gsi2pk = :gsi2pk, gsi2sk = :gsi2sk REMOVE reason',
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
              ...Object.fromEntries(Object.entries(indexKeys.pendingDelivery(id, at)).map(([attribute, value]) => [`:${attribute}`, value])),
              ...(expected === undefined ? {} : { ':expected': expected.round }),
              ...(expected?.nextAttemptAt ? { ':seen': expected.nextAttemptAt } : {}),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return Attributes ? deliveryFromItem(Attributes) : undefined;
      },
      () => undefined,
    );
  }

  async findOverdue(before: string, limit: number): Promise<Delivery[]> {
    const index = table.indexes.byStatus;
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk AND #sk < :before',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: { ':pk': indexKeys.pendingDeliveries, ':before': before },
        Limit: limit,
      }),
    );
    return Items.map(deliveryFromItem);
  }
}
