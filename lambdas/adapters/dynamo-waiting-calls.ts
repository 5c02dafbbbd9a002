import { ConditionalCheckFailedException, ReturnValuesOnConditionCheckFailure } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { expiredWaitingCalls, waitingCallMember, type WaitingCalls } from '../core/requests/waiting-calls';
import { keys } from './dynamo/keys';

/**
 * A merchant's waiting calls as one string set in the single table, one conditional UpdateItem to
 * enter and one to leave (each a write unit: the set holds at most the limit, about 45 bytes a
 * member). A call whose function died before leaving stays in the set until its expiry; the
 * first call refused while such members exist removes them (the failed condition returns the
 * set, so finding them costs no read) and tries once more.
 */
export class DynamoWaitingCalls implements WaitingCalls {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async enter(merchantId: string, callId: string, untilMs: number, limit: number, nowMs: number): Promise<boolean> {
    const stale = await this.tryEnter(merchantId, waitingCallMember(callId, untilMs), limit);
    if (stale === true) return true;
    const expired = expiredWaitingCalls(stale, nowMs);
    if (expired.length === 0) return false;
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.waitingCalls(merchantId),
        UpdateExpression: 'DELETE calls :expired',
        ExpressionAttributeValues: { ':expired': new Set(expired) },
      }),
    );
    return (await this.tryEnter(merchantId, waitingCallMember(callId, untilMs), limit)) === true;
  }

  async leave(merchantId: string, callId: string, untilMs: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.waitingCalls(merchantId),
        UpdateExpression: 'DELETE calls :member',
        ExpressionAttributeValues: { ':member': new Set([waitingCallMember(callId, untilMs)]) },
      }),
    );
  }

  /** True when counted; otherwise the members the set held when the condition failed. */
  private async tryEnter(merchantId: string, member: string, limit: number): Promise<true | string[]> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.waitingCalls(merchantId),
          UpdateExpression: 'ADD calls :member',
          ConditionExpression: 'attribute_not_exists(calls) OR size(calls) < :limit',
          ExpressionAttributeValues: { ':member': new Set([member]), ':limit': limit },
          ReturnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure.ALL_OLD,
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const calls = error.Item ? (unmarshall(error.Item).calls as Set<string> | undefined) : undefined;
      return [...(calls ?? [])];
    }
  }
}
