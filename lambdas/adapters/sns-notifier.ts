import {
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  InvalidParameterException,
  InvalidParameterValueException,
  NotFoundException,
  OptedOutException,
  PublishCommand,
  SetSubscriptionAttributesCommand,
  SubscribeCommand,
  UnsubscribeCommand,
  type MessageAttributeValue,
  type SNSClient,
} from '@aws-sdk/client-sns';
import type { EmailMessage, NotificationEventType, OperationsEventType } from '../core/notifications/notification-templates';
import { NotificationRejectedError, SubscriptionGoneError } from '../core/notifications/notification-errors';
import { type NotificationChannel } from '../core/notifications/notification';
import { type NotificationTopic, type SmsSender } from '../core/notifications/ports';

/** Message attributes the topic's filter policies match on. */
export const NOTIFICATION_ATTRIBUTES = {
  /** Per-request email: the one address the message is for. */
  recipient: 'recipient',
  /** Operations notices: whose contacts, which event, and which of their channels the text is written for. */
  merchantId: 'merchantId',
  eventType: 'eventType',
  channel: 'channel',
  audience: 'audience',
} as const;

const string = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** One use of a subscription: exact values per message attribute, all of which must match. */
type FilterClause = Record<string, string[]>;

/** What a clause is for: the address's own messages, or one merchant's notices on one channel. */
function clauseKey(clause: FilterClause): string {
  if (clause[NOTIFICATION_ATTRIBUTES.recipient]) return 'recipient';
  return `operations:${clause[NOTIFICATION_ATTRIBUTES.merchantId]?.[0]}:${clause[NOTIFICATION_ATTRIBUTES.channel]?.[0]}`;
}

/**
 * SNS refuses some notifications for good: a number it cannot text, a number that opted out, a
 * parameter it will never accept. Those become `NotificationRejectedError` (recorded, not retried);
 * everything else (throttling, an outage, a missing permission) is left to the retry.
 */
export function translateSnsError(error: unknown): unknown {
  if (
    error instanceof InvalidParameterException ||
    error instanceof InvalidParameterValueException ||
    error instanceof OptedOutException
  ) {
    return new NotificationRejectedError(`SNS refused the notification: ${(error as Error).message}`, { cause: error });
  }
  return error;
}

/**
 * SMS straight to a phone number with SNS `Publish`: transactional (SNS routes those for
 * delivery, not price) and with the operator's sender id where the country supports one.
 */
export class SnsSmsSender implements SmsSender {
  constructor(
    private readonly client: SNSClient,
    private readonly senderId?: string,
  ) {}

  async send(message: { readonly to: string; readonly text: string }): Promise<void> {
    try {
      await this.client.send(
        new PublishCommand({
          PhoneNumber: message.to,
          Message: message.text,
          MessageAttributes: {
            'AWS.SNS.SMS.SMSType': string('Transactional'),
            ...(this.senderId ? { 'AWS.SNS.SMS.SenderID': string(this.senderId) } : {}),
          },
        }),
      );
    } catch (error) {
      throw translateSnsError(error);
    }
  }
}

/**
 * The notifications topic. Email recipients of requests subscribe with a filter policy on the
 * `recipient` attribute, so each address receives only its own messages; operations contacts
 * subscribe with a policy on the merchant, the audience, the channel and the events they chose.
 */
export class SnsNotificationTopic implements NotificationTopic {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
    private readonly senderId?: string,
  ) {}

  /** The filter policy of a request recipient's email subscription: its own messages only. */
  static recipientFilterPolicy(address: string): FilterClause {
    return { [NOTIFICATION_ATTRIBUTES.recipient]: [address] };
  }

  /** The filter policy of an operations contact: its merchant's notices of the chosen events, written for its channel. */
  static operationsFilterPolicy(merchantId: string, channel: NotificationChannel, events: readonly OperationsEventType[]): FilterClause {
    return {
      [NOTIFICATION_ATTRIBUTES.merchantId]: [merchantId],
      [NOTIFICATION_ATTRIBUTES.audience]: ['operations'],
      [NOTIFICATION_ATTRIBUTES.channel]: [channel],
      [NOTIFICATION_ATTRIBUTES.eventType]: [...events],
    };
  }

  async subscribeRecipient(address: string): Promise<string> {
    return this.subscribe('email', address, SnsNotificationTopic.recipientFilterPolicy(address));
  }

  async isConfirmed(subscriptionArn: string): Promise<boolean> {
    try {
      const { Attributes } = await this.client.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }));
      return Attributes?.PendingConfirmation === 'false';
    } catch (error) {
      if (error instanceof NotFoundException) throw new SubscriptionGoneError(subscriptionArn);
      throw error;
    }
  }

  async publishToRecipient(address: string, event: NotificationEventType, message: EmailMessage): Promise<void> {
    await this.publish(message, {
      [NOTIFICATION_ATTRIBUTES.recipient]: string(address),
      [NOTIFICATION_ATTRIBUTES.audience]: string('requester'),
      [NOTIFICATION_ATTRIBUTES.eventType]: string(event),
    });
  }

  async publishToOperations(
    merchantId: string,
    event: OperationsEventType,
    channel: NotificationChannel,
    message: { subject?: string; text: string },
  ): Promise<void> {
    await this.publish(message, {
      [NOTIFICATION_ATTRIBUTES.merchantId]: string(merchantId),
      [NOTIFICATION_ATTRIBUTES.audience]: string('operations'),
      [NOTIFICATION_ATTRIBUTES.channel]: string(channel),
      [NOTIFICATION_ATTRIBUTES.eventType]: string(event),
      // Read by SNS for the SMS subscribers the message reaches; email subscribers ignore it.
      ...(channel === 'sms' ? { 'AWS.SNS.SMS.SMSType': string('Transactional') } : {}),
      ...(channel === 'sms' && this.senderId ? { 'AWS.SNS.SMS.SenderID': string(this.senderId) } : {}),
    });
  }

  async subscribeOperations(merchantId: string, channel: NotificationChannel, endpoint: string, events: readonly OperationsEventType[]): Promise<string> {
    return this.subscribe(channel, endpoint, SnsNotificationTopic.operationsFilterPolicy(merchantId, channel, events));
  }

  async setOperationsEvents(subscriptionArn: string, merchantId: string, channel: NotificationChannel, events: readonly OperationsEventType[]): Promise<void> {
    const clauses = await this.clausesOf(subscriptionArn);
    const clause = SnsNotificationTopic.operationsFilterPolicy(merchantId, channel, events);
    await this.setClauses(subscriptionArn, [...clauses.filter((c) => clauseKey(c) !== clauseKey(clause)), clause]);
  }

  /**
   * Takes a merchant's operations notices off a subscription; the subscription itself goes only
   * when nobody else (another merchant, a request's recipient) still uses it.
   */
  async removeOperations(subscriptionArn: string, merchantId: string, channel: NotificationChannel): Promise<void> {
    const key = clauseKey(SnsNotificationTopic.operationsFilterPolicy(merchantId, channel, []));
    try {
      const remaining = (await this.clausesOf(subscriptionArn)).filter((c) => clauseKey(c) !== key);
      if (remaining.length > 0) return await this.setClauses(subscriptionArn, remaining);
      await this.client.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
    } catch (error) {
      // Already gone (the person unsubscribed through the link in a message): nothing left to do.
      if (!(error instanceof NotFoundException)) throw error;
    }
  }

  /**
   * SNS keeps one subscription per (topic, protocol, endpoint) and refuses a second one with other
   * attributes, yet one address may be a request's recipient and the operations contact of several
   * merchants. Each use is a clause of the subscription's filter policy, joined with `$or`; a
   * conflicting Subscribe adds its clause to the existing subscription instead. Two merchants
   * changing the same address at the same instant could lose one change (read, then write); the
   * next PUT restores it.
   */
  private async subscribe(protocol: 'email' | 'sms', endpoint: string, clause: FilterClause): Promise<string> {
    try {
      const { SubscriptionArn } = await this.client.send(
        new SubscribeCommand({
          TopicArn: this.topicArn,
          Protocol: protocol,
          Endpoint: endpoint,
          Attributes: { FilterPolicy: JSON.stringify(clause) },
          // Without it SNS answers "pending confirmation" instead of an ARN we can ask about later.
          ReturnSubscriptionArn: true,
        }),
      );
      return SubscriptionArn!;
    } catch (error) {
      if (!(error instanceof InvalidParameterException && /already exists/i.test(error.message))) throw translateSnsError(error);
    }
    const existing = await this.findSubscription(protocol, endpoint);
    if (!existing) throw new Error(`SNS reports a ${protocol} subscription that it does not list`);
    const clauses = await this.clausesOf(existing);
    await this.setClauses(existing, [...clauses.filter((c) => clauseKey(c) !== clauseKey(clause)), clause]);
    return existing;
  }

  private async findSubscription(protocol: string, endpoint: string): Promise<string | undefined> {
    let NextToken: string | undefined;
    do {
      const page = await this.client.send(new ListSubscriptionsByTopicCommand({ TopicArn: this.topicArn, NextToken }));
      const found = page.Subscriptions?.find((s) => s.Protocol === protocol && s.Endpoint === endpoint);
      if (found?.SubscriptionArn) return found.SubscriptionArn;
      NextToken = page.NextToken;
    } while (NextToken);
    return undefined;
  }

  private async clausesOf(subscriptionArn: string): Promise<FilterClause[]> {
    const { Attributes } = await this.client.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }));
    if (!Attributes?.FilterPolicy) return [];
    const policy = JSON.parse(Attributes.FilterPolicy) as FilterClause | { $or: FilterClause[] };
    return '$or' in policy ? (policy.$or as FilterClause[]) : [policy as FilterClause];
  }

  private async setClauses(subscriptionArn: string, clauses: readonly FilterClause[]): Promise<void> {
    const policy = clauses.length === 1 ? clauses[0] : { $or: clauses };
    await this.client.send(
      new SetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn, AttributeName: 'FilterPolicy', AttributeValue: JSON.stringify(policy) }),
    );
  }

  private async publish(message: { subject?: string; text: string }, attributes: Record<string, MessageAttributeValue>): Promise<void> {
    try {
      await this.client.send(
        new PublishCommand({
          TopicArn: this.topicArn,
          Message: message.text,
          ...(message.subject ? { Subject: message.subject } : {}),
          MessageAttributes: attributes,
        }),
      );
    } catch (error) {
      throw translateSnsError(error);
    }
  }
}
