import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MerchantQuotas } from '../core/merchants/merchant-quotas';
import { keys } from './dynamo/keys';

/** An SMS day's counter outlives its day by one, then TTL removes it. */
const SMS_COUNTER_DAYS = 2;

/**
 * The quotas in the single table, each one conditional UpdateItem. In-flight requests are a
 * string set of request ids under the merchant: adding an id already there, or removing one
 * already gone, changes nothing, so a redelivered finish never releases twice. The item grows
 * with the count (about 31 bytes an id), and an update is billed by the item's size: at the
 * default limit of 100 an admit or release costs up to 4 write units. The SMS count of a day is a
 * number, one write unit per reservation.
 */
export class DynamoMerchantQuotas implements MerchantQuotas {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async admitInFlight(merchantId: string, requestId: string, limit: number): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.requestsInFlight(merchantId),
        UpdateExpression: 'ADD requestIds :ids',
        ConditionExpression: 'attribute_not_exists(requestIds) OR size(requestIds) < :limit OR contains(requestIds, :id)',
        ExpressionAttributeValues: { ':ids': new Set([requestId]), ':limit': limit, ':id': requestId },
      }),
    );
  }

  async releaseInFlight(merchantId: string, requestId: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.requestsInFlight(merchantId),
        UpdateExpression: 'DELETE requestIds :ids',
        ExpressionAttributeValues: { ':ids': new Set([requestId]) },
      }),
    );
  }

  async reserveSms(merchantId: string, day: string, limit: number, now: Date): Promise<boolean> {
    return this.conditionally(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.smsOfDay(merchantId, day),
        UpdateExpression: 'ADD sent :one SET expiresAt = if_not_exists(expiresAt, :expires)',
        ConditionExpression: 'attribute_not_exists(sent) OR sent < :limit',
        ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':expires': Math.floor(now.getTime() / 1000) + SMS_COUNTER_DAYS * 86_400 },
      }),
    );
  }

  async returnSms(merchantId: string, day: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.smsOfDay(merchantId, day),
        UpdateExpression: 'ADD sent :minusOne',
        ConditionExpression: 'sent > :zero',
        ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
      }),
    ).catch((error: unknown) => {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    });
  }

  private async conditionally(command: UpdateCommand): Promise<boolean> {
    try {
      await this.client.send(command);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
