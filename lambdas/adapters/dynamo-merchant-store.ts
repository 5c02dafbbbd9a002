import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { generateApiKey, hashApiKey } from '../core/merchants/api-keys';
import type { ApiKeyRecord, Merchant } from '../core/merchants/merchant';
import { NotFoundError } from '../core/shared/errors';
import { ulid } from 'ulid';
import { unlessConditionFails } from './dynamo/conditions';
import { apiKeyFromItem, apiKeyToItems, keys, merchantFromItem, merchantIdOfKey, merchantToItem } from './dynamo/keys';
import { queryKeyRange } from './dynamo/key-range-query';

/** Merchants and their API keys. Keys are stored only as SHA-256 digests. */
export class DynamoMerchantStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createMerchant(input: { name: string; email?: string; id?: string }): Promise<Merchant> {
    const merchant: Merchant = {
      id: input.id ?? `mer_${ulid().toLowerCase()}`,
      name: input.name,
      ...(input.email ? { email: input.email } : {}),
      createdAt: new Date().toISOString(),
    };
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: merchantToItem(merchant),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return merchant;
  }

  /**
   * The ids of up to `limit` merchants, by scanning the whole table (at most `maxPages` pages of
   * 1 MB): fine on the local runtime's small table, which is the only place `herald tail` uses
   * it; a deployed table is never scanned.
   */
  async scanMerchantIds(limit: number, maxPages = 20): Promise<string[]> {
    const ids: string[] = [];
    let startKey: Record<string, unknown> | undefined;
    for (let page = 0; page < maxPages && ids.length < limit; page++) {
      const { Items = [], LastEvaluatedKey } = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'sk = :merchant',
          ProjectionExpression: 'pk, sk',
          ExpressionAttributeValues: { ':merchant': keys.merchant('').sk },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of Items) ids.push(merchantIdOfKey(item.pk as string));
      startKey = LastEvaluatedKey;
      if (!startKey) break;
    }
    return ids.slice(0, limit);
  }

  async getMerchant(id: string): Promise<Merchant | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.merchant(id) }));
    return Item ? merchantFromItem(Item) : undefined;
  }

  /**
   * Issues an API key for a merchant and returns it: the only moment the key exists outside
   * the client. `presetKey` lets the local runtime install a key chosen by the operator.
   */
  async createApiKey(merchantId: string, presetKey?: string): Promise<{ key: string; record: ApiKeyRecord }> {
    if (!(await this.getMerchant(merchantId))) throw new NotFoundError(`Merchant ${merchantId} does not exist`);
    const key = presetKey ?? generateApiKey();
    const record: ApiKeyRecord = {
      keyHash: hashApiKey(key),
      keyId: `key_${ulid().toLowerCase()}`,
      merchantId,
      hint: key.slice(0, 9),
      createdAt: new Date().toISOString(),
    };
    for (const item of apiKeyToItems(record)) await this.client.send(new PutCommand({ TableName: this.tableName, Item: item }));
    return { key, record };
  }

  /** The key record for a presented key, if it exists and is not revoked. */
  async findActiveApiKey(key: string): Promise<ApiKeyRecord | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.apiKey(hashApiKey(key)) }));
    if (!Item || Item.revokedAt) return undefined;
    return apiKeyFromItem(Item);
  }

  async listApiKeys(merchantId: string): Promise<ApiKeyRecord[]> {
    const items = await queryKeyRange(this.client, this.tableName, keys.merchantApiKeys(merchantId));
    return items.map(apiKeyFromItem);
  }

  async revokeApiKey(merchantId: string, keyId: string): Promise<ApiKeyRecord> {
    const records = await this.listApiKeys(merchantId);
    const record = records.find((k) => k.keyId === keyId);
    if (!record) throw new NotFoundError(`Merchant ${merchantId} has no API key ${keyId}`);
    const revokedAt = new Date().toISOString();
    for (const key of [keys.apiKey(record.keyHash), keys.merchantApiKey(merchantId, keyId)]) {
      await unlessConditionFails(
        () =>
          this.client.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: key,
              UpdateExpression: 'SET revokedAt = if_not_exists(revokedAt, :at)',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':at': revokedAt },
            }),
          ),
        () => undefined,
      );
    }
    return { ...record, revokedAt };
  }
}
