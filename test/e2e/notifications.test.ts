import {
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { SqsRequestQueue } from '../../lambdas/adapters/sqs-request-queue';
import { operationsNotices } from '../../lambdas/handlers/shared/dependencies';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OutboxMessage } from '../../lib/local/outbox';
import type { LocalRuntime } from '../../lib/local/runtime';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';

let runtime: LocalRuntime;
let api: ReturnType<typeof apiClient>;
let sns: SNSClient;
let sqs: SQSClient;
let topicArn: string;
/** A queue subscribed to the topic, raw delivery: sees every message Herald publishes, with its attributes. */
let observerUrl: string;
const observed: Message[] = [];

beforeAll(async () => {
  runtime = await startTestRuntime('notify');
  api = apiClient(runtime);
  sns = new SNSClient({ endpoint: runtime.endpoints.sns });
  sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
  topicArn = runtime.resources.topicArns.notifications;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${topicArn.split(':').pop()}-observer` }));
  observerUrl = QueueUrl!;
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: observerUrl, AttributeNames: ['QueueArn'] }));
  await sns.send(
    new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn!, Attributes: { RawMessageDelivery: 'true' } }),
  );
});

afterAll(async () => {
  await runtime?.stop();
  sns?.destroy();
  sqs?.destroy();
});

async function outbox(): Promise<OutboxMessage[]> {
  const response = await fetch(`${runtime.url}/local/outbox`);
  return ((await response.json()) as { messages: OutboxMessage[] }).messages;
}

async function submit(key: string, body: unknown) {
  const response = await api('POST', '/v1/requests', { body, headers: { 'idempotency-key': key } });
  expect(response.status).toBe(202);
  return response.body!.id as string;
}

async function finished(id: string) {
  return eventually(async () => {
    const polled = await api('GET', `/v1/requests/${id}`);
    return polled.body?.status === 'succeeded' || polled.body?.status === 'failed' ? polled.body : undefined;
  }, 30_000);
}

/** Messages the observer queue has received so far whose attributes include `match`. */
async function publishedWith(match: Record<string, string>): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: observerUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
  );
  observed.push(...Messages);
  return observed.filter((m) => Object.entries(match).every(([name, value]) => m.MessageAttributes?.[name]?.StringValue === value));
}

async function queueDrained(url: string): Promise<boolean> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return Attributes?.ApproximateNumberOfMessages === '0' && Attributes?.ApproximateNumberOfMessagesNotVisible === '0';
}

async function emailSubscriptions(endpoint: string) {
  const { Subscriptions = [] } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
  return Subscriptions.filter((s) => s.Endpoint === endpoint);
}

async function filterPolicyOf(subscriptionArn: string): Promise<unknown> {
  const { Attributes } = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }));
  return JSON.parse(Attributes!.FilterPolicy!);
}

describe('SMS notifications', () => {
  it('texts the number once when a request succeeds, even when its message is delivered twice', async () => {
    const phone = '+15555550101';
    const id = await submit('sms-1', { type: 'demo.sleep', payload: { ms: 10 }, notify: { sms: phone } });
    await finished(id);
    const texts = () => outbox().then((messages) => messages.filter((m) => m.to === phone));
    const [sms] = await eventually(async () => ((await texts()).length > 0 ? texts() : undefined));
    expect(sms).toMatchObject({ channel: 'sms', via: 'sms', text: `Herald: request ${id} (demo.sleep) succeeded.` });
    expect(Date.parse(sms!.at)).not.toBeNaN();

    // The same message again, as SQS may deliver it: the worker finds the request finished and re-runs the fan-out.
    const requests = runtime.resources.queues.requests.url;
    await new SqsRequestQueue(sqs, requests).enqueue({ requestId: id, merchantId: runtime.merchantId, type: 'demo.sleep' });
    await eventually(async () => ((await queueDrained(requests)) && !runtime.busy() ? true : undefined));

    expect(await texts()).toHaveLength(1);
    const status = await api('GET', `/v1/requests/${id}`);
    expect(status.body!.notifications).toEqual([
      expect.objectContaining({ audience: 'requester', channel: 'sms', event: 'request.succeeded', state: 'sent', to: '+*******0101', attempts: 1 }),
    ]);
  });
});

describe('email notifications', () => {
  const address = 'ada@example.com';

  it('subscribes the address once, filtered on its recipient attribute, and publishes with that attribute', async () => {
    const first = await submit('email-1', { type: 'demo.sleep', payload: { ms: 10 }, notify: { email: address } });
    await finished(first);
    const [subscription] = await eventually(async () => {
      const found = await emailSubscriptions(address);
      return found.length > 0 ? found : undefined;
    });
    expect(subscription).toMatchObject({ Protocol: 'email', Endpoint: address });
    expect(await filterPolicyOf(subscription!.SubscriptionArn!)).toEqual({ recipient: [address] });

    const second = await submit('email-2', { type: 'demo.sleep', payload: { ms: 10 }, notify: { email: address } });
    await finished(second);
    const published = await eventually(async () => {
      const messages = await publishedWith({ recipient: address });
      return messages.length >= 2 ? messages : undefined;
    });
    expect(await emailSubscriptions(address)).toHaveLength(1);
    expect(published.map((m) => m.MessageAttributes!.eventType!.StringValue)).toEqual(['request.succeeded', 'request.succeeded']);
    expect(published.map((m) => m.Body)).toEqual([expect.stringContaining(first), expect.stringContaining(second)]);
    expect(published[0]!.MessageAttributes).not.toHaveProperty('merchantId');
  });

  it('shows the email as pending confirmation until the address confirms, and captures it in the outbox', async () => {
    const id = await submit('email-3', { type: 'demo.sleep', payload: { ms: 10 }, notify: { email: address } });
    await finished(id);
    const status = await eventually(async () => {
      const polled = await api('GET', `/v1/requests/${id}`);
      return polled.body?.notifications?.[0]?.state === 'pending_confirmation' ? polled.body : undefined;
    });
    expect(status.notifications[0]).toMatchObject({ channel: 'email', to: 'a***@example.com' });
    const mail = await eventually(async () => (await outbox()).find((m) => m.to === address && m.text.includes(id)));
    expect(mail).toMatchObject({ channel: 'email', via: 'topic', pendingConfirmation: true, subject: `Request ${id} succeeded` });
  });
});

describe('validation', () => {
  it.each([
    ['a phone number that is not E.164', { sms: '555-0101' }, '/notify/sms'],
    ['a phone number too short for its country', { sms: '+1555' }, '/notify/sms'],
    ['an email without a domain', { email: 'ada@' }, '/notify/email'],
  ])('refuses %s with a 400 naming the field', async (_label, notify, path) => {
    const response = await api('POST', '/v1/requests', {
      body: { type: 'demo.sleep', payload: {}, notify },
      headers: { 'idempotency-key': `invalid-${path}-${JSON.stringify(notify)}` },
    });
    expect(response.status).toBe(400);
    expect(response.body!.errors).toEqual([expect.objectContaining({ path })]);
  });

  it('refuses bad operations contacts with a 400 naming each field', async () => {
    const response = await api('PUT', '/v1/notifications', { body: { email: 'nope', sms: '+1', events: ['request.exploded'] } });
    expect(response.status).toBe(400);
    expect(response.body!.errors.map((e: { path: string }) => e.path).sort()).toEqual(['/email', '/events/0', '/sms']);
  });
});

describe("a merchant's operations contacts", () => {
  const opsEmail = 'ops@example.com';
  const opsPhone = '+15555550199';

  it('subscribes them with a filter policy on the merchant and the chosen events', async () => {
    const response = await api('PUT', '/v1/notifications', { body: { email: opsEmail, sms: opsPhone, events: ['request.failed'] } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      email: opsEmail,
      sms: opsPhone,
      events: ['request.failed', 'webhook.endpoint_disabled'],
      subscriptions: { email: 'pending_confirmation' },
    });
    const [email] = await emailSubscriptions(opsEmail);
    expect(email).toMatchObject({ Protocol: 'email' });
    expect(await filterPolicyOf(email!.SubscriptionArn!)).toEqual({
      merchantId: [runtime.merchantId],
      audience: ['operations'],
      channel: ['email'],
      eventType: ['request.failed', 'webhook.endpoint_disabled'],
    });
    const [sms] = await emailSubscriptions(opsPhone);
    expect(sms).toMatchObject({ Protocol: 'sms' });
  });

  it('tells them, once, that a webhook endpoint was disabled and why', async () => {
    const notice = {
      merchantId: runtime.merchantId,
      endpointId: 'ep_local_1',
      url: 'https://hooks.example.com/herald',
      reason: '5 consecutive deliveries failed',
      disabledAt: new Date().toISOString(),
      lastErrors: ['HTTP 503', 'timeout'],
    };
    await operationsNotices().endpointDisabled(notice);
    await operationsNotices().endpointDisabled(notice);

    const notices = async () => (await outbox()).filter((m) => m.attributes?.eventType === 'webhook.endpoint_disabled');
    const captured = await eventually(async () => ((await notices()).length >= 2 ? notices() : undefined));
    const mail = captured.find((m) => m.channel === 'email');
    expect(mail).toMatchObject({ to: opsEmail, subject: expect.stringContaining('ep_local_1') });
    expect(mail!.text).toContain('Reason: 5 consecutive deliveries failed');
    expect(mail!.text).toContain('- timeout');
    expect(captured.find((m) => m.channel === 'sms')).toMatchObject({ to: opsPhone, text: expect.stringContaining('ep_local_1') });
    // Give a duplicate time to show up before counting.
    await publishedWith({ eventType: 'webhook.endpoint_disabled' });
    expect(await notices()).toHaveLength(2);
  });

  it('tells them, with the reason, when the webhook worker disables an endpoint that answers 410 Gone', async () => {
    const gone: Server = createServer((_request, response) => response.writeHead(410).end('gone'));
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/hook`;
      const endpoint = await api('POST', '/v1/webhooks', { body: { url } });
      expect(endpoint.status).toBe(201);
      await submit('gone-1', { type: 'demo.sleep', payload: { ms: 10 } });

      const mail = await eventually(async () =>
        (await outbox()).find((m) => m.channel === 'email' && m.to === opsEmail && m.text.includes(endpoint.body!.id)),
      );
      expect(mail!.text).toContain('Reason: the endpoint answered 410 Gone');
      expect(mail!.text).toContain(url);
      expect(mail!.text).toContain(`PATCH /v1/webhooks/${endpoint.body!.id}`);
    } finally {
      await new Promise((resolve) => gone.close(resolve));
    }
  });

  it('tells them about a failed request when they opted in', async () => {
    const id = await submit('ops-fail-1', { type: 'demo.fail', payload: { message: 'card declined' } });
    const done = await finished(id);
    expect(done.status).toBe('failed');
    const mail = await eventually(async () => (await outbox()).find((m) => m.to === opsEmail && m.text.includes(id)));
    expect(mail).toMatchObject({ channel: 'email', subject: `Herald: request ${id} failed` });
    const status = await eventually(async () => {
      const polled = await api('GET', `/v1/requests/${id}`);
      return polled.body?.notifications?.length === 2 ? polled.body : undefined;
    });
    expect(status.notifications.map((n: { audience: string; channel: string; state: string }) => `${n.audience}:${n.channel}:${n.state}`).sort()).toEqual([
      'operations:email:sent',
      'operations:sms:sent',
    ]);
  });
});
