import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BeginOutcome, NotificationRecord, NotificationSlot, NotificationState } from '../core/notifications/notification';
import type { NotificationLedger, OperationsContacts, OperationsContactsStore, RecipientSubscription, RecipientSubscriptions } from '../core/notifications/ports';
import { unlessConditionFails } from './dynamo/conditions';
import { contactsFromItem, contactsToItem, keys, notificationFromItem, recipientFromItem, recipientToItem } from './dynamo/keys';
import { queryKeyRange } from './dynamo/key-range-query';

/**
 * Notification slots in the one table: a slot lives
 * next to its request (see `keys.notificationSlot`), so a status read finds
 * them with one query and they expire with it.
 */
export class DynamoNotificationLedger implements NotificationLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  /**
   * One conditional UpdateItem claims the slot: it must be new, expired, or failed with a
   * retryable error and attempts to spare. `sending` is never taken over: a worker that died
   * mid-publish may have sent it, and a second text is worse than a missing one.
   */
  async begin(slot: NotificationSlot, to: string, options: { maxAttempts: number; expiresAt?: number }, now: Date): Promise<BeginOutcome> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    return unlessConditionFails(
      async (): Promise<BeginOutcome> => {
        const { Attributes } = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.notificationSlot(slot),
            UpdateExpression:
              'SET #state = :sending, attempts = if_not_exists(attempts, :zero) + :one, audience = :audience, channel = :channel, ' +
              '#event = :event, #to = :to, createdAt = if_not_exists(createdAt, :now), updatedAt = :now, expiresAt = :expires REMOVE reason, retryable',
            ConditionExpression:
              'attribute_not_exists(pk) OR expiresAt < :nowSeconds OR (#state = :failed AND retryable = :true AND attempts < :max)',
            ExpressionAttributeNames: { '#state': 'state', '#event': 'event', '#to': 'to' },
            ExpressionAttributeValues: {
              ':sending': 'sending',
              ':failed': 'failed',
              ':true': true,
              ':zero': 0,
              ':one': 1,
              ':max': options.maxAttempts,
              ':audience': slot.audience,
              ':channel': slot.channel,
              ':event': slot.event,
              ':to': to,
              ':now': now.toISOString(),
              ':nowSeconds': nowSeconds,
              ':expires': options.expiresAt ?? nowSeconds + this.retentionDays * 86_400,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return { send: true, attempt: Attributes!.attempts as number };
      },
      (): BeginOutcome => ({ send: false }),
    );
  }

  async finish(
    slot: NotificationSlot,
    attempt: number,
    outcome: { state: NotificationState; reason?: string; retryable?: boolean },
    now: Date,
  ): Promise<void> {
    // A failed condition means another attempt took the slot over meanwhile; its outcome is the one to keep.
    await unlessConditionFails(
      async () => {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.notificationSlot(slot),
            UpdateExpression: `SET #state = :state, updatedAt = :now${outcome.reason ? ', reason = :reason' : ''}${
              outcome.retryable !== undefined ? ', retryable = :retryable' : ''
            }`,
            ConditionExpression: '#state = :sending AND attempts = :attempt',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':state': outcome.state,
              ':sending': 'sending',
              ':attempt': attempt,
              ':now': now.toISOString(),
              ...(outcome.reason ? { ':reason': outcome.reason } : {}),
              ...(outcome.retryable !== undefined ? { ':retryable': outcome.retryable } : {}),
            },
          }),
        );
      },
      () => undefined,
    );
  }

  async listForRequest(requestId: string): Promise<NotificationRecord[]> {
    const items = await queryKeyRange(this.client, this.tableName, keys.requestNotifications(requestId), { consistentRead: true });
    return items.map(notificationFromItem);
  }
}

/** The email addresses already subscribed to the notifications topic. */
export class DynamoRecipientSubscriptions implements RecipientSubscriptions {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(address: string): Promise<RecipientSubscription | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.recipient(address) }));
    return Item ? recipientFromItem(address, Item) : undefined;
  }

  async put(subscription: RecipientSubscription, now: Date): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: recipientToItem(subscription, now.toISOString()) }));
  }
}

/** A merchant's operations contacts and their subscription ARNs, under the merchant. */
export class DynamoOperationsContacts implements OperationsContactsStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(merchantId: string): Promise<OperationsContacts | undefined> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: keys.operationsContacts(merchantId) }));
    return Item ? contactsFromItem(Item) : undefined;
  }

  async put(contacts: OperationsContacts): Promise<void> {
    await this.client.send(new PutCommand({ TableName: this.tableName, Item: contactsToItem(contacts) }));
  }
}
