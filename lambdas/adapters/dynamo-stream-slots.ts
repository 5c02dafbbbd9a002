import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { StreamSlots } from '../core/requests/request-events';
import { keys } from './dynamo/keys';

/**
 * A merchant's event stream slots in the single table: `limit` items under the merchant, each
 * taken by one conditional PutItem that wins only when the slot is free or its lease has ended,
 * and given back by a DeleteItem conditioned on the holder. A stream whose function was cut off
 * frees its slot when the lease ends; TTL removes the item later. Taking a slot costs one write
 * when the first slot tried is free and at most `limit` when the merchant is at its limit.
 */
export class DynamoStreamSlots implements StreamSlots {
  /** The slot each stream of this container holds, so that giving it back is one call. */
  private readonly held = new Map<string, number>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(merchantId: string, streamId: string, until: Date): Promise<boolean> {
    // Starting at a slot of the stream's own spreads concurrent opens over the slots.
    const first = [...streamId].reduce((sum, c) => sum + c.charCodeAt(0), 0) % this.limit;
    for (let i = 0; i < this.limit; i++) {
      const slot = (first + i) % this.limit;
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...keys.eventStreamSlot(merchantId, slot),
              streamId,
              leaseEndsAt: until.getTime(),
              expiresAt: Math.ceil(until.getTime() / 1000) + 3600,
            },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseEndsAt < :now',
            ExpressionAttributeValues: { ':now': this.now() },
          }),
        );
        this.held.set(`${merchantId}/${streamId}`, slot);
        return true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return false;
  }

  async release(merchantId: string, streamId: string): Promise<void> {
    const slot = this.held.get(`${merchantId}/${streamId}`);
    if (slot === undefined) return;
    this.held.delete(`${merchantId}/${streamId}`);
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.eventStreamSlot(merchantId, slot),
          ConditionExpression: 'streamId = :streamId',
          ExpressionAttributeValues: { ':streamId': streamId },
        }),
      );
    } catch (error) {
      // The lease ended and another stream took the slot: it is that stream's now.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
