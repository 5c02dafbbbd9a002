import { type EmailMessage, type NotificationEventType, type OperationsEventType } from './notification-templates';
import { SubscriptionGoneError } from './notification-errors';
import { type BeginOutcome, type NotificationChannel, type NotificationRecord, type NotificationSlot, type NotificationState } from './notification';

/** The notification slots; see the adapter for the conditional writes. */
export interface NotificationLedger {
  /**
   * Claims a slot: true when it is new, or when its last attempt failed with a retryable error
   * and fewer than `maxAttempts` attempts were made. Anything else (sent, pending, being sent
   * right now, finally failed) is left alone.
   */
  begin(slot: NotificationSlot, to: string, options: { maxAttempts: number; expiresAt?: number }, now: Date): Promise<BeginOutcome>;
  finish(slot: NotificationSlot, attempt: number, outcome: { state: NotificationState; reason?: string; retryable?: boolean }, now: Date): Promise<void>;
  listForRequest(requestId: string): Promise<NotificationRecord[]>;
}

export interface SmsSender {
  /** Sends one transactional SMS to an E.164 number. */
  send(message: { readonly to: string; readonly text: string }): Promise<void>;
}

/** The notifications topic: email recipients and operations contacts are its subscribers. */
export interface NotificationTopic {
  /** Subscribes an address with a filter on the `recipient` attribute; SNS mails it a confirmation link. */
  subscribeRecipient(address: string): Promise<string>;
  /** Whether the subscriber confirmed; throws `SubscriptionGoneError` when it unsubscribed. */
  isConfirmed(subscriptionArn: string): Promise<boolean>;
  publishToRecipient(address: string, event: NotificationEventType, message: EmailMessage): Promise<void>;
  publishToOperations(merchantId: string, event: OperationsEventType, channel: NotificationChannel, message: { subject?: string; text: string }): Promise<void>;
  subscribeOperations(merchantId: string, channel: NotificationChannel, endpoint: string, events: readonly OperationsEventType[]): Promise<string>;
  setOperationsEvents(subscriptionArn: string, merchantId: string, channel: NotificationChannel, events: readonly OperationsEventType[]): Promise<void>;
  /** Takes a merchant's notices off a subscription, and the subscription off the topic once nothing else uses it. */
  removeOperations(subscriptionArn: string, merchantId: string, channel: NotificationChannel): Promise<void>;
}

export interface RecipientSubscription {
  readonly address: string;
  readonly subscriptionArn: string;
  readonly confirmed: boolean;
}

/** Which email addresses the topic already has as subscribers, so each is subscribed once. */
export interface RecipientSubscriptions {
  get(address: string): Promise<RecipientSubscription | undefined>;
  put(subscription: RecipientSubscription, now: Date): Promise<void>;
}

export interface OperationsContacts {
  readonly merchantId: string;
  readonly email?: string;
  readonly sms?: string;
  readonly events: readonly OperationsEventType[];
  readonly subscriptions: Partial<Record<NotificationChannel, string>>;
  readonly updatedAt: string;
}

export interface OperationsContactsStore {
  get(merchantId: string): Promise<OperationsContacts | undefined>;
  put(contacts: OperationsContacts): Promise<void>;
}

/**
 * Sends one email straight to an address (SES `SendEmail` on AWS): the person behind a request
 * gets its message at once, with no subscription to confirm first, unlike the topic's subscribers.
 */
export interface EmailSender {
  send(message: { readonly to: string; readonly email: EmailMessage }): Promise<void>;
}
