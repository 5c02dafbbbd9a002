import { QueryCommand, TransactWriteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ORDER_WAITING, readyHeads, type DeliveryOrderLedger, type OrderingTicket, type OrderStanding, type PendingDelivery } from '../core/webhooks/delivery-order';
import { parseDeliveryId } from '../core/webhooks/delivery';
import { batchGetInOrder } from './dynamo/batch-get';
import { unlessConditionFails, unlessTransactionCancelled } from './dynamo/conditions';
import { keys, type Item, type Key } from './dynamo/keys';
import { backOff, ORDER_WRITE_TRIES } from './dynamo/order-retries';

/**
 * The ordering keys' ledger on the table: per (merchant, key) one item with the last number
 * assigned and the set of open requests (numbers), and beside it, in the same partition, one
 * item per endpoint with the set of its pending deliveries (`<number>#<delivery id>`). Sets, so
 * adding or removing a member twice changes nothing. Each key is a partition of its own, and its
 * items are read and written only for requests that carry the key: a request without one never
 * touches them. A delivery's wait mark (`orderWait`) lives on the delivery's own item.
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
    return { open: numbersOf(head), pending: pendingOf(cursor) };
  }

  async handOver(merchantId: string, ticket: OrderingTicket, targets: readonly { readonly endpointId: string; readonly deliveryId: string }[]): Promise<void> {
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
                ExpressionAttributeValues: { ':seq': new Set([ticket.seq]), ':n': ticket.seq },
              },
            },
            ...targets.map((target) => ({
              Update: {
                TableName: this.tableName,
                Key: keys.orderingCursor(merchantId, ticket.key, target.endpointId),
                UpdateExpression: 'ADD #pending :member SET expiresAt = :expiresAt',
                ExpressionAttributeNames: { '#pending': 'pending' },
                ExpressionAttributeValues: { ':member': new Set([memberOf({ seq: ticket.seq, deliveryId: target.deliveryId })]), ':expiresAt': expiresAt },
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

  async settle(merchantId: string, key: string, endpointId: string, deliveries: readonly PendingDelivery[]): Promise<void> {
    await this.remove(keys.orderingCursor(merchantId, key, endpointId), 'pending', deliveries.map(memberOf));
  }

  async withdraw(merchantId: string, key: string, seqs: readonly number[]): Promise<void> {
    await this.remove(keys.orderingKey(merchantId, key), 'open', seqs);
  }

  async heads(merchantId: string, key: string): Promise<PendingDelivery[]> {
    const partition = keys.orderingKey(merchantId, key).pk;
    // One partition holds the key's item and its endpoints' cursors: at most one per endpoint of the merchant.
    const { Items = [] } = await this.client.send(
      new QueryCommand({ TableName: this.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': partition }, ConsistentRead: true }),
    );
    const head = Items.find((item) => item.sk === keys.orderingKey(merchantId, key).sk);
    const cursors = Items.filter((item) => item !== head);
    return readyHeads(numbersOf(head), cursors.map(pendingOf));
  }

  async markWaiting(deliveryId: string, round: number): Promise<void> {
    const key = deliveryKeyOf(deliveryId);
    if (!key) return;
    await unlessConditionFails(
      () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET orderWait = :waiting',
            ConditionExpression: 'round = :round AND #state = :pending',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':waiting': ORDER_WAITING, ':round': round, ':pending': 'pending' },
          }),
        ),
      () => undefined,
    );
  }

  async claim(deliveryId: string, round: number, expected: string, going: string): Promise<boolean> {
    const key = deliveryKeyOf(deliveryId);
    if (!key) return false;
    return unlessConditionFails(
      async () => {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'SET orderWait = :going',
            ConditionExpression: 'orderWait = :expected AND round = :round AND #state = :pending',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':going': going, ':expected': expected, ':round': round, ':pending': 'pending' },
          }),
        );
        return true;
      },
      () => false,
    );
  }

  private async remove(key: Key, attribute: 'open' | 'pending', members: readonly (number | string)[]): Promise<void> {
    if (members.length === 0) return;
    await unlessConditionFails(
      () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: 'DELETE #set :members',
            // Never creates a bare item: one that does not exist holds nothing to remove.
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeNames: { '#set': attribute },
            ExpressionAttributeValues: { ':members': new Set(members) },
          }),
        ),
      () => undefined,
    );
  }

  private expiry(): number {
    return Math.floor(Date.now() / 1000) + this.retentionDays * 86_400;
  }
}

const memberOf = (delivery: PendingDelivery): string => `${delivery.seq}#${delivery.deliveryId}`;

function numbersOf(item: Item | undefined): number[] {
  const value = item?.open as Set<number> | undefined;
  return value ? [...value].map(Number) : [];
}

function pendingOf(item: Item | undefined): PendingDelivery[] {
  const value = item?.pending as Set<string> | undefined;
  return [...(value ?? [])].flatMap((member) => {
    const cut = member.indexOf('#');
    const seq = Number(member.slice(0, cut));
    return cut > 0 && Number.isInteger(seq) ? [{ seq, deliveryId: member.slice(cut + 1) }] : [];
  });
}

function deliveryKeyOf(deliveryId: string): Key | undefined {
  const parts = parseDeliveryId(deliveryId);
  return parts ? keys.delivery(parts.subjectId, parts.endpointId, parts.eventType) : undefined;
}
