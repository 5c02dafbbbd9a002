import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CallbackSecretStore, CreateCallbackSecretOutcome } from '../core/webhooks/callback-secret';
import type { CallbackSecrets } from '../core/webhooks/callbacks';
import { unlessTransactionCancelled } from './dynamo/conditions';
import { keys, type Item } from './dynamo/keys';

interface CacheEntry {
  readonly expires: number;
  readonly value: CallbackSecrets | undefined;
}

/**
 * A merchant's callback signing secrets, one item in the secrets table (readable only by the
 * functions granted it, like the endpoints' secrets), and beside the merchant in the table a
 * marker without the secret that says one exists: submit reads the marker to refuse a callback
 * that could not be signed, and never holds the secrets table. Both are written in one
 * transaction whose condition sits on the secret's item (its absence, or its version).
 */
export class DynamoCallbackSecretStore implements CallbackSecretStore {
  private static readonly cache = new Map<string, CacheEntry>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cacheSeconds: number,
    private readonly secretsTableName?: string,
  ) {}

  async get(merchantId: string): Promise<CallbackSecrets | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.secrets(), Key: keys.callbackSecrets(merchantId), ConsistentRead: true }));
    return Item ? secretsFromItem(Item) : undefined;
  }

  async getCached(merchantId: string): Promise<CallbackSecrets | undefined> {
    const cache = DynamoCallbackSecretStore.cache;
    const hit = cache.get(merchantId);
    if (hit && hit.expires > Date.now()) return hit.value;
    const value = await this.get(merchantId);
    if (this.cacheSeconds > 0) cache.set(merchantId, { expires: Date.now() + this.cacheSeconds * 1000, value });
    return value;
  }

  async exists(merchantId: string): Promise<boolean> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.callbackSecretMarker(merchantId), ConsistentRead: true, ProjectionExpression: 'pk' }),
    );
    return Item !== undefined;
  }

  async create(secrets: CallbackSecrets): Promise<CreateCallbackSecretOutcome> {
    const outcome = await this.write(secrets, { ConditionExpression: 'attribute_not_exists(pk)' });
    return outcome ? 'created' : 'exists';
  }

  replace(secrets: CallbackSecrets, expectedVersion: number): Promise<boolean> {
    return this.write(secrets, { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': expectedVersion } });
  }

  private async write(secrets: CallbackSecrets, condition: { ConditionExpression: string; ExpressionAttributeValues?: Record<string, unknown> }): Promise<boolean> {
    try {
      return await unlessTransactionCancelled(
        async () => {
          await this.client.send(
            new TransactWriteCommand({
              TransactItems: [
                { Put: { TableName: this.secrets(), Item: secretsToItem(secrets), ...condition } },
                {
                  Put: {
                    TableName: this.tableName,
                    Item: { ...keys.callbackSecretMarker(secrets.merchantId), createdAt: secrets.createdAt, updatedAt: secrets.updatedAt },
                  },
                },
              ],
            }),
          );
          return true;
        },
        ([secretReason], error) => {
          if (secretReason?.conditionFailed) return false;
          throw error;
        },
      );
    } finally {
      DynamoCallbackSecretStore.cache.delete(secrets.merchantId);
    }
  }

  private secrets(): string {
    if (!this.secretsTableName) throw new Error('This function is not granted the webhook signing secrets table');
    return this.secretsTableName;
  }
}

function secretsToItem(secrets: CallbackSecrets): Item {
  return { ...keys.callbackSecrets(secrets.merchantId), ...secrets };
}

function secretsFromItem(item: Item): CallbackSecrets {
  return {
    merchantId: item.merchantId,
    secret: item.secret,
    ...(item.previousSecret ? { previousSecret: item.previousSecret } : {}),
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}
