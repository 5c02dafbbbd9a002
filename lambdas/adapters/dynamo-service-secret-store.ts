import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { DELIVERY_MESSAGE_KEY_BYTES } from '../core/delivery-message-seal';
import { STATUS_TOKEN_SECRET_BYTES } from '../core/status-token';
import { keys, type Key } from './dynamo/keys';

/**
 * A secret of Herald's own (not a merchant's), kept as one item of the secrets table beside the
 * webhook signing secrets and granted by its key alone (IAM `dynamodb:LeadingKeys`). It is made on
 * first use by a conditional write that two concurrent first users cannot both win, so every
 * function agrees on it; each container reads it once and keeps it.
 */
export class DynamoServiceSecretStore {
  private cached?: Promise<Buffer | undefined>;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    /** The secrets table. */
    private readonly tableName: string,
    private readonly key: Key,
    private readonly bytes: number,
  ) {}

  /** The secret, created if this table has none yet. */
  async getOrCreate(): Promise<Buffer> {
    const existing = await this.get();
    if (existing) return existing;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key, secret: randomBytes(this.bytes).toString('base64') },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    this.cached = undefined;
    const made = await this.get();
    if (!made) throw new Error(`The secret ${this.key.pk} could not be read back after creating it`);
    return made;
  }

  /** The secret, or undefined while nobody has made it yet (nothing made with it can exist then). */
  get(): Promise<Buffer | undefined> {
    this.cached ??= this.read().then(
      (secret) => {
        if (!secret) this.cached = undefined;
        return secret;
      },
      (error: unknown) => {
        this.cached = undefined;
        throw error;
      },
    );
    return this.cached;
  }

  private async read(): Promise<Buffer | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: this.key, ConsistentRead: true }));
    return typeof Item?.secret === 'string' ? Buffer.from(Item.secret, 'base64') : undefined;
  }
}

/**
 * The secret behind every status token: whoever reads it can mint a status link to any request,
 * so IAM lets only the submit function (which makes it) and the status page read it.
 */
export const statusTokenSecretIn = (client: DynamoDBDocumentClient, secretsTableName: string) =>
  new DynamoServiceSecretStore(client, secretsTableName, keys.statusTokenSecret(), STATUS_TOKEN_SECRET_BYTES);

/**
 * The key that seals delivery messages (lambdas/core/delivery-message-seal.ts): read by every
 * function that sends to or consumes the deliveries queue, made by the first that sends.
 */
export const deliveryMessageKeyIn = (client: DynamoDBDocumentClient, secretsTableName: string) =>
  new DynamoServiceSecretStore(client, secretsTableName, keys.deliveryMessageKey(), DELIVERY_MESSAGE_KEY_BYTES);
