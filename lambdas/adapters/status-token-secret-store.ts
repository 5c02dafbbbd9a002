import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { STATUS_TOKEN_SECRET_BYTES } from '../core/requests/status-token';
import { keys } from './dynamo/keys';

/**
 * The secret behind every status token, kept as one item of the secrets table (beside the
 * webhook signing secrets): whoever reads it can mint a status link to any request, so IAM lets
 * only the submit function (which makes it) and the status page read it, by its key alone. It is
 * made once, on the first submit, by a conditional write that two concurrent first submits
 * cannot both win. Each container reads it once and keeps it.
 */
export class DynamoStatusTokenSecretStore {
  private cached?: Promise<Buffer | undefined>;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    /** The secrets table. */
    private readonly tableName: string,
  ) {}

  /** The secret, created if this table has none yet (submit). */
  async getOrCreate(): Promise<Buffer> {
    const existing = await this.get();
    if (existing) return existing;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.statusTokenSecret(), secret: randomBytes(STATUS_TOKEN_SECRET_BYTES).toString('base64') },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    this.cached = undefined;
    const made = await this.get();
    if (!made) throw new Error('The status token secret could not be read back after creating it');
    return made;
  }

  /** The secret, or undefined while no token was ever issued (status page: every token is then unknown). */
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
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.statusTokenSecret(), ConsistentRead: true }));
    return typeof Item?.secret === 'string' ? Buffer.from(Item.secret, 'base64') : undefined;
  }
}
