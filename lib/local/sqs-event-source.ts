import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { functions, type QueueSpec } from '../topology';
import { type QueueName } from '../../lambdas/settings/retry';
import { TenantLoad } from './fair-queue';
import { lambdaContext, loadHandler } from './lambda-context';

type SqsHandler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse | void>;

/** Batches' worth of noisy tenants' messages the event source holds back at most. */
const MAX_HELD_BATCHES = 10;
/** Lambda invokes a batch before its records would pass the 6 MB synchronous payload limit. */
export const MAX_BATCH_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** How long a receive inside a batching window waits before the window is checked again. */
const WINDOW_POLL_MS = 50;

/**
 * Emulates Lambda's SQS event source mapping for one queue: long-polls, hands the consumer the
 * same event Lambda would (records with receipt handles, attributes incl. ApproximateReceiveCount,
 * message attributes, eventSourceARN), deletes what succeeded, and leaves the reported
 * `batchItemFailures` on the queue so SQS retries them and dead-letters them after maxReceiveCount.
 *
 * Fair queues: fauxqs serves in arrival order, so the event source applies AWS's rule itself
 * (./fair-queue.ts). A received message of a noisy tenant is held back while the queue may
 * still hold quiet tenants' messages, and handed over once a receive comes back empty, once
 * `MAX_HELD_BATCHES` batches are held, or once it has been held for a third of its visibility
 * timeout (it must be handled before it reappears).
 *
 * Batching as AWS documents it for standard queues: with `maxBatchingWindowSeconds` at 0 a
 * poller invokes with what one receive brought; above 0 it keeps receiving and invokes once the
 * batch holds `batchSize` records, the window since its first record has passed, or the next
 * record would take the batch past 6 MB (that record opens the next batch).
 */
export class SqsEventSource {
  private running = false;
  private loops: Promise<void>[] = [];
  private inFlight = 0;
  private readonly load = new TenantLoad();
  private held: { readonly message: Message; readonly tenant: string; readonly receivedAt: number }[] = [];
  /** Pollers filling a batching window with messages already received. */
  private gathering = 0;
  /** Records received that did not fit the last batch: they open the next one. */
  private readonly carried: Message[] = [];

  constructor(
    private readonly client: SQSClient,
    private readonly queueName: QueueName,
    private readonly spec: QueueSpec,
    private readonly queueUrl: string,
    private readonly queueArn: string,
    private readonly pollers = Math.min(spec.maxConcurrency, 4),
    /** Apply the fair-queue rule (off: arrival order, as fauxqs serves). */
    private readonly fair = true,
    /** The batching window; the queue's own unless a caller overrides it. */
    private batchingWindowSeconds = spec.maxBatchingWindowSeconds,
  ) {}

  /** Changes the batching window from the next batch on (undefined: the queue's own). */
  setBatchingWindow(seconds: number | undefined): void {
    this.batchingWindowSeconds = seconds ?? this.spec.maxBatchingWindowSeconds;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.pollers }, () => this.poll());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Batches being handled right now; a test can wait for the pipeline to go quiet. */
  get busy(): boolean {
    return this.inFlight > 0 || this.gathering > 0 || this.carried.length > 0;
  }

  private async poll(): Promise<void> {
    const handler = loadHandler<SqsHandler>(functions[this.spec.consumer]);
    while (this.running) {
      let messages: Message[] = [];
      if (this.held.length >= MAX_HELD_BATCHES * this.spec.batchSize) {
        await this.handOver(handler, this.fairBatch([]));
        continue;
      }
      try {
        messages = await this.nextBatch();
      } catch (error) {
        if (!this.running) return;
        console.error(`[${this.queueName}] receive failed: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      await this.handOver(handler, this.fairBatch(messages));
    }
  }

  private receive(maxMessages: number, waitTimeSeconds: number): Promise<Message[]> {
    return this.client
      .send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: Math.min(maxMessages, 10),
          WaitTimeSeconds: waitTimeSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      )
      .then((received) => received.Messages ?? []);
  }

  /** One batch as the event source mapping would invoke it (see the class comment). */
  private async nextBatch(): Promise<Message[]> {
    const batch = this.carried.splice(0);
    // Short enough that stop() returns promptly, long enough not to spin.
    if (batch.length === 0) batch.push(...(await this.receive(this.spec.batchSize, 1)));
    const windowMs = this.batchingWindowSeconds * 1000;
    if (windowMs <= 0 || batch.length === 0) return this.withinLimits(batch);
    this.gathering++;
    try {
      const closesAt = Date.now() + windowMs;
      while (this.running && batch.length < this.spec.batchSize && this.payloadBytes(batch) <= MAX_BATCH_PAYLOAD_BYTES) {
        const left = closesAt - Date.now();
        if (left <= 0) break;
        const more = await this.receive(this.spec.batchSize - batch.length, left >= 1000 ? 1 : 0);
        batch.push(...more);
        if (more.length === 0 && left < 1000) await new Promise((resolve) => setTimeout(resolve, Math.min(left, WINDOW_POLL_MS)));
      }
      return this.withinLimits(batch);
    } finally {
      this.gathering--;
    }
  }

  /** The records one invocation takes (at most `batchSize`, within 6 MB); the rest open the next batch. */
  private withinLimits(batch: Message[]): Message[] {
    let bytes = 0;
    let fits = 0;
    for (const message of batch) {
      bytes += Buffer.byteLength(message.Body ?? '');
      if (fits === this.spec.batchSize || (fits > 0 && bytes > MAX_BATCH_PAYLOAD_BYTES)) break;
      fits++;
    }
    this.carried.push(...batch.slice(fits));
    return batch.slice(0, fits);
  }

  private payloadBytes(batch: readonly Message[]): number {
    return batch.reduce((sum, message) => sum + Buffer.byteLength(message.Body ?? ''), 0);
  }

  private async handOver(handler: SqsHandler, batch: { message: Message; tenant: string }[]): Promise<void> {
    if (batch.length === 0) return;
    this.inFlight++;
    const tenants = batch.map((entry) => entry.tenant);
    tenants.forEach((tenant) => this.load.received(tenant));
    const started = Date.now();
    try {
      await this.invoke(
        handler,
        batch.map((entry) => entry.message),
      );
    } catch (error) {
      // Like Lambda's event source mapping, a failed delete never stops the polling: the
      // undeleted messages come back after their visibility timeout.
      console.error(`[${this.queueName}] deleting a handled batch failed: ${(error as Error).message}`);
    } finally {
      this.inFlight--;
      const now = Date.now();
      tenants.forEach((tenant) => this.load.settled(tenant, now - started, now));
    }
  }

  /** The batch to hand over now from what was just received and what is held back; the rest stays held. */
  private fairBatch(received: Message[]): { message: Message; tenant: string }[] {
    const now = Date.now();
    const waiting = [...this.held, ...received.map((message) => ({ message, tenant: this.tenantOf(message), receivedAt: now }))];
    if (!this.fair) {
      this.held = [];
      return waiting;
    }
    const overdueAfter = (this.spec.visibilityTimeoutSeconds * 1000) / 3;
    const overdue = waiting.filter((entry) => now - entry.receivedAt >= overdueAfter).slice(0, this.spec.batchSize);
    const rest = waiting.filter((entry) => !overdue.includes(entry));
    const room = this.spec.batchSize - overdue.length;
    const { quiet, noisy } = this.load.choose(rest, (entry) => entry.tenant, room, now);
    // SQS looks at the whole queue; fauxqs shows it a receive at a time. So noisy tenants' messages
    // wait while the queue may hold more (the last receive brought some) and the hold has room.
    const lookFurther = received.length > 0 && waiting.length - quiet.length < MAX_HELD_BATCHES * this.spec.batchSize;
    const batch = [...overdue, ...quiet, ...(lookFurther ? [] : noisy)];
    const taken = new Set(batch);
    this.held = waiting.filter((entry) => !taken.has(entry));
    return batch;
  }

  private tenantOf(message: Message): string {
    const group = message.Attributes?.MessageGroupId;
    if (group) return group;
    try {
      const value = (JSON.parse(message.Body ?? '') as Record<string, unknown>)[this.spec.tenantField];
      if (typeof value === 'string') return value;
    } catch {
      // A body that is not JSON is its own tenant, as a message without a group id is on AWS.
    }
    return message.MessageId ?? '';
  }

  private async invoke(handler: SqsHandler, messages: Message[]): Promise<void> {
    const records = messages.map((message) => toSqsRecord(message, this.queueArn));
    let failed: Set<string>;
    try {
      const response = await handler({ Records: records }, lambdaContext(this.spec.consumer, functions[this.spec.consumer]));
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (error) {
      // A thrown handler fails the whole batch, exactly as on AWS.
      console.error(`[${this.queueName}] consumer threw: ${(error as Error).message}`);
      failed = new Set(records.map((r) => r.messageId));
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length === 0) return;
    // DeleteMessageBatch takes 10 entries at most; a batch larger than that is deleted in slices.
    for (let start = 0; start < done.length; start += 10) {
      await this.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: done.slice(start, start + 10).map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
}

/** An SQS message as Lambda's event source mapping hands it to a consumer. */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}
