import { GetSubscriptionAttributesCommand, ListSubscriptionsByTopicCommand, SNSClient, UnsubscribeCommand } from '@aws-sdk/client-sns';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DynamoNotificationLedger,
  DynamoOperationsContacts,
  DynamoRecipientSubscriptions,
} from '../../lambdas/adapters/dynamo-notification-store';
import { SnsNotificationTopic } from '../../lambdas/adapters/sns-notifier';
import { DynamoMerchantQuotas } from '../../lambdas/adapters/dynamo-merchant-quotas';
import { smsDay } from '../../lambdas/core/merchants/merchant-quotas';
import { NotificationRejectedError } from '../../lambdas/core/notifications/notification-errors';
import { notifyRequestFinished, type NotifierDependencies } from '../../lambdas/core/notifications/notifier';
import { setOperationsContacts } from '../../lambdas/core/notifications/operations-contacts';
import { type SmsSender } from '../../lambdas/core/notifications/ports';
import type { HeraldRequest } from '../../lambdas/core/requests/request';
import { provisionForTest } from '../support/endpoints';

/**
 * The notifier against DynamoDB Local and the SNS emulator; only the SMS sender is a stand-in,
 * because an SMS cannot be sent from here.
 */
let deps: Omit<NotifierDependencies, 'sms'>;
let ledger: DynamoNotificationLedger;
let clients: { dynamo: DynamoDBDocumentClient; sns: SNSClient };
let topicArn: string;
let tableName: string;

beforeAll(async () => {
  const resources = await provisionForTest('notifier');
  clients = {
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: resources.endpoints.dynamodb })),
    sns: new SNSClient({ endpoint: resources.endpoints.sns }),
  };
  topicArn = resources.topicArns.notifications;
  tableName = resources.tableName;
  ledger = new DynamoNotificationLedger(clients.dynamo, resources.tableName, 30);
  deps = {
    ledger,
    topic: new SnsNotificationTopic(clients.sns, resources.topicArns.notifications),
    recipients: new DynamoRecipientSubscriptions(clients.dynamo, resources.tableName),
    contacts: new DynamoOperationsContacts(clients.dynamo, resources.tableName),
    maxAttempts: 3,
  };
});

afterAll(() => {
  clients?.dynamo.destroy();
  clients?.sns.destroy();
});

let sequence = 0;
function finishedRequest(notify: HeraldRequest['notify']): HeraldRequest {
  sequence += 1;
  const now = new Date().toISOString();
  return {
    id: `req_notifier${String(sequence).padStart(17, '0')}`,
    merchantId: 'mer_notifier',
    type: 'demo.sleep',
    payload: {},
    status: 'succeeded',
    version: 3,
    attempts: 1,
    idempotencyKey: `k-${sequence}`,
    notify,
    webhookEvents: true,
    history: [],
    createdAt: now,
    updatedAt: now,
  };
}

/** An SMS sender that fails as told, then records what it sends. */
function smsSender(failures: Error[] = []) {
  const sent: { to: string; text: string }[] = [];
  const sender: SmsSender = {
    async send(message) {
      const failure = failures.shift();
      if (failure) throw failure;
      sent.push({ ...message });
    },
  };
  return { sender, sent };
}

it('retries an SMS after a transient failure, and sends it once', async () => {
  const sms = smsSender([Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' })]);
  const request = finishedRequest({ sms: '+15555550140' });

  await expect(notifyRequestFinished({ ...deps, sms: sms.sender }, request)).rejects.toThrow('Rate exceeded');
  expect(await ledger.listForRequest(request.id)).toEqual([
    expect.objectContaining({ state: 'failed', retryable: true, attempts: 1, reason: 'Rate exceeded' }),
  ]);

  await notifyRequestFinished({ ...deps, sms: sms.sender }, request);
  await notifyRequestFinished({ ...deps, sms: sms.sender }, request);
  expect(sms.sent).toHaveLength(1);
  expect(await ledger.listForRequest(request.id)).toEqual([expect.objectContaining({ state: 'sent', attempts: 2 })]);
});

it('records a refused SMS as failed with the reason, masked, and does not retry it', async () => {
  const sms = smsSender([new NotificationRejectedError('Invalid parameter: PhoneNumber +15555550141 is not reachable')]);
  const request = finishedRequest({ sms: '+15555550141' });

  await notifyRequestFinished({ ...deps, sms: sms.sender }, request);
  await notifyRequestFinished({ ...deps, sms: sms.sender }, request);

  expect(sms.sent).toEqual([]);
  const [record] = await ledger.listForRequest(request.id);
  expect(record).toMatchObject({ state: 'failed', retryable: false, attempts: 1 });
  expect(record!.reason).toContain('+*******0141');
  expect(record!.reason).not.toContain('5555550141');
});

it('gives up after the last attempt', async () => {
  const failures = [1, 2, 3, 4].map(() => new Error('SNS is down'));
  const sms = smsSender(failures);
  const request = finishedRequest({ sms: '+15555550142' });

  await expect(notifyRequestFinished({ ...deps, sms: sms.sender }, request)).rejects.toThrow();
  await expect(notifyRequestFinished({ ...deps, sms: sms.sender }, request)).rejects.toThrow();
  await notifyRequestFinished({ ...deps, sms: sms.sender }, request);
  await notifyRequestFinished({ ...deps, sms: sms.sender }, request);

  expect(failures).toHaveLength(1);
  expect(await ledger.listForRequest(request.id)).toEqual([expect.objectContaining({ state: 'failed', retryable: false, attempts: 3 })]);
});

it('still sends the email when the SMS fails, and rethrows the SMS failure afterwards', async () => {
  const sms = smsSender([new Error('connection reset')]);
  const request = finishedRequest({ sms: '+15555550143', email: 'grace@example.com' });

  await expect(notifyRequestFinished({ ...deps, sms: sms.sender }, request)).rejects.toThrow('connection reset');

  const records = await ledger.listForRequest(request.id);
  expect(records.map((r) => `${r.channel}:${r.state}`).sort()).toEqual(['email:pending_confirmation', 'sms:failed']);
});

it('lets only one of several concurrent workers send', async () => {
  const sms = smsSender();
  const request = finishedRequest({ sms: '+15555550144' });

  await Promise.all([1, 2, 3].map(() => notifyRequestFinished({ ...deps, sms: sms.sender }, request)));

  expect(sms.sent).toHaveLength(1);
});

it('subscribes an address again after it unsubscribed', async () => {
  const address = 'lin@example.com';
  const subscriptionsOf = async () =>
    ((await clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }))).Subscriptions ?? []).filter((s) => s.Endpoint === address);
  await notifyRequestFinished({ ...deps, sms: smsSender().sender }, finishedRequest({ email: address }));
  const [first] = await subscriptionsOf();
  await clients.sns.send(new UnsubscribeCommand({ SubscriptionArn: first!.SubscriptionArn }));

  const request = finishedRequest({ email: address });
  await notifyRequestFinished({ ...deps, sms: smsSender().sender }, request);

  const again = await subscriptionsOf();
  expect(again).toHaveLength(1);
  expect(again[0]!.SubscriptionArn).not.toBe(first!.SubscriptionArn);
  expect(await ledger.listForRequest(request.id)).toEqual([expect.objectContaining({ channel: 'email', state: 'pending_confirmation' })]);
});

it('shares one subscription between a request recipient and the operations contacts of two merchants', async () => {
  const address = 'shared@example.com';
  const subscriptionsOf = async () =>
    ((await clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }))).Subscriptions ?? []).filter((s) => s.Endpoint === address);
  const policyOf = async (arn: string) =>
    JSON.parse((await clients.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: arn }))).Attributes!.FilterPolicy!);
  const operations = (merchantId: string) => ({
    merchantId: [merchantId],
    audience: ['operations'],
    channel: ['email'],
    eventType: ['request.failed', 'webhook.endpoint_disabled'],
  });

  await setOperationsContacts(deps, 'mer_shared_a', { email: address, events: ['request.failed'] });
  await setOperationsContacts(deps, 'mer_shared_b', { email: address, events: ['request.failed'] });
  await notifyRequestFinished({ ...deps, sms: smsSender().sender }, finishedRequest({ email: address }));

  const [subscription] = await subscriptionsOf();
  expect(await subscriptionsOf()).toHaveLength(1);
  expect(await policyOf(subscription!.SubscriptionArn!)).toEqual({
    $or: [operations('mer_shared_a'), operations('mer_shared_b'), { recipient: [address] }],
  });

  // Merchant A drops the address: only its clause goes; the subscription stays for the others.
  await setOperationsContacts(deps, 'mer_shared_a', { events: [] });
  expect(await policyOf(subscription!.SubscriptionArn!)).toEqual({ $or: [operations('mer_shared_b'), { recipient: [address] }] });
});

it("counts SMS to the operations contacts against the merchant's SMS of the day, the count submit takes from", async () => {
  const merchantId = 'mer_sms_quota';
  const quotas = new DynamoMerchantQuotas(clients.dynamo, tableName);
  await setOperationsContacts(deps, merchantId, { sms: '+15555550150', events: ['request.failed'] });
  const withQuota = { ...deps, sms: smsSender().sender, smsQuota: { store: quotas, perDay: () => 1 } };
  const failures = Array.from({ length: 6 }, (): HeraldRequest => ({
    ...finishedRequest(undefined),
    merchantId,
    status: 'failed',
    error: { code: 'demo_failure', message: 'failed on purpose', retryable: true },
  }));

  for (const request of failures) await notifyRequestFinished(withQuota, request);

  const sms = (await Promise.all(failures.map((request) => ledger.listForRequest(request.id)))).flat().filter((record) => record.channel === 'sms');
  expect(sms.map((record) => [record.audience, record.state])).toEqual([
    ['operations', 'sent'],
    ...Array.from({ length: 5 }, () => ['operations', 'failed']),
  ]);
  expect(sms[5]).toMatchObject({ reason: 'The merchant has used its 1 SMS of today (UTC); none is sent until midnight UTC', retryable: false });
  // One count for every SMS: a request asking for an SMS today finds none left either.
  const now = new Date();
  expect(await quotas.reserveSms(merchantId, smsDay(now).day, 1, now)).toBe(false);
});
