import { HeraldError } from '../shared/errors';

/**
 * A notification refused for good: by SNS (an invalid or opted-out number, say), or by the
 * merchant's SMS quota of the day. Retrying cannot help.
 */
export class NotificationRejectedError extends HeraldError {
  override readonly name = 'NotificationRejectedError';

  constructor(detail: string, options?: ErrorOptions) {
    super('notification-rejected', detail, options);
  }
}

/**
 * The subscription no longer exists: the person unsubscribed through the link in a message. An
 * internal signal between the topic adapter and the notifier (which subscribes the address
 * again), never an answer to a client, so not a `HeraldError`.
 */
export class SubscriptionGoneError extends Error {
  override readonly name = 'SubscriptionGoneError';

  constructor(readonly subscriptionArn: string) {
    super(`Subscription ${subscriptionArn} no longer exists`);
  }
}
