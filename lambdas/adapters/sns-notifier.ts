import {
  GetSubscriptionAttributesCommand,
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
import type { EmailMessage, NotificationEventType, OperationsEventType } from '../core/notification-templates';
import {
  NotificationRejectedError,
  SubscriptionGoneError,
  type NotificationChannel,
  type NotificationTopic,
  type SmsSender,
} from '../core/notifications';

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
  static recipientFilterPolicy(address: string): Record<string, string[]> {
    return { [NOTIFICATION_ATTRIBUTES.recipient]: [address] };
  }

  /** The filter policy of an operations contact: its merchant's notices of the chosen events, written for its channel. */
  static operationsFilterPolicy(merchantId: string, channel: NotificationChannel, events: readonly OperationsEventType[]): Record<string, string[]> {
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
    await this.client.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: subscriptionArn,
        AttributeName: 'FilterPolicy',
        AttributeValue: JSON.stringify(SnsNotificationTopic.operationsFilterPolicy(merchantId, channel, events)),
      }),
    );
  }

  async unsubscribe(subscriptionArn: string): Promise<void> {
    try {
      await this.client.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
    } catch (error) {
      // Already gone (the person unsubscribed through the link in a message): nothing left to do.
      if (!(error instanceof NotFoundException)) throw error;
    }
  }

  private async subscribe(protocol: 'email' | 'sms', endpoint: string, filterPolicy: Record<string, string[]>): Promise<string> {
    try {
      const { SubscriptionArn } = await this.client.send(
        new SubscribeCommand({
          TopicArn: this.topicArn,
          Protocol: protocol,
          Endpoint: endpoint,
          Attributes: { FilterPolicy: JSON.stringify(filterPolicy) },
          // Without it SNS answers "pending confirmation" instead of an ARN we can ask about later.
          ReturnSubscriptionArn: true,
        }),
      );
      return SubscriptionArn!;
    } catch (error) {
      throw translateSnsError(error);
    }
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
