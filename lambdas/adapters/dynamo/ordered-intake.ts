import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MAX_OPEN_PER_ORDERING_KEY } from '../../core/delivery-order';
import { ServiceUnavailableError } from '../../core/errors';
import type { CreateOutcome } from '../../core/ports';
import { backOff, ORDER_WRITE_TRIES } from './order-retries';
import { unlessTransactionCancelled } from './conditions';
import { fingerprintFromItem, keys, requestFromItem, type Item } from './keys';

/** Seconds a client waits before submitting again to a key that is full or contended. */
const ORDERING_RETRY_AFTER_SECONDS = 2;

/**
 * Stores a request submitted with an `orderingKey` and numbers it, in one transaction: the
 * request's conditional put (which still deduplicates it by id) and the key's item moving from
 * the number last read to the next one, with the new number added to the key's open requests. Two
 * submissions to one key race on that condition and the loser reads the key again, so numbers
 * follow acceptance order without gaps. Only ordered submissions pay this read and transaction.
 */
export async function createOrderedRequest(
  client: DynamoDBDocumentClient,
  tableName: string,
  item: Item,
  ordering: { readonly merchantId: string; readonly key: string; readonly expiresAt: number },
): Promise<CreateOutcome> {
  const headKey = keys.orderingKey(ordering.merchantId, ordering.key);
  for (let tries = 1; ; tries++) {
    const { Item: head } = await client.send(new GetCommand({ TableName: tableName, Key: headKey, ConsistentRead: true }));
    const last = Number(head?.seq ?? 0);
    if (((head?.open as Set<number> | undefined)?.size ?? 0) >= MAX_OPEN_PER_ORDERING_KEY) {
      throw new ServiceUnavailableError(
        `This orderingKey already has ${MAX_OPEN_PER_ORDERING_KEY} unfinished requests, the most one key may hold; submit again once some have finished`,
        ORDERING_RETRY_AFTER_SECONDS,
      );
    }
    const seq = last + 1;
    const outcome = await unlessTransactionCancelled(
      async (): Promise<CreateOutcome | 'contended'> => {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: tableName,
                  Item: { ...item, orderingSeq: seq },
                  ConditionExpression: 'attribute_not_exists(pk)',
                  ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
                },
              },
              {
                Update: {
                  TableName: tableName,
                  Key: headKey,
                  UpdateExpression: 'SET seq = :seq, expiresAt = :expiresAt ADD #open :numbers',
                  ConditionExpression: head ? 'seq = :last' : 'attribute_not_exists(pk)',
                  ExpressionAttributeNames: { '#open': 'open' },
                  ExpressionAttributeValues: { ':seq': seq, ':expiresAt': ordering.expiresAt, ':numbers': new Set([seq]), ...(head ? { ':last': last } : {}) },
                },
              },
            ],
          }),
        );
        return { outcome: 'created' };
      },
      (reasons): CreateOutcome | 'contended' => {
        const current = reasons[0]?.conditionFailed ? reasons[0].current : undefined;
        if (current) return { outcome: 'exists', request: requestFromItem(current), fingerprint: fingerprintFromItem(current) };
        return 'contended';
      },
    );
    if (outcome !== 'contended') return outcome;
    if (tries >= ORDER_WRITE_TRIES) {
      throw new ServiceUnavailableError('Too many requests are being submitted under this orderingKey at once; retry with the same Idempotency-Key', ORDERING_RETRY_AFTER_SECONDS);
    }
    await backOff(tries);
  }
}
