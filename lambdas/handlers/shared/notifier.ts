import { ENV } from '../../../lib/topology';
import { dynamoClient, requiredEnv, snsClient } from '../../adapters/aws-clients';
import { DynamoNotificationLedger, DynamoOperationsContacts, DynamoRecipientSubscriptions } from '../../adapters/dynamo-notification-store';
import { OutboxSmsSender } from '../../adapters/outbox-sms-sender';
import { SnsNotificationTopic, SnsSmsSender } from '../../adapters/sns-notifier';
import type { EndpointDisabledNotice } from '../../core/notification-templates';
import { notifyEndpointDisabled, notifyRequestFinished, type NotifierDependencies, type SmsSender } from '../../core/notifications';
import type { RequestEventPublisher } from '../../core/ports';
import type { HeraldRequest } from '../../core/request';
import { settings } from './dependencies';
import { logger } from './observability';

/**
 * The notifier's adapters, built on first use from the environment. Where an SMS goes is chosen
 * here and nowhere else: to SNS, or, when `HERALD_SMS_OUTBOX_URL` is set (the local runtime sets
 * it; the stack never does), to that outbox. Email and operations notices always go through the
 * topic, whose API the local emulator has too.
 */
let cached: NotifierDependencies | undefined;
let ledger: DynamoNotificationLedger | undefined;

/** The notification slots alone: what the status function reads, with nothing but the table. */
export function notificationLedger(): DynamoNotificationLedger {
  ledger ??= new DynamoNotificationLedger(dynamoClient(), requiredEnv(ENV.tableName), settings.requestRetentionDays());
  return ledger;
}

function smsSender(): SmsSender {
  const outboxUrl = process.env[ENV.smsOutboxUrl];
  if (outboxUrl) return new OutboxSmsSender(outboxUrl);
  return new SnsSmsSender(snsClient(), process.env[ENV.smsSenderId] || undefined);
}

export function notifierDependencies(): NotifierDependencies {
  if (cached) return cached;
  const tableName = requiredEnv(ENV.tableName);
  cached = {
    ledger: notificationLedger(),
    sms: smsSender(),
    topic: new SnsNotificationTopic(snsClient(), requiredEnv(ENV.notificationsTopicArn), process.env[ENV.smsSenderId] || undefined),
    recipients: new DynamoRecipientSubscriptions(dynamoClient(), tableName),
    contacts: new DynamoOperationsContacts(dynamoClient(), tableName),
    log: (message, extra) => logger.warn(message, extra ?? {}),
  };
  return cached;
}

/** The SMS and email publisher the worker's fan-out calls when a request ends. */
export function requestNotifier(): RequestEventPublisher {
  return { requestFinished: (request: HeraldRequest) => notifyRequestFinished(notifierDependencies(), request) };
}

/**
 * Tells a merchant's operations contacts that one of its webhook endpoints was disabled: the SNS
 * implementation of the webhooks' merchant-notifier port.
 */
export function endpointDisabledNotifier(): { endpointDisabled(notice: EndpointDisabledNotice): Promise<void> } {
  return { endpointDisabled: (notice: EndpointDisabledNotice) => notifyEndpointDisabled(notifierDependencies(), notice) };
}
