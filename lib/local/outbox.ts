import type { IncomingMessage } from 'node:http';
import {
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SNSClient,
  SubscribeCommand,
  type Subscription,
} from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { maskRecipient } from '../../lambdas/core/notifications/notification-view';
import { type NotificationChannel } from '../../lambdas/core/notifications/notification';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type LocalEndpoints } from './provision';

/** One SMS or email Herald would have sent, had it been running on AWS. */
export interface OutboxMessage {
  readonly id: number;
  readonly channel: NotificationChannel;
  readonly to: string;
  readonly subject?: string;
  readonly text: string;
  readonly at: string;
  /**
   * `sms`: a direct SMS Publish to a phone number; `email`: a direct SES SendEmail (request emails,
   * when direct email is on); `topic`: what SNS would deliver to a topic subscriber.
   */
  readonly via: 'sms' | 'email' | 'topic';
  /** Direct emails only: the sender's From address. */
  readonly from?: string;
  /** Topic subscribers only: on AWS the subscriber receives nothing until it confirms. */
  readonly pendingConfirmation?: boolean;
  readonly attributes?: Record<string, string>;
}

const MAX_MESSAGES = 1000;
const MAX_SMS_BODY_BYTES = 16 * 1024;

/**
 * Where the local runtime keeps every SMS and email Herald would send: nothing may leave this
 * machine, and the SNS emulator delivers to SQS subscribers only. Three feeds fill it: the
 * notifier's SMS sender posts direct SMS to `POST /local/outbox/sms` (it is pointed there by
 * `HERALD_SMS_OUTBOX_URL`), its email sender posts direct emails to `POST /local/outbox/email`
 * (`HERALD_EMAIL_OUTBOX_URL`, set when direct email is on), and a `TopicTap` plays SNS's part for
 * the topic's email and SMS subscribers. `GET /local/outbox` lists the messages; each is also printed as one log line.
 */
export class LocalOutbox {
  private readonly messages: OutboxMessage[] = [];
  private nextId = 1;

  constructor(private readonly print: (line: string) => void = defaultPrint) {}

  record(message: Omit<OutboxMessage, 'id' | 'at'> & { at?: string }): OutboxMessage {
    const stored: OutboxMessage = { ...message, id: this.nextId++, at: message.at ?? new Date().toISOString() };
    this.messages.push(stored);
    if (this.messages.length > MAX_MESSAGES) this.messages.shift();
    const pending = stored.pendingConfirmation ? ' (pending confirmation)' : '';
    this.print(`outbox: ${stored.channel} to ${maskRecipient(stored.channel, stored.to)}${pending}: ${JSON.stringify(stored.subject ?? stored.text)}`);
    return stored;
  }

  list(): readonly OutboxMessage[] {
    return [...this.messages];
  }

  /** The local routes of the outbox; undefined for any other path. */
  async route(request: IncomingMessage, path: string): Promise<{ status: number; body: unknown } | undefined> {
    if (request.method === 'GET' && path === '/local/outbox') return { status: 200, body: { messages: this.list() } };
    if (request.method === 'POST' && path === '/local/outbox/sms') {
      const body = await readJson(request);
      const { to, text } = (body ?? {}) as { to?: unknown; text?: unknown };
      if (typeof to !== 'string' || !/^\+[1-9]\d{1,14}$/.test(to) || typeof text !== 'string' || text === '') {
        return { status: 400, body: { message: 'Expected {"to": "<E.164 number>", "text": "<message>"}' } };
      }
      const message = this.record({ channel: 'sms', to, text, via: 'sms' });
      return { status: 202, body: { id: message.id } };
    }
    if (request.method === 'POST' && path === '/local/outbox/email') {
      const { from, to, subject, text } = ((await readJson(request)) ?? {}) as Record<string, unknown>;
      const address = /^[^\s@]+@[^\s@]+$/;
      if (typeof from !== 'string' || !address.test(from) || typeof to !== 'string' || !address.test(to) || typeof subject !== 'string' || typeof text !== 'string') {
        return { status: 400, body: { message: 'Expected {"from": "<address>", "to": "<address>", "subject": "<subject>", "text": "<message>"}' } };
      }
      const message = this.record({ channel: 'email', from, to, subject, text, via: 'email' });
      return { status: 202, body: { id: message.id } };
    }
    return undefined;
  }
}

function defaultPrint(line: string): void {
  // Tests silence the handlers' logs the same way; the outbox follows suit.
  if (process.env.POWERTOOLS_LOG_LEVEL !== 'SILENT') console.log(line);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_SMS_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Does for the topic's email and SMS subscribers what SNS does on AWS: a queue subscribed to the
 * topic receives every message published to it; for each one the tap asks the SNS API which
 * email and SMS subscriptions exist and which filter policies admit the message, and records one
 * outbox message per subscriber. The filter check covers the policies Herald writes (exact
 * string values per attribute); a policy with other operators is reported, not guessed at.
 */
export class TopicTap {
  private readonly abort = new AbortController();
  private running?: Promise<void>;

  private constructor(
    private readonly sns: SNSClient,
    private readonly sqs: SQSClient,
    private readonly topicArn: string,
    private readonly queueUrl: string,
    private readonly outbox: LocalOutbox,
  ) {}

  static async start(endpoints: LocalEndpoints, topicArn: string, outbox: LocalOutbox): Promise<TopicTap> {
    const common = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const sns = new SNSClient({ ...common, endpoint: endpoints.sns });
    const sqs = new SQSClient({ ...common, endpoint: endpoints.sqs });
    const topicName = topicArn.split(':').pop()!;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${topicName}-outbox-tap` }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn! }));
    const tap = new TopicTap(sns, sqs, topicArn, QueueUrl!, outbox);
    tap.running = tap.poll();
    return tap;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    this.sns.destroy();
    this.sqs.destroy();
  }

  private async poll(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        const { Messages = [] } = await this.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
          { abortSignal: this.abort.signal },
        );
        if (Messages.length === 0) continue;
        const subscribers = await this.subscribers();
        for (const message of Messages) this.deliver(JSON.parse(message.Body ?? '{}') as SnsEnvelope, subscribers);
        await this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      } catch (error) {
        if (this.abort.signal.aborted) return;
        console.error('Local outbox: reading the notifications topic failed', error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private deliver(envelope: SnsEnvelope, subscribers: readonly Subscriber[]): void {
    const attributes = Object.fromEntries(Object.entries(envelope.MessageAttributes ?? {}).map(([name, value]) => [name, value.Value]));
    for (const subscriber of subscribers) {
      const verdict = admits(subscriber.filterPolicy, attributes);
      if (verdict === 'unsupported') {
        console.warn(`Local outbox: the filter policy of ${subscriber.arn} uses operators this tap does not evaluate`);
        continue;
      }
      if (!verdict) continue;
      this.outbox.record({
        channel: subscriber.protocol,
        to: subscriber.endpoint,
        ...(envelope.Subject ? { subject: envelope.Subject } : {}),
        text: envelope.Message ?? '',
        ...(envelope.Timestamp ? { at: envelope.Timestamp } : {}),
        via: 'topic',
        pendingConfirmation: subscriber.pendingConfirmation,
        attributes,
      });
    }
  }

  private async subscribers(): Promise<Subscriber[]> {
    const subscriptions: Subscription[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: this.topicArn, NextToken }));
      subscriptions.push(...(page.Subscriptions ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    const people = subscriptions.filter((s) => s.Protocol === 'email' || s.Protocol === 'sms');
    return Promise.all(
      people.map(async (s) => {
        const { Attributes = {} } = await this.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: s.SubscriptionArn }));
        return {
          arn: s.SubscriptionArn!,
          protocol: s.Protocol as NotificationChannel,
          endpoint: s.Endpoint!,
          pendingConfirmation: Attributes.PendingConfirmation === 'true',
          filterPolicy: Attributes.FilterPolicy ? (JSON.parse(Attributes.FilterPolicy) as Record<string, unknown>) : undefined,
        };
      }),
    );
  }
}

interface SnsEnvelope {
  readonly Message?: string;
  readonly Subject?: string | null;
  readonly Timestamp?: string;
  readonly MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

interface Subscriber {
  readonly arn: string;
  readonly protocol: NotificationChannel;
  readonly endpoint: string;
  readonly pendingConfirmation: boolean;
  readonly filterPolicy?: Record<string, unknown>;
}

/**
 * SNS's rule for exact string values: every key of the policy must match, any value of a key will
 * do; a top-level `$or` of such clauses (how Herald shares one subscription between uses) admits
 * what any clause admits.
 */
export function admits(policy: Record<string, unknown> | undefined, attributes: Record<string, string>): boolean | 'unsupported' {
  if (!policy) return true;
  if (Array.isArray(policy.$or) && Object.keys(policy).length === 1) {
    const verdicts = (policy.$or as Record<string, unknown>[]).map((clause) => admits(clause, attributes));
    return verdicts.includes('unsupported') ? 'unsupported' : verdicts.includes(true);
  }
  for (const [key, allowed] of Object.entries(policy)) {
    if (!Array.isArray(allowed) || !allowed.every((value) => typeof value === 'string')) return 'unsupported';
    const value = attributes[key];
    if (value === undefined || !allowed.includes(value)) return false;
  }
  return true;
}
