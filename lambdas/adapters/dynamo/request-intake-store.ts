import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { IdempotencyKeyInFlightError } from '../../core/errors';
import type { CreateOutcome, IdempotencyRecord, RequestIntake } from '../../core/ports';
import type { HeraldRequest } from '../../core/request';
import { epochSecondsNow, unlessTransactionCancelled } from './conditions';
import { idempotencyFromItem, idempotencyToItem, keys, requestToItem } from './keys';

/** Tries to store a submission before answering that the key is still being used by another one. */
const CREATE_MAX_ROUNDS = 5;

/**
 * Submissions: a request and its idempotency record, stored in one transaction so neither can
 * exist without the other, and the enqueue mark both carry.
 */
export class DynamoRequestIntake implements RequestIntake {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Stores a new request and its idempotency key. When the key is already taken (and not
   * expired), returns its record: the caller compares fingerprints and replays. Concurrent first
   * submissions race on the key's condition; the losers wait for the winner's record and replay it.
   */
  async create(request: HeraldRequest, record: IdempotencyRecord): Promise<CreateOutcome> {
    for (let round = 0; round < CREATE_MAX_ROUNDS; round++) {
      const outcome = await unlessTransactionCancelled(
        async (): Promise<CreateOutcome> => {
          await this.client.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Put: {
                    TableName: this.tableName,
                    Item: idempotencyToItem(record),
                    // DynamoDB deletes expired items lazily (and DynamoDB Local never does): an expired key is free.
                    ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
                    ExpressionAttributeValues: { ':now': epochSecondsNow() },
                    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                  },
                },
                { Put: { TableName: this.tableName, Item: requestToItem(request), ConditionExpression: 'attribute_not_exists(pk)' } },
              ],
            }),
          );
          return { outcome: 'created' };
        },
        ([keyReason]): CreateOutcome | undefined =>
          keyReason?.conditionFailed && keyReason.current ? { outcome: 'exists', record: idempotencyFromItem(keyReason.current) } : undefined,
      );
      if (outcome) return outcome;
      // A concurrent transaction on the same key: wait for it to commit, then replay its record.
      await sleep(20 + Math.random() * 60 * (round + 1));
      const existing = await this.findIdempotencyRecord(record.merchantId, record.key);
      if (existing) return { outcome: 'exists', record: existing };
    }
    throw new IdempotencyKeyInFlightError(record.key);
  }

  /** The live record of an idempotency key; an expired one counts as absent. */
  async findIdempotencyRecord(merchantId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.idempotency(merchantId, key), ConsistentRead: true }),
    );
    if (!Item || (Item.expiresAt as number) < epochSecondsNow()) return undefined;
    return idempotencyFromItem(Item);
  }

  /**
   * Clears the enqueue mark on both items after a failed SendMessage, so that a replay of the
   * key or the sweeper knows the request still has to be enqueued.
   */
  async markNotEnqueued(record: IdempotencyRecord): Promise<void> {
    await this.setEnqueued(record, undefined);
  }

  async markEnqueued(record: IdempotencyRecord, at: string): Promise<void> {
    await this.setEnqueued(record, at);
  }

  private async setEnqueued(record: IdempotencyRecord, at: string | undefined): Promise<void> {
    const update = at
      ? { UpdateExpression: 'SET enqueuedAt = :at', ExpressionAttributeValues: { ':at': at } }
      : { UpdateExpression: 'REMOVE enqueuedAt' };
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          { Update: { TableName: this.tableName, Key: keys.idempotency(record.merchantId, record.key), ...update } },
          { Update: { TableName: this.tableName, Key: keys.request(record.requestId), ...update } },
        ],
      }),
    );
  }
}
