import { TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MAX_OPEN_PER_ORDERING_KEY } from '../../core/webhooks/delivery-order';
import { ServiceUnavailableError } from '../../core/shared/errors';
import type { CreateOutcome } from '../../core/requests/ports';
import { backOff, ORDER_WRITE_TRIES } from './order-retries';
import { unlessConditionFails, unlessTransactionCancelled } from './conditions';
import { fingerprintFromItem, keys, requestFromItem, type Item, type Key } from './keys';

/** Seconds a client waits before submitting again to a key that is full or contended. */
const ORDERING_RETRY_AFTER_SECONDS = 2;

/**
 * Stores a request submitted with an `orderingKey` and numbers it. The number is drawn first, by
 * an atomic counter on the key's item (so concurrent submissions never contend for one value),
 * then the request's conditional put (which still deduplicates it by id) and the number's entry
 * among the key's open requests are written in one transaction: a request is never stored without
 * its number open, nor the reverse. A replay's drawn number is left unused; numbers only need to
 * grow in acceptance order, not to be dense. Only ordered submissions pay the extra write.
 */
export async function createOrderedRequest(
  client: DynamoDBDocumentClient,
  tableName: string,
  item: Item,
  ordering: { readonly merchantId: string; readonly key: string; readonly expiresAt: number },
): Promise<CreateOutcome> {
  const headKey = keys.orderingKey(ordering.merchantId, ordering.key);
  const seq = await drawNumber(client, tableName, headKey, ordering.expiresAt);
  for (let tries = 1; ; tries++) {
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
                  UpdateExpression: 'ADD #open :numbers',
                  ExpressionAttributeNames: { '#open': 'open' },
                  ExpressionAttributeValues: { ':numbers': new Set([seq]) },
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
        // Another transaction on the key's item was under way: try again with the same number.
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

/** The key's next number, unless `MAX_OPEN_PER_ORDERING_KEY` of its requests are open. */
async function drawNumber(client: DynamoDBDocumentClient, tableName: string, headKey: Key, expiresAt: number): Promise<number> {
  const drawn = await unlessConditionFails(
    async () => {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: headKey,
          UpdateExpression: 'ADD seq :one SET expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(#open) OR size(#open) < :max',
          ExpressionAttributeNames: { '#open': 'open' },
          ExpressionAttributeValues: { ':one': 1, ':expiresAt': expiresAt, ':max': MAX_OPEN_PER_ORDERING_KEY },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(Attributes?.seq);
    },
    () => undefined,
  );
  if (drawn === undefined) {
    throw new ServiceUnavailableError(
      `This orderingKey already has ${MAX_OPEN_PER_ORDERING_KEY} unfinished requests, the most one key may hold; submit again once some have finished`,
      ORDERING_RETRY_AFTER_SECONDS,
    );
  }
  return drawn;
}
