import type { EmailMessage, NotificationEventType, OperationsEventType } from '../../../../lambdas/core/notifications/notification-templates';
import { SubscriptionGoneError } from '../../../../lambdas/core/notifications/notification-errors';
import { type BeginOutcome, type NotificationChannel, type NotificationRecord, type NotificationSlot, type NotificationState } from '../../../../lambdas/core/notifications/notification';
import { type NotificationLedger, type NotificationTopic, type OperationsContacts, type OperationsContactsStore, type RecipientSubscription, type RecipientSubscriptions, type SmsSender } from '../../../../lambdas/core/notifications/ports';
import { copy } from '../requests/in-memory-ports';

interface StoredSlot extends NotificationRecord {
  readonly slot: NotificationSlot;
  readonly expiresAt: number;
}

/**
 * The notification ledger in memory, with the table's claim rule: a slot is taken when it is
 * new, expired, or failed retryably with attempts to spare; never while `sending` (a worker that
 * died mid-publish may have sent it). Only the attempt that holds the slot may finish it.
 */
export class InMemoryNotificationLedger implements NotificationLedger {
  private readonly slots = new Map<string, StoredSlot>();

  constructor(private readonly retentionDays = 30) {}

  async begin(slot: NotificationSlot, to: string, options: { maxAttempts: number; expiresAt?: number }, now: Date): Promise<BeginOutcome> {
    const key = slotKey(slot);
    const stored = this.slots.get(key);
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const free =
      !stored ||
      stored.expiresAt < nowSeconds ||
      (stored.state === 'failed' && stored.retryable === true && stored.attempts < options.maxAttempts);
    if (!free) return { send: false };
    // Attempts keep counting across an expiry, as `if_not_exists(attempts)` does in the table.
    const attempts = (stored?.attempts ?? 0) + 1;
    const at = now.toISOString();
    this.slots.set(key, {
      slot: copy(slot),
      audience: slot.audience,
      channel: slot.channel,
      event: slot.event,
      to,
      state: 'sending',
      attempts,
      createdAt: stored?.createdAt ?? at,
      updatedAt: at,
      expiresAt: options.expiresAt ?? nowSeconds + this.retentionDays * 86_400,
    });
    return { send: true, attempt: attempts };
  }

  async finish(
    slot: NotificationSlot,
    attempt: number,
    outcome: { state: NotificationState; reason?: string; retryable?: boolean },
    now: Date,
  ): Promise<void> {
    const key = slotKey(slot);
    const stored = this.slots.get(key);
    // Another attempt took the slot over meanwhile; its outcome is the one to keep.
    if (stored?.state !== 'sending' || stored.attempts !== attempt) return;
    this.slots.set(key, {
      ...stored,
      state: outcome.state,
      updatedAt: now.toISOString(),
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      ...(outcome.retryable !== undefined ? { retryable: outcome.retryable } : {}),
    });
  }

  async listForRequest(requestId: string): Promise<NotificationRecord[]> {
    return [...this.slots.values()]
      .filter(({ slot }) => slot.scope === 'request' && slot.subjectId === requestId)
      .map(({ slot: _slot, expiresAt: _expiresAt, ...record }) => copy(record));
  }

  /** Every slot of a subject (a request, or a merchant for its notices), as stored. */
  slotsOf(subjectId: string): StoredSlot[] {
    return [...this.slots.values()].filter(({ slot }) => slot.subjectId === subjectId).map(copy);
  }
}

function slotKey(slot: NotificationSlot): string {
  return [slot.scope, slot.subjectId, slot.audience, slot.channel, slot.event, slot.discriminator ?? ''].join('\u0000');
}

/** Records the texts it sends; `failWith` makes the next sends throw, as a throttled SNS would. */
export class RecordingSmsSender implements SmsSender {
  readonly sent: { readonly to: string; readonly text: string }[] = [];
  private failures: Error[] = [];

  failWith(...errors: Error[]): void {
    this.failures = errors;
  }

  async send(message: { readonly to: string; readonly text: string }): Promise<void> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.sent.push({ ...message });
  }
}

interface Subscription {
  readonly endpoint: string;
  readonly channel: NotificationChannel;
  confirmed: boolean;
  /** Recipient subscriptions filter on the address; operations ones carry one clause per merchant. */
  readonly recipient?: string;
  readonly operations: Map<string, readonly OperationsEventType[]>;
}

/**
 * The notifications topic in memory. Like SNS, a repeated subscribe of the same endpoint answers
 * the same subscription; a subscription is unconfirmed until `confirm` (the person following the
 * link) and gone once removed or `unsubscribe`d, after which `isConfirmed` says so with
 * `SubscriptionGoneError`. An operations subscription shared by two merchants stays until neither uses it.
 */
export class InMemoryNotificationTopic implements NotificationTopic {
  readonly published: { readonly to: string; readonly event: string; readonly channel: NotificationChannel; readonly message: { subject?: string; text: string } }[] = [];
  private readonly subscriptions = new Map<string, Subscription>();
  private sequence = 0;

  async subscribeRecipient(address: string): Promise<string> {
    return this.subscribe('email', address, (subscription) => subscription.recipient === address, { recipient: address });
  }

  async isConfirmed(subscriptionArn: string): Promise<boolean> {
    const subscription = this.subscriptions.get(subscriptionArn);
    if (!subscription) throw new SubscriptionGoneError(subscriptionArn);
    return subscription.confirmed;
  }

  async publishToRecipient(address: string, event: NotificationEventType, message: EmailMessage): Promise<void> {
    for (const subscription of this.subscriptions.values()) {
      // SNS holds messages back from a subscription that has not been confirmed.
      if (subscription.recipient === address && subscription.confirmed) {
        this.published.push({ to: address, event, channel: 'email', message: { ...message } });
      }
    }
  }

  async publishToOperations(
    merchantId: string,
    event: OperationsEventType,
    channel: NotificationChannel,
    message: { subject?: string; text: string },
  ): Promise<void> {
    for (const subscription of this.subscriptions.values()) {
      if (subscription.channel === channel && subscription.confirmed && subscription.operations.get(merchantId)?.includes(event)) {
        this.published.push({ to: subscription.endpoint, event, channel, message: { ...message } });
      }
    }
  }

  async subscribeOperations(merchantId: string, channel: NotificationChannel, endpoint: string, events: readonly OperationsEventType[]): Promise<string> {
    const arn = await this.subscribe(channel, endpoint, (subscription) => subscription.recipient === undefined, {});
    this.subscriptions.get(arn)!.operations.set(merchantId, [...events]);
    return arn;
  }

  async setOperationsEvents(subscriptionArn: string, merchantId: string, _channel: NotificationChannel, events: readonly OperationsEventType[]): Promise<void> {
    const subscription = this.subscriptions.get(subscriptionArn);
    if (!subscription) throw new SubscriptionGoneError(subscriptionArn);
    subscription.operations.set(merchantId, [...events]);
  }

  async removeOperations(subscriptionArn: string, merchantId: string): Promise<void> {
    const subscription = this.subscriptions.get(subscriptionArn);
    if (!subscription) return;
    subscription.operations.delete(merchantId);
    if (subscription.operations.size === 0) this.subscriptions.delete(subscriptionArn);
  }

  /** The person followed the confirmation link SNS mailed (or texted) to `endpoint`. */
  confirm(endpoint: string): void {
    for (const subscription of this.subscriptions.values()) if (subscription.endpoint === endpoint) subscription.confirmed = true;
  }

  /** The person followed the unsubscribe link. */
  unsubscribe(endpoint: string): void {
    for (const [arn, subscription] of this.subscriptions) if (subscription.endpoint === endpoint) this.subscriptions.delete(arn);
  }

  /** Merchants whose notices a subscription carries, by arn. */
  operationsOf(subscriptionArn: string): ReadonlyMap<string, readonly OperationsEventType[]> | undefined {
    return this.subscriptions.get(subscriptionArn)?.operations;
  }

  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  private async subscribe(
    channel: NotificationChannel,
    endpoint: string,
    sameUse: (subscription: Subscription) => boolean,
    extra: { recipient?: string },
  ): Promise<string> {
    for (const [arn, subscription] of this.subscriptions) {
      if (subscription.channel === channel && subscription.endpoint === endpoint && sameUse(subscription)) return arn;
    }
    const arn = `arn:test:sns:notifications:${++this.sequence}`;
    this.subscriptions.set(arn, { endpoint, channel, confirmed: false, operations: new Map(), ...extra });
    return arn;
  }
}

/** Email addresses already subscribed to the topic. */
export class InMemoryRecipientSubscriptions implements RecipientSubscriptions {
  private readonly subscriptions = new Map<string, RecipientSubscription>();

  async get(address: string): Promise<RecipientSubscription | undefined> {
    const stored = this.subscriptions.get(address);
    return stored && copy(stored);
  }

  async put(subscription: RecipientSubscription): Promise<void> {
    this.subscriptions.set(subscription.address, copy(subscription));
  }
}

/** Each merchant's operations contacts. */
export class InMemoryOperationsContactsStore implements OperationsContactsStore {
  private readonly contacts = new Map<string, OperationsContacts>();

  async get(merchantId: string): Promise<OperationsContacts | undefined> {
    const stored = this.contacts.get(merchantId);
    return stored && copy(stored);
  }

  async put(contacts: OperationsContacts): Promise<void> {
    this.contacts.set(contacts.merchantId, copy(contacts));
  }
}
