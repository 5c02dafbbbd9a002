import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { ENV } from '../../lambdas/settings/environment';
import type { OutboxMessage } from '../../lib/local/outbox';
import type { LocalRuntime } from '../../lib/local/runtime';
import { apiClient, eventually, startTestRuntime } from '../support/local-runtime';

/** The sender a stack with `emailSenderIdentity` sends from; the local runtime takes it as `emailFromAddress`. */
const SENDER = 'receipts@shop.example';

let runtime: LocalRuntime;
let sns: SNSClient;

beforeAll(async () => {
  runtime = await startTestRuntime('direct-email', { emailFromAddress: SENDER });
  sns = new SNSClient({ endpoint: runtime.endpoints.sns });
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  sns?.destroy();
  delete process.env[ENV.emailFromAddress];
  delete process.env[ENV.emailOutboxUrl];
});

async function outbox(): Promise<OutboxMessage[]> {
  const response = await fetch(`${runtime.url}/local/outbox`);
  return ((await response.json()) as { messages: OutboxMessage[] }).messages;
}

async function topicSubscribers(endpoint: string) {
  const { Subscriptions = [] } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: runtime.resources.topicArns.notifications }));
  return Subscriptions.filter((s) => s.Endpoint === endpoint);
}

describe('direct request email', () => {
  it('mails the person behind a request once, directly from the sender, with no topic subscription to confirm', async () => {
    const api = apiClient(runtime);
    const address = 'buyer-direct@example.com';
    const submitted = await api('POST', '/v1/requests', {
      body: { type: 'demo.sleep', payload: { ms: 10 }, notify: { email: address } },
      headers: { 'idempotency-key': 'direct-email-1' },
    });
    expect(submitted.status).toBe(202);
    const id = submitted.body!.id as string;

    const status = await eventually(async () => {
      const polled = await api('GET', `/v1/requests/${id}`);
      return polled.body?.notifications?.[0]?.state === 'sent' ? polled.body : undefined;
    }, 30_000);
    // Sent, not pending: nobody has to click a confirmation link first.
    expect(status.notifications).toEqual([expect.objectContaining({ audience: 'requester', channel: 'email', state: 'sent', to: 'b***@example.com' })]);

    const mails = (await outbox()).filter((m) => m.to === address);
    expect(mails).toEqual([expect.objectContaining({ channel: 'email', via: 'email', from: SENDER, subject: `Request ${id} succeeded` })]);
    expect(await topicSubscribers(address)).toEqual([]);
  }, 60_000);

  it('keeps operations contacts as topic subscribers, so the outbox shows both kinds', async () => {
    const api = apiClient(runtime);
    const opsEmail = 'ops-direct@example.com';
    const put = await api('PUT', '/v1/notifications', { body: { email: opsEmail, events: ['request.failed'] } });
    expect(put.status).toBe(200);
    expect(await topicSubscribers(opsEmail)).toEqual([expect.objectContaining({ Protocol: 'email' })]);
    const submitted = await api('POST', '/v1/requests', { body: { type: 'demo.fail', payload: {} }, headers: { 'idempotency-key': 'direct-email-2' } });
    const id = submitted.body!.id as string;
    const notice = await eventually(async () => (await outbox()).find((m) => m.to === opsEmail && m.text.includes(id)), 60_000);
    expect(notice).toMatchObject({ channel: 'email', via: 'topic' });
    expect((await outbox()).some((m) => m.via === 'email')).toBe(true);
  }, 90_000);
});
