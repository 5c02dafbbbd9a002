import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RedriveLog } from '../core/requests/redrive';
import { keys, redriveGenerationFromItem } from './dynamo/keys';

/** The redrive generation of each queue: one small item per queue, bumped atomically by `begin`. */
export class DynamoRedriveLog implements RedriveLog {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async generation(queue: string): Promise<number> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.redrive(queue), ConsistentRead: true }),
    );
    return redriveGenerationFromItem(Item);
  }

  async begin(queue: string, now = new Date()): Promise<number> {
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.redrive(queue),
        UpdateExpression: 'ADD generation :one SET startedAt = :at',
        ExpressionAttributeValues: { ':one': 1, ':at': now.toISOString() },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Attributes!.generation as number;
  }
}
