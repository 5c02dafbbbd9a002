import { TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DeliveryOrderLedger, OrderingTicket, OrderStanding } from '../core/delivery-order';
import { batchGetInOrder } from './dynamo/batch-get';
import { unlessConditionFails, unlessTransactionCancelled } from './dynamo/conditions';
import { keys, type Item } from './dynamo/keys';

/** Tries of a transaction that another one on the same key got in the way of (DynamoDB cancels both sides' conflicts). */
export const ORDER_WRITE_TRIES = 5;
const CONFLICT_BASE_DELAY_MS = 20;

/**
 * The ordering keys' ledger on the table: per (merchant, key) one item with the last number
 * assigned and the set of open requests, and beside it one item per endpoint with the set of
 * its pending deliveries' numbers. Sets, so adding or removing a number twice changes nothing.
 * Each key is a partition of its own, and its items are read and written only for requests that
 * carry the key: a request without one never touches them.
 */
export class DynamoDeliveryOrderLedger implements DeliveryOrderLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async standing(merchantId: string, key: string, endpointId: string): Promise<OrderStanding> {
    const [head, cursor] = await batchGetInOrder(this.client, this.tableName, [keys.orderingKey(merchantId, key), keys.orderingCursor(merchantId, key, endpointId)], {
      consistentRead: true,
    });
    return { open: numbersOf(head, 'open'), pending: numbersOf(cursor, 'pending') };
  }

  async handOver(merchantId: string, ticket: OrderingTicket, endpointIds: readonly string[]): Promise<void> {
    const seq = new Set([ticket.seq]);
    const expiresAt = this.expiry();
    const write = () =>
      this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: keys.orderingKey(merchantId, ticket.key),
                UpdateExpression: 'DELETE #open :seq',
                ConditionExpression: 'contains(#open, :n)',
                ExpressionAttributeNames: { '#open': 'open' },
                ExpressionAttributeValues: { ':seq': seq, ':n': ticket.seq },
              },
            },
            ...endpointIds.map((endpointId) => ({
              Update: {
                TableName: this.tableName,
                Key: keys.orderingCursor(merchantId, ticket.key, endpointId),
                UpdateExpression: 'ADD pending :seq SET expiresAt = :expiresAt',
                ExpressionAttributeValues: { ':seq': seq, ':expiresAt': expiresAt },
              },
            })),
          ],
        }),
      );
    for (let tries = 1; ; tries++) {
      const outcome = await unlessTransactionCancelled(
        async () => {
          await write();
          return 'done' as const;
        },
        // The number is no longer open: an earlier run of this fan-out handed it over (or the bound released it).
        (reasons) => (reasons[0]?.conditionFailed ? ('done' as const) : ('conflict' as const)),
      );
      if (outcome === 'done') return;
      if (tries >= ORDER_WRITE_TRIES) throw new Error(`Could not hand over number ${ticket.seq} of an ordering key after ${tries} tries`);
      await backOff(tries);
    }
  }

  async settle(merchantId: string, key: string, endpointId: string, seqs: readonly number[]): Promise<void> {
    await this.remove(keys.orderingCursor(merchantId, key, endpointId), 'pending', seqs);
  }

  async withdraw(merchantId: string, key: string, seqs: readonly number[]): Promise<void> {
    await this.remove(keys.orderingKey(merchantId, key), 'open', seqs);
  }

  private async remove(key: Item, attribute: 'open' | 'pending', seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    await unlessConditionFails(
      () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'DELETE #set :seqs',
            // Never creates a bare item: a cursor that does not exist holds nothing to remove.
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#set': attribute },
            ExpressionAttributeValues: { ':seqs': new Set(seqs) },
          }),
        ),
      () => undefined,
    );
  }

  private expiry(): number {
    return Math.floor(Date.now() / 1000) + this.retentionDays * 86_400;
  }
}

function numbersOf(item: Item | undefined, attribute: string): number[] {
  const value = item?.[attribute] as Set<number> | undefined;
  return value ? [...value].map(Number) : [];
}

/** A short, jittered wait before the next try, growing with each. */
export function backOff(tries: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * CONFLICT_BASE_DELAY_MS * 2 ** tries));
}
