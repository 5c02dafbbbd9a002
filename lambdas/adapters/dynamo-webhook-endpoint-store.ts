import {
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { CreateEndpointOutcome, WebhookEndpointStore } from '../core/webhooks/ports';
import type { EndpointSettings, WebhookEndpoint } from '../core/webhooks/endpoint';
import { unlessConditionFails, unlessTransactionCancelled } from './dynamo/conditions';
import { endpointFromItem, endpointSecretsToItem, endpointToItem, endpointWithSecrets, keys } from './dynamo/keys';
import { queryKeyRange } from './dynamo/key-range-query';

interface CacheEntry<T> {
  readonly expires: number;
  readonly value: T;
}

/**
 * Webhook endpoints under their merchant's partition, their signing secrets in the secrets table
 * (`secretsTableName`, given only to the functions granted it: listings and status changes work
 * without it). Reads for deliveries go through a short
 * per-container cache (the endpoint read is the one call of the delivery budget that repeats for
 * every event); every write through this process drops the cached copies.
 */
export class DynamoWebhookEndpointStore implements WebhookEndpointStore {
  private static readonly cache = new Map<string, CacheEntry<unknown>>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cacheSeconds: number,
    private readonly secretsTableName?: string,
  ) {}

  async create(endpoint: WebhookEndpoint, maxPerMerchant: number): Promise<CreateEndpointOutcome> {
    const outcome = await unlessTransactionCancelled(
      async (): Promise<CreateEndpointOutcome> => {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.tableName,
                  Key: keys.endpointCounter(endpoint.merchantId),
                  UpdateExpression: 'ADD endpoints :one',
                  ConditionExpression: 'attribute_not_exists(endpoints) OR endpoints < :max',
                  ExpressionAttributeValues: { ':one': 1, ':max': maxPerMerchant },
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: endpointToItem(endpoint),
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              { Put: { TableName: this.secrets(), Item: endpointSecretsToItem(endpoint) } },
            ],
          }),
        );
        return 'created';
      },
      ([counter], error): CreateEndpointOutcome => {
        if (counter?.conditionFailed) return 'limit-reached';
        throw error;
      },
    );
    if (outcome === 'created') this.forget(endpoint.merchantId, endpoint.id);
    return outcome;
  }

  async get(merchantId: string, id: string): Promise<WebhookEndpoint | undefined> {
    const [{ Item }, { Item: secrets }] = await Promise.all([
      this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.endpoint(merchantId, id), ConsistentRead: true })),
      this.client.send(new GetCommand({ TableName: this.secrets(), Key: keys.endpointSecrets(merchantId, id), ConsistentRead: true })),
    ]);
    if (!Item) return undefined;
    // An endpoint stored before the secrets moved still carries them; its next change moves them.
    return endpointWithSecrets(endpointFromItem(Item), secrets ?? Item);
  }

  async list(merchantId: string): Promise<EndpointSettings[]> {
    const items = await queryKeyRange(this.client, this.tableName, keys.merchantEndpoints(merchantId), { consistentRead: true });
    return items.map(endpointFromItem).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  getCached(merchantId: string, id: string): Promise<WebhookEndpoint | undefined> {
    return this.cached(`${merchantId}#${id}`, () => this.get(merchantId, id));
  }

  listCached(merchantId: string): Promise<EndpointSettings[]> {
    return this.cached(`${merchantId}#*`, () => this.list(merchantId));
  }

  async replace(endpoint: WebhookEndpoint, expectedVersion: number): Promise<WebhookEndpoint | undefined> {
    try {
      return await unlessTransactionCancelled(
        async () => {
          await this.client.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Put: {
                    TableName: this.tableName,
                    Item: endpointToItem(endpoint),
                    ConditionExpression: 'version = :expected',
                    ExpressionAttributeValues: { ':expected': expectedVersion },
                  },
                },
                { Put: { TableName: this.secrets(), Item: endpointSecretsToItem(endpoint) } },
              ],
            }),
          );
          return endpoint;
        },
        ([endpointReason], error) => {
          if (endpointReason?.conditionFailed) return undefined;
          throw error;
        },
      );
    } finally {
      this.forget(endpoint.merchantId, endpoint.id);
    }
  }

  async delete(merchantId: string, id: string): Promise<boolean> {
    try {
      return await unlessTransactionCancelled(
        async () => {
          await this.client.send(
            new TransactWriteCommand({
              TransactItems: [
                { Delete: { TableName: this.tableName, Key: keys.endpoint(merchantId, id), ConditionExpression: 'attribute_exists(pk)' } },
                {
                  Update: {
                    TableName: this.tableName,
                    Key: keys.endpointCounter(merchantId),
                    UpdateExpression: 'ADD endpoints :minusOne',
                    ExpressionAttributeValues: { ':minusOne': -1 },
                  },
                },
                { Delete: { TableName: this.secrets(), Key: keys.endpointSecrets(merchantId, id) } },
              ],
            }),
          );
          return true;
        },
        ([endpointReason], error) => {
          if (endpointReason?.conditionFailed) return false;
          throw error;
        },
      );
    } finally {
      this.forget(merchantId, id);
    }
  }

  async disable(merchantId: string, id: string, reason: string, at: string): Promise<EndpointSettings | undefined> {
    return this.update(
      merchantId,
      id,
      'SET #status = :disabled, disabledReason = :reason, disabledAt = :at, updatedAt = :at, version = version + :one',
      '#status = :enabled',
      { ':disabled': 'disabled', ':enabled': 'enabled', ':reason': reason, ':at': at, ':one': 1 },
    );
  }

  async markFailing(merchantId: string, id: string, at: string): Promise<EndpointSettings | undefined> {
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
  ): Promise<EndpointSettings | undefined> {
    try {
      return await unlessConditionFails(
        async () => {
          const { Attributes } = await this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: keys.endpoint(merchantId, id),
              UpdateExpression: expression,
              ConditionExpression: condition,
              ...(expression.includes('#status') || condition.includes('#status') ? { ExpressionAttributeNames: { '#status': 'status' } } : {}),
              ExpressionAttributeValues: values,
              ReturnValues: 'ALL_NEW',
            }),
          );
          return Attributes ? endpointFromItem(Attributes) : undefined;
        },
        () => undefined,
      );
    } finally {
      this.forget(merchantId, id);
    }
  }

  private secrets(): string {
    if (!this.secretsTableName) throw new Error('This function is not granted the webhook signing secrets table');
    return this.secretsTableName;
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
